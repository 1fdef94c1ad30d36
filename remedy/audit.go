package remedy

import (
	"context"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

// Writer records what remediation did, in transactions it commits.
type Writer interface {
	AddAudit(ctx context.Context, e *maildiag.AuditEntry) error
	MarkSuppressionRemoved(ctx context.Context, sendingDomain, list, address string, atUS int64) error
	AddSuppressions(ctx context.Context, ss []maildiag.Suppression, importID, seenUS int64) (int, error)
	Commit(ctx context.Context) error
}

// AuditLog reads the audit.
type AuditLog interface {
	Audit(ctx context.Context, f maildiag.AuditFilter) ([]maildiag.AuditEntry, error)
}

// Identity is who acts, as the audit records it: the door that calls the
// engine knows (the OS user and the command line for maildiag, the
// logged-in user and the request for a server).
type Identity struct {
	Run     string // one invocation: every entry it records shares it
	User    string
	Command string // what was asked, as typed
}

// Session is one invocation of remediation: who acts, the writer that
// records it, the Mailgun client and the clock.
type Session struct {
	W      Writer
	Client *ingest.Client // not needed for a dry run or a refusal
	Who    Identity
	Now    func() time.Time // nil: time.Now
	Key    string           // the API key, taken out of every audited text
}

func (s *Session) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// entry starts an audit entry stamped with the session.
func (s *Session) entry(action, result string) *maildiag.AuditEntry {
	return &maildiag.AuditEntry{AtUS: s.now().UnixMicro(), Run: s.Who.Run, User: s.Who.User, Action: action, Command: s.Who.Command, Result: result}
}

// record writes e in the writer's open transaction, with the API key
// taken out of any text that might carry it (an error message quoting a
// request).
func (s *Session) record(ctx context.Context, e *maildiag.AuditEntry) error {
	for _, f := range []*string{&e.Command, &e.Pattern, &e.Filters, &e.Address, &e.BackupFile, &e.Error, &e.Detail, &e.ApprovedBy} {
		*f = s.redact(*f)
	}
	return s.W.AddAudit(ctx, e)
}

// redact takes the API key out of a text, in every form it is sent in,
// and the password out of any URL.
func (s *Session) redact(text string) string {
	return ingest.RedactKey(text, s.Key)
}

// apiErrorText is the short form of an API error: Mailgun's answer when
// there is one.
func apiErrorText(err error) string {
	if ae, ok := ingest.AsAPIError(err); ok {
		return ae.Error()
	}
	return err.Error()
}
