package remedy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/ingest"
)

// StoredMessage is a message found in the index, with what a resend needs.
type StoredMessage struct {
	MessageID     string
	EventID       string // when asked by event id
	SendingDomain string
	Recipients    []string // its original recipients: where it may go without approval
	StorageURL    string   // of the copy Mailgun keeps
	AcceptedAt    time.Time
	Subject       string
	Tags          []string
}

// fill takes the storage URL (prefer, else the first event's that has
// one), the sending domain and the time of acceptance from the events of
// the message.
func (m *StoredMessage) fill(evs []maildiag.Event, prefer string) {
	m.StorageURL = prefer
	var first, accepted int64
	for _, e := range evs {
		if m.StorageURL == "" {
			m.StorageURL = e.StorageURL
		}
		if m.SendingDomain == "" {
			m.SendingDomain = e.SendingDomain
		}
		if m.Subject == "" {
			m.Subject = e.Subject
		}
		if len(m.Tags) == 0 {
			m.Tags = e.Tags
		}
		if first == 0 || e.TimeUS < first {
			first = e.TimeUS
		}
		if e.Type == maildiag.Accepted && (accepted == 0 || e.TimeUS < accepted) {
			accepted = e.TimeUS
		}
	}
	if accepted == 0 {
		accepted = first
	}
	if accepted != 0 {
		m.AcceptedAt = time.UnixMicro(accepted).UTC()
	}
}

// ResendResult is what a resend did: the --output json contract of
// maildiag resend.
type ResendResult struct {
	MessageID     string    `json:"message_id"`
	EventID       string    `json:"event_id,omitempty"`
	SendingDomain string    `json:"sending_domain"`
	AcceptedAt    time.Time `json:"accepted_at,omitzero"`
	Original      []string  `json:"original_recipients"`
	To            string    `json:"to"`
	ApprovedBy    string    `json:"approved_by,omitempty"`
	NewMessageID  string    `json:"new_message_id"`
	Message       string    `json:"mailgun_message"`
	DryRun        bool      `json:"dry_run,omitempty"` // checked, not sent
}

// Resend is a resend the guards let through (Session.CheckResend).
type Resend struct {
	msg            *StoredMessage
	to, approvedBy string
}

// To is where the resend goes.
func (r *Resend) To() string { return r.to }

// Plan is what the resend would do, for a dry run.
func (r *Resend) Plan() *ResendResult {
	res := r.result()
	res.DryRun = true
	return res
}

func (r *Resend) result() *ResendResult {
	m := r.msg
	return &ResendResult{MessageID: m.MessageID, EventID: m.EventID, SendingDomain: m.SendingDomain, AcceptedAt: m.AcceptedAt,
		Original: m.Recipients, To: r.to, ApprovedBy: r.approvedBy}
}

// ErrChooseRecipient is returned by CheckResend when no address was given
// for a message sent to several recipients.
var ErrChooseRecipient = errors.New("choose one of them")

// ErrNoStoredCopy is returned by CheckResend for a message whose events
// carry no storage URL: there is no copy at Mailgun to send again.
var ErrNoStoredCopy = errors.New("its events in the index carry no storage URL, so there is no stored copy to resend")

// Why a resend is refused: RefusedError.Guard.
const (
	GuardRecipient  = "recipient"    // not an original recipient, and no approval
	GuardSuppressed = "suppressed"   // on a list of the sending domain: Mailgun would drop it
	GuardExpired    = "expired-link" // its confirmation or reset link has most likely expired
)

// RefusedError is a resend the guards refused, why, and what to do
// instead; the refusal is audited.
type RefusedError struct {
	Guard string
	To    string
	Why   string
	Fix   string
}

// Error says why the resend was refused.
func (e *RefusedError) Error() string { return "refused: " + e.Why }

// ResendAsk is what a resend asks for beside the message.
type ResendAsk struct {
	To         string // "" for the message's only recipient
	ApprovedBy string // who verified that To belongs to the same person
	// TokenTTL is how long a link in a confirmation or password-reset
	// message lasts (analyze.ExpiringLink); an older one is refused
	// unless Anyway. 0: 24 hours.
	TokenTTL time.Duration
	Anyway   bool
}

