package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

// deleteEntry removes one address from one list of a sending domain: the
// API has no selective bulk delete, only one address or a whole list.
func deleteEntry(ctx context.Context, mg *mailgun.MailgunImpl, list, address string) error {
	// mailgun-go puts the address into the path as it is.
	a := url.PathEscape(address)
	switch list {
	case maildiag.ListBounces:
		return mg.DeleteBounce(ctx, a)
	case maildiag.ListUnsubscribes:
		return mg.DeleteUnsubscribe(ctx, a)
	case maildiag.ListComplaints:
		return mg.DeleteComplaint(ctx, a)
	}
	return fmt.Errorf("delete %s: %s is not a list maildiag removes from", address, list)
}

// deleteOutcome sorts the answer to a delete: done, already gone (404:
// not on the list), or failed with the reason.
func deleteOutcome(err error, key string) (result, reason string) {
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
	return maildiag.AuditFailed, redactText(err.Error(), key)
}

// redactText takes the API key out of a text.
func redactText(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// removeAll deletes the entries one at a time, in order. After each answer
// it records the result in the audit and, when the entry is off the list,
// marks it removed in the index, and commits both: an interruption leaves
// the index agreeing with Mailgun up to the last answer. It stops at the
// first index error or when ctx ends; entries not tried keep an empty
// Result.
func removeAll(ctx context.Context, w *index.Writer, client *ingest.Client, au *auditor, base *maildiag.AuditEntry, entries []removal) error {
	// A deletion Mailgun has made is recorded even when ctx ends meanwhile.
	rctx := context.WithoutCancel(ctx)
	clients := map[string]*mailgun.MailgunImpl{}
	for i := range entries {
		r := &entries[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		mg := clients[r.SendingDomain]
		if mg == nil {
			mg = client.Mailgun(r.SendingDomain)
			clients[r.SendingDomain] = mg
		}
		r.Result, r.Error = deleteOutcome(deleteEntry(ctx, mg, r.List, r.Address), au.secret)
		if ctx.Err() != nil && r.Result == maildiag.AuditFailed {
			r.Error = "interrupted before Mailgun answered; run the command again to finish"
		}
		now := au.now().UnixMicro()
		if r.Result != maildiag.AuditFailed {
			if err := w.MarkSuppressionRemoved(rctx, r.SendingDomain, r.List, r.Address, now); err != nil {
				return fmt.Errorf("record removal of %s: %w", r.Address, err)
			}
		}
		e := *base
		e.AtUS, e.Address, e.List, e.SendingDomain, e.BackupFile, e.Result, e.Error = now, r.Address, r.List, r.SendingDomain, r.Backup, r.Result, r.Error
		if err := au.record(rctx, w, &e); err != nil {
			return err
		}
		if err := w.Commit(rctx); err != nil {
			return fmt.Errorf("record removal of %s: %w", r.Address, err)
		}
	}
	return ctx.Err()
}
