package maildiag

// Roles of the team server's users, each allowed what the one before it
// may do and more.
const (
	RoleViewer = "viewer" // search, trace, reports
	RoleAgent  = "agent"  // also remove bounces, resend to the original recipient
	RoleLead   = "lead"   // also remove complaints and unsubscribes, approve a resend elsewhere
)

// Roles lists the roles, least allowed first.
var Roles = []string{RoleViewer, RoleAgent, RoleLead}

// RoleRank orders roles: 0 for an unknown one.
func RoleRank(role string) int {
	for i, r := range Roles {
		if r == role {
			return i + 1
		}
	}
	return 0
}

// User is someone the team server knows.
type User struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedUS int64  `json:"created_us"`
}

// Session is a browser's log-in to the team server.
type Session struct {
	User      string
	CSRF      string // the token its forms carry
	ExpiresUS int64
}

// Resend request states.
const (
	ResendPending  = "pending"
	ResendSent     = "sent"
	ResendDeclined = "declined"
	ResendRefused  = "refused" // a guard refused it at approval
	ResendFailed   = "failed"
)

// ResendRequest is a resend to an address other than the message's
// recipient, which a second person with the lead role approves.
type ResendRequest struct {
	ID          int64  `json:"id"`
	Query       string `json:"query"` // event id or message-id
	To          string `json:"to"`
	Reason      string `json:"reason,omitempty"`
	RequestedBy string `json:"requested_by"`
	RequestedUS int64  `json:"requested_us"`
	DecidedBy   string `json:"decided_by,omitempty"`
	DecidedUS   int64  `json:"decided_us,omitempty"`
	Status      string `json:"status"`
	Result      string `json:"result,omitempty"`
}

// Lease is a job that one process at a time runs.
type Lease struct {
	Name    string
	Holder  string
	UntilUS int64
	Note    string
}