// ListReader reads suppression-list entries, as the last sync saw them.
type ListReader interface {
	Suppressions(ctx context.Context, f analyze.SuppressionFilter) ([]analyze.ListEntry, error)
}

// CheckResend applies the guards of a resend of m: an address other than
// an original recipient needs an approval (the name of who verified that
// it belongs to the same person); an address on a list of the sending
// domain is refused, naming the removal to run first, since Mailgun would
// drop the copy; a confirmation or password reset older than its link's
// lifetime is refused unless Anyway, since a new one from the application
// is what helps. Refusals are audited. The message must have a stored
// copy.
func (s *Session) CheckResend(ctx context.Context, lists ListReader, m *StoredMessage, ask ResendAsk) (*Resend, error) {
	to := ask.To
	if to == "" {
		if len(m.Recipients) != 1 {
			return nil, fmt.Errorf("message %s went to %d recipients (%s): %w", m.MessageID, len(m.Recipients), strings.Join(m.Recipients, ", "), ErrChooseRecipient)
		}
		to = m.Recipients[0]
	}
	r := &Resend{msg: m, to: to, approvedBy: ask.ApprovedBy}
	refuse := func(e *RefusedError) error {
		e.To = to
		if err := s.auditResend(ctx, r, maildiag.AuditRefused, e.Why, ""); err != nil {
			return err
		}
		return e
	}
	if !slices.Contains(m.Recipients, to) && ask.ApprovedBy == "" {
		return nil, refuse(&RefusedError{Guard: GuardRecipient,
			Why: fmt.Sprintf("%s is not an original recipient of message %s (%s); no --approved-by", to, m.MessageID, strings.Join(m.Recipients, ", ")),
			Fix: "sending it elsewhere needs --approved-by NAME: the manager who verified that " + to + " belongs to the same person"})
	}
	entries, err := lists.Suppressions(ctx, analyze.SuppressionFilter{AddressGlob: to, SendingDomains: []string{m.SendingDomain},
		Lists: []string{maildiag.ListBounces, maildiag.ListComplaints, maildiag.ListUnsubscribes}})
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Address == to && e.Removed.IsZero() {
			return nil, refuse(&RefusedError{Guard: GuardSuppressed,
				Why: fmt.Sprintf("%s is on the %s list of %s: Mailgun would drop the resend", to, e.List, m.SendingDomain),
				Fix: fmt.Sprintf("remove it first (maildiag suppressions remove %s --list %s --sending-domain %s --yes), then resend", to, e.List, m.SendingDomain)})
		}
	}
	ttl := cmp.Or(ask.TokenTTL, 24*time.Hour)
	if age := s.now().Sub(m.AcceptedAt); !ask.Anyway && !m.AcceptedAt.IsZero() && age > ttl && analyze.ExpiringLink(m.Subject, m.Tags) {
		return nil, refuse(&RefusedError{Guard: GuardExpired,
			Why: fmt.Sprintf("message %s (%q) was sent %s ago: its link has most likely expired (--token-ttl %s)", m.MessageID, m.Subject, agoWords(age), ttl),
			Fix: "have the application send a new one (the person can ask for it again), or resend this copy with --anyway"})
	}
	if m.StorageURL == "" {
		return nil, fmt.Errorf("message %s: %w", m.MessageID, ErrNoStoredCopy)
	}
	return r, nil
}

// GoneError is a message Mailgun no longer stores (it answered 404).
type GoneError struct {
	Message *StoredMessage
	Now     time.Time
	Answer  string // Mailgun's words
}

// Error says since when Mailgun had the message, and what to do.
func (e *GoneError) Error() string {
	m := e.Message
	when := "at a time the index does not know"
	if !m.AcceptedAt.IsZero() {
		when = m.AcceptedAt.Format("2006-01-02 15:04 UTC")
		if d := e.Now.Sub(m.AcceptedAt); d > 0 {
			when += fmt.Sprintf(" (%s ago)", agoWords(d))
		}
	}
	answer := e.Answer
	if answer == "" {
		answer = "not found"
	}
	return fmt.Sprintf("message %s is no longer stored at Mailgun (it answered 404 %q): it was accepted %s, and Mailgun keeps stored messages 0 to 7 days, by plan. Send it again from the application that sent it",
		m.MessageID, answer, when)
}

