package maildiag

import (
	"strings"
	"time"
)

// Event types Mailgun emits. Other values are kept as they come.
const (
	Accepted     = "accepted"
	Rejected     = "rejected"
	Delivered    = "delivered"
	Failed       = "failed"
	Opened       = "opened"
	Clicked      = "clicked"
	Unsubscribed = "unsubscribed"
	Complained   = "complained"
	Stored       = "stored"
)

// Tri is a boolean that may be unknown, as Mailgun omits some flags.
type Tri int8

// Tri values.
const (
	Unknown Tri = 0
	Yes     Tri = 1
	No      Tri = -1
)

// TriOf converts a bool to Tri.
func TriOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// Event is one Mailgun event normalised from any of the shapes Mailgun
// produces (Events API, Logs API, webhooks, CSV). Raw is the original JSON,
// kept so that fields can be re-derived later and nothing is lost.
type Event struct {
	TimeUS          int64  // microseconds since the Unix epoch, UTC
	Type            string // accepted, delivered, failed, ... (unknown types kept)
	ID              string // Mailgun event id: unique only within a UTC day
	SendingDomain   string
	Recipient       string // lower-cased address
	RecipientDomain string // lower-cased
	Provider        string // recipient-provider, e.g. Gmail
	Severity        string // temporary | permanent (failed events)
	Reason          string // generic, bounce, suppress-bounce, old, ... or a reject reason
	LogLevel        string
	Code            int    // SMTP or Mailgun-internal code; 0 when absent
	EnhancedCode    string // RFC 3463 code, from the field or else the reply text
	Reply           string // the remote server's reply (delivery-status.message)
	Description     string // Mailgun's description
	MXHost          string
	Attempt         int
	RetrySeconds    int
	SessionMS       int    // session length in milliseconds
	BounceType      string // hard | soft (Logs API)
	DelayedBounce   bool
	TLS             Tri
	SendingIP       string
	MessageID       string // message-id header without angle brackets
	Subject         string
	From            string
	Tags            []string
	StorageURL      string
	Raw             []byte // the original JSON object for this event

	// Derived by the analyses (analyze.Derive) and stored so that queries
	// can group by them; re-derived from Raw when the rules change.
	Class   string // failure class of failed and rejected events, e.g. user-unknown
	Rule    string // id of the classification rule that decided Class
	Gateway string // who receives mail for the recipient: Gmail, Microsoft 365, Mimecast, ...

}

// Time returns the event time.
func (e *Event) Time() time.Time { return time.UnixMicro(e.TimeUS).UTC() }

// DomainOf returns the lower-cased domain of an address, or "" when it has none.
func DomainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}
