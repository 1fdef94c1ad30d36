package synth

import "time"

// Event types the generator emits. Stored and ListMemberUploaded are rare
// types an analyzer is expected not to know.
const (
	Accepted           = "accepted"
	Rejected           = "rejected"
	Delivered          = "delivered"
	Failed             = "failed"
	Opened             = "opened"
	Clicked            = "clicked"
	Unsubscribed       = "unsubscribed"
	Complained         = "complained"
	Stored             = "stored"
	ListMemberUploaded = "list_member_uploaded"
)

// eventTypes are the types Generate emits, for counting by index.
var eventTypes = [...]string{Accepted, Rejected, Delivered, Failed, Opened, Clicked, Unsubscribed, Complained, Stored, ListMemberUploaded}

func typeIndex(t string) int {
	switch t {
	case Accepted:
		return 0
	case Rejected:
		return 1
	case Delivered:
		return 2
	case Failed:
		return 3
	case Opened:
		return 4
	case Clicked:
		return 5
	case Unsubscribed:
		return 6
	case Complained:
		return 7
	case Stored:
		return 8
	}
	return 9
}

// Failure severities and reasons, as Mailgun writes them.
const (
	Temporary = "temporary"
	Permanent = "permanent"

	ReasonGeneric             = "generic"
	ReasonBounce              = "bounce"
	ReasonESPBlock            = "espblock"
	ReasonGreylisted          = "greylisted"
	ReasonBlacklisted         = "blacklisted"
	ReasonOld                 = "old"
	ReasonSuppressBounce      = "suppress-bounce"
	ReasonSuppressUnsubscribe = "suppress-unsubscribe"
	ReasonSuppressComplaint   = "suppress-complaint"
)

// Event is one generated Mailgun event. Events are never reused: a callback
// may keep them. All strings and slices reachable from an Event are shared
// and must not be modified.
type Event struct {
	Time int64  // microseconds since the Unix epoch, UTC
	Type string // one of the event type constants
	ID   string // 22-character id, unique within a UTC day only
	// Msg is the message the event belongs to; events of one message (one
	// recipient) share it.
	Msg *Message
	// Status is set on delivered and failed events.
	Status *DeliveryStatus
	// Engagement is set on opened, clicked and unsubscribed events.
	Engagement *Engagement
	// Reject is set on rejected events.
	Reject *Reject
	// Other holds the payload of the rare event types (stored, list_*).
	Other *OtherEvent
}

// Message holds what every event of one message to one recipient shares.
type Message struct {
	SendingDomain   string
	SendingIP       string // the IP it was (or would have been) sent from
	ID              string // Message-Id header without angle brackets
	From            string // From header, e.g. "Brightcart <no-reply@mg.brightcart.io>"
	Sender          string // envelope sender
	To              string // To header
	Subject         string
	Recipient       string // lower-case address; empty on rejected messages
	RecipientDomain string
	// Provider is Mailgun's recipient-provider ("Gmail", "Yahoo", ...), or
	// empty when Mailgun would leave the field out.
	Provider      string
	Tags          []string
	UserVariables string // a compact JSON object
	StorageKey    string
	Size          int
	Attachments   []Attachment
	Method        string // HTTP or SMTP
	accepted      int64  // accept time
	sender        int    // index of the sending domain
}

// Attachment describes one attachment of a message.
type Attachment struct {
	Filename    string
	ContentType string
	Size        int
}

// DeliveryStatus is the delivery-status object of delivered and failed events
// plus the severity and reason of failures.
type DeliveryStatus struct {
	Severity     string // failed only: temporary or permanent
	Reason       string // failed only: generic, bounce, old, suppress-bounce, ...
	Code         int    // SMTP code or a Mailgun-internal one (498, 602, 605, ...)
	EnhancedCode string // may be empty even when Message contains one
	Message      string // the remote server's reply as Mailgun records it
	Description  string // Mailgun's own text
	MXHost       string // empty when no SMTP session took place
	Attempt      int
	RetrySeconds int // temporary failures: seconds to the next attempt
	SessionMS    int
	// FirstAttemptMS is the time from acceptance to the first attempt.
	FirstAttemptMS int
	TLS            bool
	CertVerified   bool
	BounceType     string // hard or soft on permanent failures with an SMTP reply
	DelayedBounce  bool   // a bounce that arrived after the message was delivered
	// LastCode and LastMessage repeat the previous attempt's reply on
	// later attempts (the Logs API shows them).
	LastCode    int
	LastMessage string
}

// Engagement describes the person (or proxy) behind an open, click or
// unsubscribe.
type Engagement struct {
	IP     string
	Geo    *Geo
	Client *Client
	URL    string   // clicked
	Tags   []string // unsubscribed: the tags unsubscribed from, ["*"] for all
}

// Geo is a geolocation as Mailgun reports it.
type Geo struct{ Country, Region, City string }

// Client is Mailgun's client-info.
type Client struct {
	Type, OS, DeviceType, Name, UserAgent string
}

// Reject is the reject object of a rejected event.
type Reject struct{ Reason, Description string }

// OtherEvent is the payload of the rare event types.
type OtherEvent struct {
	ListAddress   string // list_member_uploaded
	MemberAddress string
	TaskID        string
}

// When returns the event time.
func (e *Event) When() time.Time { return utcMicro(e.Time) }

// Day returns the UTC day number of the event (days since the epoch):
// Mailgun event ids are unique only within it.
func (e *Event) Day() int64 { return e.Time / (86400 * 1e6) }

// SendingDomain returns the sending domain the event belongs to.
func (e *Event) SendingDomain() string { return e.Msg.SendingDomain }

// Recipient returns the recipient address, or "" (rejected events).
func (e *Event) Recipient() string { return e.Msg.Recipient }

// LogLevel returns Mailgun's log-level for the event.
func (e *Event) LogLevel() string {
	switch e.Type {
	case Failed:
		if e.Status.Severity == Temporary {
			return "warn"
		}
		return "error"
	case Rejected, Complained:
		return "warn"
	}
	return "info"
}

// StorageURL returns the stored-message URL; it names the sending domain,
// which is how readers of Events API items tell the domain apart.
func (m *Message) StorageURL() string {
	return string(m.appendStorageURL(nil))
}

const storageBase = "https://storage-us-east4.api.mailgun.net/v3/domains/"

func (m *Message) appendStorageURL(dst []byte) []byte {
	dst = append(dst, storageBase...)
	dst = append(dst, m.SendingDomain...)
	dst = append(dst, "/messages/"...)
	return append(dst, m.StorageKey...)
}
