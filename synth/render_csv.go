package synth

import (
	"strconv"
	"strings"
)

// CSVHeader is the header row of the events CSV.
var CSVHeader = []string{
	"timestamp", "event", "id", "domain", "recipient", "recipient-domain", "recipient-provider",
	"severity", "reason", "delivery-status.code", "delivery-status.enhanced-code",
	"delivery-status.message", "delivery-status.description", "delivery-status.mx-host",
	"delivery-status.attempt-no", "message-id", "subject", "from", "tags",
}

// CSVRecord appends the event's fields, in CSVHeader order, to dst and
// returns it. Tags are joined with ";".
func (e *Event) CSVRecord(dst []string) []string {
	m := e.Msg
	var b [32]byte
	dst = append(dst,
		string(appendISO(b[:0], e.Time, 6)), e.Type, e.ID, m.SendingDomain,
		m.Recipient, m.RecipientDomain, m.Provider)
	switch {
	case e.Status != nil:
		st := e.Status
		dst = append(dst, st.Severity, st.Reason, strconv.Itoa(st.Code), st.EnhancedCode,
			st.Message, st.Description, st.MXHost, strconv.Itoa(st.Attempt))
	case e.Reject != nil:
		dst = append(dst, "", e.Reject.Reason, "", "", "", e.Reject.Description, "", "")
	default:
		dst = append(dst, "", "", "", "", "", "", "", "")
	}
	return append(dst, m.ID, m.Subject, m.From, strings.Join(m.Tags, ";"))
}

// Suppression CSV headers, in Mailgun's import format.
var (
	BouncesCSVHeader      = []string{"address", "code", "error", "created_at"}
	UnsubscribesCSVHeader = []string{"address", "tags", "created_at"}
	ComplaintsCSVHeader   = []string{"address", "created_at"}
)

// CSVRecord returns the bounce as a row of the bounces import CSV.
func (b Bounce) CSVRecord() []string {
	return []string{b.Address, b.Code, b.Error, b.CreatedAt.Format(SuppressionTimeLayout)}
}

// CSVRecord returns the entry as a row of the unsubscribes import CSV;
// several tags are joined with ",".
func (u Unsubscribe) CSVRecord() []string {
	return []string{u.Address, strings.Join(u.Tags, ","), u.CreatedAt.Format(SuppressionTimeLayout)}
}

// CSVRecord returns the entry as a row of the complaints import CSV.
func (c Complaint) CSVRecord() []string {
	return []string{c.Address, c.CreatedAt.Format(SuppressionTimeLayout)}
}
