package maildiag

// Actions recorded in the audit table.
const (
	AuditRemove  = "remove"  // a suppression removed from a list (or a dry run of it)
	AuditRestore = "restore" // a suppression put back from a backup
	AuditResend  = "resend"  // a stored message sent again
)

// Results recorded in the audit table.
const (
	AuditDryRun   = "dry-run"   // shown, not done
	AuditRemoved  = "removed"   // deleted from the list
	AuditNotFound = "not-found" // the list no longer had it: already removed
	AuditFailed   = "failed"    // the API call failed; Error says why
	AuditRestored = "restored"  // added back to the list
	AuditSent     = "sent"      // resent; Detail is Mailgun's id of the new message
	AuditRefused  = "refused"   // not done: maildiag refused it (Error says why)
	AuditGone     = "gone"      // the stored message has expired at Mailgun
)

// AuditEntry is one action maildiag took on the Mailgun account.
type AuditEntry struct {
	ID            int64  `json:"id"`
	AtUS          int64  `json:"at_us"`
	Run           string `json:"run"` // one invocation of a command
	User          string `json:"os_user"`
	Action        string `json:"action"`
	Command       string `json:"command"`
	Pattern       string `json:"pattern,omitempty"`
	Filters       string `json:"filters,omitempty"` // JSON
	Address       string `json:"address,omitempty"`
	List          string `json:"list,omitempty"`
	SendingDomain string `json:"sending_domain,omitempty"`
	BackupFile    string `json:"backup_file,omitempty"`
	MessageID     string `json:"message_id,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	OriginalTo    string `json:"original_to,omitempty"`
	ApprovedBy    string `json:"approved_by,omitempty"`
	Result        string `json:"result"`
	Error         string `json:"error,omitempty"`
	Detail        string `json:"detail,omitempty"`
}

// AuditFilter selects audit entries. Empty fields select everything.
type AuditFilter struct {
	SinceUS int64 // entries at or after; 0: all
	Actions []string
	Results []string
}
