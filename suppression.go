package maildiag

// Suppression lists of a Mailgun sending domain.
const (
	ListBounces      = "bounces"
	ListComplaints   = "complaints"
	ListUnsubscribes = "unsubscribes"
	ListAllowlist    = "allowlist"
)

// Suppression is one entry of a sending domain's suppression list.
type Suppression struct {
	SendingDomain string
	List          string // one of the List* constants
	Address       string // lower-cased; for a domain allowlist entry, the domain
	Kind          string // allowlist only: address | domain
	Code          string // bounces: "550" or "5.1.1"
	Error         string // bounces: the reply that put it there
	Tags          []string
	Reason        string // allowlist reason
	CreatedUS     int64  // microseconds since the epoch; 0 when unknown
	Raw           []byte // original record (JSON object or CSV row as JSON)
}