// agoWords is a duration in days, or hours under two days.
func agoWords(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%d hours", int(d.Hours()))
}

// Send asks Mailgun to send the stored copy again, and audits the outcome.
// The API key goes only to Mailgun's hosts (see StorageURLFor). A copy
// Mailgun no longer keeps is a *GoneError.
func (s *Session) Send(ctx context.Context, r *Resend) (*ResendResult, error) {
	m := r.msg
	res := r.result()
	u, err := StorageURLFor(m.StorageURL, s.Client.BaseURL())
	if err != nil {
		return nil, err
	}
	sent, err := s.Client.Mailgun().ReSend(ctx, u, r.to)
	msg, id := sent.Message, sent.ID
	if err != nil {
		if ae, ok := ingest.AsAPIError(err); ok && ae.Status == http.StatusNotFound {
			if aerr := s.auditResend(ctx, r, maildiag.AuditGone, ae.Error(), ""); aerr != nil {
				return nil, aerr
			}
			return nil, &GoneError{Message: m, Now: s.now(), Answer: ae.Message}
		}
		reason := s.redact(apiErrorText(err))
		if aerr := s.auditResend(ctx, r, maildiag.AuditFailed, reason, ""); aerr != nil {
			return nil, aerr
		}
		return nil, fmt.Errorf("resend %s: %s", m.MessageID, reason)
	}
	res.NewMessageID, res.Message = strings.Trim(id, "<>"), msg
	if err := s.auditResend(ctx, r, maildiag.AuditSent, "", res.NewMessageID); err != nil {
		return nil, err
	}
	return res, nil
}

// auditResend records what became of a resend, and commits it: a resend
// made is recorded even when ctx ends.
func (s *Session) auditResend(ctx context.Context, r *Resend, result, reason, detail string) error {
	rctx := context.WithoutCancel(ctx)
	m := r.msg
	e := s.entry(maildiag.AuditResend, result)
	e.MessageID, e.EventID, e.SendingDomain, e.Address, e.OriginalTo = m.MessageID, m.EventID, m.SendingDomain, r.to, strings.Join(m.Recipients, ", ")
	e.ApprovedBy, e.Error, e.Detail = r.approvedBy, reason, detail
	if err := s.record(rctx, e); err != nil {
		return err
	}
	return s.W.Commit(rctx)
}

// StorageURLFor checks the URL of a stored message before the API key
// goes there: the URL comes from event data, which may have been imported
// from anyone's files. It must be a stored-message path on one of
// Mailgun's hosts; with an API base that is not Mailgun's (a local
// server), the URL is moved onto that base.
func StorageURLFor(raw, apiBase string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("storage URL %q is not a URL", raw)
	}
	if !strings.HasPrefix(u.Path, "/v3/domains/") || !strings.Contains(u.Path, "/messages/") {
		return "", fmt.Errorf("storage URL %s is not a stored message's (/v3/domains/DOMAIN/messages/KEY)", u.Redacted())
	}
	b, err := url.Parse(apiBase)
	if err != nil || b.Host == "" {
		return "", fmt.Errorf("API base %q is not a URL", apiBase)
	}
	if !mailgunHost(b.Hostname()) {
		u.Scheme, u.Host, u.User = b.Scheme, b.Host, nil
		return u.String(), nil
	}
	if u.Scheme != "https" || !mailgunHost(u.Hostname()) || u.User != nil {
		return "", fmt.Errorf("storage URL host %s is not Mailgun's: the API key is sent only to Mailgun", u.Host)
	}
	return u.String(), nil
}

func mailgunHost(h string) bool {
	h = strings.ToLower(h)
	return h == "mailgun.net" || strings.HasSuffix(h, ".mailgun.net")
}
