package analyze

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// Event names Mailgun's log search uses for failed events by severity.
const (
	PermanentFail = "permanent-fail"
	TemporaryFail = "temporary-fail"
)

// EventFilter selects events for a log search (maildiag events). Empty
// fields do not filter; several values of one field are alternatives.
type EventFilter struct {
	Types          []string // event types; PermanentFail and TemporaryFail are failed events of that severity
	To             *Pattern // recipient pattern (wildcards)
	ToContains     string   // recipient address contains, case-insensitive
	From           string   // From header contains, case-insensitive
	Subject        string   // subject contains, case-insensitive
	Codes          []int
	Enhanced       []string // exact, or a prefix ending in '.'
	Classes        []string
	Severities     []string // permanent | temporary: of the failed events (other types listed pass)
	SendingDomains []string
	SendingIPs     []string
	MX             string // MX host, exact or a glob of * and ?
	Provider       string // Mailgun's recipient-provider, case-insensitive
	Gateway        string // who receives the mail: Gmail, Microsoft 365, Mimecast, ...
	Tags           []string
	Vars           map[string]string // user-variables key -> value
	MessageID      string
	Since, Until   time.Time // [Since, Until); zero: open
	Asc            bool      // oldest first
	Limit          int       // events in the page; 0: all
	Cursor         string    // where the last page ended (EventPage.Next)
	RawOnly        bool      // each event's Time, Type and Raw suffice (an export)
}

// Cursor is a position in the order of a search: an event's time and its
// order of storing, which break ties of time. Its text is EventPage.Next.
type Cursor struct{ TS, Seq int64 }

func (c Cursor) String() string {
	return strconv.FormatInt(c.TS, 10) + "." + strconv.FormatInt(c.Seq, 10)
}

// ParseCursor reads a cursor's text.
func ParseCursor(s string) (Cursor, error) {
	a, b, ok := strings.Cut(s, ".")
	ts, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return Cursor{}, fmt.Errorf("cursor %q: not one printed by maildiag events", s)
	}
	return Cursor{ts, seq}, nil
}

// Failure tells whether the filter selects only failed or rejected events
// by what only those carry (a failure code, class, enhanced code).
func (f *EventFilter) Failure() bool {
	if len(f.Enhanced) > 0 || len(f.Classes) > 0 {
		return true
	}
	for _, c := range f.Codes {
		if c < 300 {
			return false
		}
	}
	return len(f.Codes) > 0
}

// Routed tells whether the filter selects by route (MX host, provider or
// gateway).
func (f *EventFilter) Routed() bool { return f.MX != "" || f.Provider != "" || f.Gateway != "" }

// MatchRoute tells whether a route as the indexes store it (provider,
// gateway and MX host, each followed by a line break) passes the filter's
// route fields.
func (f *EventFilter) MatchRoute(route string) bool {
	parts := strings.SplitN(route, "\n", 4)
	if len(parts) < 3 {
		return false
	}
	return (f.Provider == "" || strings.EqualFold(parts[0], f.Provider)) &&
		(f.Gateway == "" || strings.EqualFold(parts[1], f.Gateway)) &&
		(f.MX == "" || maildiag.MatchGlob(strings.ToLower(f.MX), strings.ToLower(parts[2])))
}

// MatchVars tells whether an event's original JSON has every user-variable
// of vars with the value given (numbers and booleans compared as written).
func MatchVars(raw []byte, vars map[string]string) bool {
	if len(vars) == 0 {
		return true
	}
	var doc struct {
		UV  map[string]json.RawMessage `json:"user-variables"`
		UV2 map[string]json.RawMessage `json:"user_variables"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return false
	}
	uv := doc.UV
	if uv == nil {
		uv = doc.UV2
	}
	for k, want := range vars {
		v, ok := uv[k]
		if !ok {
			return false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		if s != want {
			return false
		}
	}
	return true
}

// EventName is how an event is listed: failed events by severity, as
// Mailgun's log search names them.
func EventName(e *maildiag.Event) string {
	if e.Type == maildiag.Failed {
		switch e.Severity {
		case "permanent":
			return PermanentFail
		case "temporary":
			return TemporaryFail
		}
	}
	return e.Type
}

// ParseEventNames reads --event values: Mailgun's event types and its log
// search's names (Permanent Fail, temporary-fail, ...).
func ParseEventNames(names []string) (types, severities []string, err error) {
	known := []string{maildiag.Accepted, maildiag.Delivered, maildiag.Failed, maildiag.Opened, maildiag.Clicked,
		maildiag.Unsubscribed, maildiag.Complained, maildiag.Stored, maildiag.Rejected}
	for _, n := range names {
		k := strings.ToLower(strings.TrimSpace(n))
		k = strings.NewReplacer(" ", "-", "_", "-").Replace(k)
		switch k {
		case PermanentFail, "permanent-failure", "permanent":
			types, severities = append(types, maildiag.Failed), append(severities, "permanent")
			continue
		case TemporaryFail, "temporary-failure", "temporary":
			types, severities = append(types, maildiag.Failed), append(severities, "temporary")
			continue
		}
		ok := false
		for _, t := range known {
			if k == t {
				ok = true
			}
		}
		if !ok {
			return nil, nil, fmt.Errorf("--event %q: not an event (accepted, delivered, failed, permanent-fail, temporary-fail, opened, clicked, unsubscribed, complained, stored, rejected)", n)
		}
		types = append(types, k)
	}
	// Failed with no severity named takes both.
	for _, t := range types {
		if t == maildiag.Failed && len(severities) > 0 && len(severities) < countOf(types, maildiag.Failed) {
			severities = nil
		}
	}
	return types, severities, nil
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// EventItem is one event of a search, as the events command's JSON and
// the server's API give it.
type EventItem struct {
	Time          time.Time `json:"time"`
	Event         string    `json:"event"` // permanent-fail, temporary-fail, or the type
	Type          string    `json:"type"`
	ID            string    `json:"id"`
	Recipient     string    `json:"recipient"`
	SendingDomain string    `json:"sending_domain"`
	Subject       string    `json:"subject"`
	From          string    `json:"from"`
	Code          int       `json:"code,omitempty"`
	Enhanced      string    `json:"enhanced_code,omitempty"`
	Class         string    `json:"class,omitempty"`
	Severity      string    `json:"severity,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	MXHost        string    `json:"mx_host,omitempty"`
	Provider      string    `json:"provider,omitempty"`
	Gateway       string    `json:"gateway,omitempty"`
	SendingIP     string    `json:"sending_ip,omitempty"`
	Reply         string    `json:"reply,omitempty"`
	Description   string    `json:"description,omitempty"`
	Tags          []string  `json:"tags,omitempty"`
	MessageID     string    `json:"message_id,omitempty"`
}

// ItemOf is an event as a search lists it.
func ItemOf(e *maildiag.Event) EventItem {
	return EventItem{Time: e.Time(), Event: EventName(e), Type: e.Type, ID: e.ID, Recipient: e.Recipient,
		SendingDomain: e.SendingDomain, Subject: e.Subject, From: e.From, Code: e.Code, Enhanced: e.EnhancedCode,
		Class: e.Class, Severity: e.Severity, Reason: e.Reason, MXHost: e.MXHost, Provider: e.Provider, Gateway: e.Gateway,
		SendingIP: e.SendingIP, Reply: e.Reply, Description: e.Description, Tags: e.Tags, MessageID: e.MessageID}
}

// Words is what an event says in one line: the remote reply, else
// Mailgun's description.
func (it *EventItem) Words() string {
	if it.Reply != "" {
		return it.Reply
	}
	return it.Description
}
