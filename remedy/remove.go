package remedy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mailgun/mailgun-go/v5"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

// ErrNoBackup is returned by Remove, before anything is deleted, for a
// removal whose entries were not all backed up (Session.Backup).
var ErrNoBackup = errors.New("not every entry is backed up: nothing was removed")

// DryRun marks the entries as shown, not done, in the result and the
// audit.
func (s *Session) DryRun(ctx context.Context, res *RemoveResult) error {
	res.DryRun = true
	base := s.removeEntry(res)
	for i := range res.Entries {
		r := &res.Entries[i]
		r.Result = maildiag.AuditDryRun
		e := *base
		e.Address, e.List, e.SendingDomain = r.Address, r.List, r.SendingDomain
		if err := s.record(ctx, &e); err != nil {
			return err
		}
	}
	return s.W.Commit(ctx)
}

// Remove deletes the entries from their lists at Mailgun, one at a time,
// in order; each must have been backed up. After each answer it records
// the result in the audit and, when the entry is off the list (deleted,
// or already gone: a 404), marks it removed in the index, and commits
// both: an interruption leaves the index agreeing with Mailgun up to the
// last answer. It stops at the first store error or when ctx ends;
// entries not tried keep an empty Result. The result's counts are filled
// in either way.
func (s *Session) Remove(ctx context.Context, res *RemoveResult) error {
	for _, r := range res.Entries {
		if r.Backup == "" {
			return ErrNoBackup
		}
	}
	res.DryRun = false
	err := s.removeAll(ctx, s.removeEntry(res), res.Entries)
	res.tally()
	return err
}

// removeEntry is the audit entry every action of a removal starts from.
func (s *Session) removeEntry(res *RemoveResult) *maildiag.AuditEntry {
	filters, _ := json.Marshal(res.Filters)
	e := s.entry(maildiag.AuditRemove, maildiag.AuditDryRun)
	e.Pattern, e.Filters = res.Pattern, string(filters)
	return e
}

func (s *Session) removeAll(ctx context.Context, base *maildiag.AuditEntry, entries []Removal) error {
	// A deletion Mailgun has made is recorded even when ctx ends meanwhile.
	rctx := context.WithoutCancel(ctx)
	mg := s.Client.Mailgun()
	for i := range entries {
		r := &entries[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Result, r.Error = s.deleteOutcome(deleteEntry(ctx, mg, r.SendingDomain, r.List, r.Address))
		if ctx.Err() != nil && r.Result == maildiag.AuditFailed {
			r.Error = "interrupted before Mailgun answered; run the command again to finish"
		}
		now := s.now().UnixMicro()
		if r.Result != maildiag.AuditFailed {
			if err := s.W.MarkSuppressionRemoved(rctx, r.SendingDomain, r.List, r.Address, now); err != nil {
				return fmt.Errorf("record removal of %s: %w", r.Address, err)
			}
		}
		e := *base
		e.AtUS, e.Address, e.List, e.SendingDomain, e.BackupFile, e.Result, e.Error = now, r.Address, r.List, r.SendingDomain, r.Backup, r.Result, r.Error
		if err := s.record(rctx, &e); err != nil {
			return err
		}
		if err := s.W.Commit(rctx); err != nil {
			return fmt.Errorf("record removal of %s: %w", r.Address, err)
		}
	}
	return ctx.Err()
}

// deleteEntry removes one address from one list of a sending domain: the
// API has no selective bulk delete, only one address or a whole list.
func deleteEntry(ctx context.Context, mg *mailgun.Client, domain, list, address string) error {
	// mailgun-go v5 escapes the address itself (url.QueryEscape, which
	// Mailgun's path reading takes: "+" arrives as %2B).
	switch list {
	case maildiag.ListBounces:
		return mg.DeleteBounce(ctx, domain, address)
	case maildiag.ListUnsubscribes:
		return mg.DeleteUnsubscribe(ctx, domain, address)
	case maildiag.ListComplaints:
		return mg.DeleteComplaint(ctx, domain, address)
	}
	return fmt.Errorf("delete %s: %s is not a list maildiag removes from", address, list)
}

// deleteOutcome sorts the answer to a delete: done, already gone (404:
// not on the list), or failed with the reason.
func (s *Session) deleteOutcome(err error) (result, reason string) {
	if err == nil {
		return maildiag.AuditRemoved, ""
	}
	if ae, ok := ingest.AsAPIError(err); ok {
		// A 404 for the domain is not an absent entry.
		if ae.Status == http.StatusNotFound && !strings.Contains(strings.ToLower(ae.Message), "domain not found") {
			return maildiag.AuditNotFound, ""
		}
		err = ae
	}
	return maildiag.AuditFailed, s.redact(err.Error())
}

// tally counts the results.
func (res *RemoveResult) tally() {
	res.Removed, res.NotFound, res.Failed, res.NotTried = 0, 0, 0, 0
	for _, r := range res.Entries {
		switch r.Result {
		case maildiag.AuditRemoved:
			res.Removed++
		case maildiag.AuditNotFound:
			res.NotFound++
		case maildiag.AuditFailed:
			res.Failed++
		default:
			res.NotTried++
		}
	}
}

// NotRemoved lists the entries still on their lists after Remove, each
// with why: "address (list, sending domain): reason".
func (res *RemoveResult) NotRemoved() []string {
	var out []string
	for _, r := range res.Entries {
		what := r.Address + " (" + r.List + ", " + r.SendingDomain + ")"
		switch r.Result {
		case maildiag.AuditRemoved, maildiag.AuditNotFound:
		case maildiag.AuditFailed:
			out = append(out, what+": "+r.Error)
		default:
			out = append(out, what+": not attempted")
		}
	}
	return out
}
