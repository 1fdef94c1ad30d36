package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

// resendOptions are the flags of maildiag resend.
type resendOptions struct {
	query      string
	to         string
	approvedBy string
	api        apiOptions
}

func newResendCmd(s *streams, g *globals) *cobra.Command {
	o := &resendOptions{}
	cmd := &cobra.Command{
		Use:   "resend EVENT-ID | MESSAGE-ID",
		Short: "Send a message Mailgun still stores again, to its original recipient",
		Long: `Resend finds a message in the index, by the id of one of its events (as trace
shows them) or by its message-id, takes the URL of the copy Mailgun stores from
its events, and asks Mailgun to send that copy again, to its original recipient.
Remove the suppression first (maildiag suppressions remove), or Mailgun drops it
again.

A message-id sent to several recipients needs --to naming one of them. Sending
to any other address is refused unless --to comes with --approved-by: the name
of the manager who approved it after verifying that the address belongs to the
same person. The approval is recorded in the audit log, as is every resend and
every refusal.

Mailgun keeps stored messages 0 to 7 days, by plan; after that it answers 404
and the message must be sent again from the application.

With --api-base, the host of the storage URL is replaced by the API base's (a
local test server); otherwise the API key is sent only to Mailgun's own hosts.

Output (--output json): {"message_id", "event_id", "sending_domain",
"accepted_at", "original_recipients", "to", "approved_by", "new_message_id",
"mailgun_message"}.

Exit status: 0 when resent, 1 when the message is not in the index or no longer
stored, 2 on usage errors and refusals, 3 on failure.`,
		Example: `  maildiag resend 20261118101500.2.ABCDEF@mg.example.com
  maildiag resend czsjqFATSlC3QtAK-C80nw
  maildiag resend 20261118101500.2.ABCDEF@mg.example.com --to jane.doe@initech.example --approved-by "R. Manager"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			o.query = strings.TrimSpace(args[0])
			o.to = strings.ToLower(strings.TrimSpace(o.to))
			o.approvedBy = strings.TrimSpace(o.approvedBy)
			switch {
			case o.query == "":
				return usageErrorf("give an event id or a message-id")
			case o.approvedBy != "" && o.to == "":
				return usageErrorf("--approved-by goes with --to, the address that was approved")
			case o.to != "" && (strings.Count(o.to, "@") != 1 || strings.ContainsAny(o.to, " ,;<>")):
				return usageErrorf("--to %q: one email address", o.to)
			}
			path, err := g.dbPath()
			if err != nil {
				return failure(err)
			}
			au := newAuditor(cmd, args, g.now)
			err = resendRun(cmd.Context(), s, path, format, o, au)
			return redactKey(err, o.api.apiKey)
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "send to this address (another than the original needs --approved-by)")
	cmd.Flags().StringVar(&o.approvedBy, "approved-by", "", "who approved sending to --to after verifying it is the same person")
	o.api.addFlags(cmd.Flags(), "retries of a request after 5xx answers, timeouts or dropped connections")
	return cmd
}

// resendResult is what resend prints: the --output json contract.
type resendResult struct {
	MessageID     string    `json:"message_id"`
	EventID       string    `json:"event_id,omitempty"`
	SendingDomain string    `json:"sending_domain"`
	AcceptedAt    time.Time `json:"accepted_at,omitzero"`
	Original      []string  `json:"original_recipients"`
	To            string    `json:"to"`
	ApprovedBy    string    `json:"approved_by,omitempty"`
	NewMessageID  string    `json:"new_message_id"`
	Message       string    `json:"mailgun_message"`
}

func resendRun(ctx context.Context, s *streams, path, format string, o *resendOptions, au *auditor) error {
	if _, err := os.Stat(path); err != nil {
		return failure(fmt.Errorf("%w at %s: import or sync something first", index.ErrNoIndex, path))
	}
	db, err := index.Open(ctx, path) // the audit is written
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	ref, err := findStored(ctx, db, o.query)
	switch {
	case errors.Is(err, errNotInIndex):
		return &exitError{code: exitNo, err: fmt.Errorf("%w: run maildiag sync (or import its events) first", err)}
	case err != nil:
		return failure(err)
	}
	to := o.to
	if to == "" {
		if len(ref.Recipients) != 1 {
			return usageErrorf("message %s went to %d recipients (%s): choose one with --to", ref.MessageID, len(ref.Recipients), strings.Join(ref.Recipients, ", "))
		}
		to = ref.Recipients[0]
	}
	res := &resendResult{MessageID: ref.MessageID, EventID: ref.EventID, SendingDomain: ref.SendingDomain, AcceptedAt: ref.AcceptedAt,
		Original: ref.Recipients, To: to, ApprovedBy: o.approvedBy}

	w, err := db.NewWriter(ctx)
	if err != nil {
		return failure(err)
	}
	defer w.Close()
	rctx := context.WithoutCancel(ctx) // a resend made is recorded even when interrupted
	audit := func(result, reason, detail string) error {
		e := au.entry(maildiag.AuditResend, result)
		e.MessageID, e.EventID, e.SendingDomain, e.Address, e.OriginalTo = ref.MessageID, ref.EventID, ref.SendingDomain, to, strings.Join(ref.Recipients, ", ")
		e.ApprovedBy, e.Error, e.Detail = o.approvedBy, reason, detail
		if err := au.record(rctx, w, e); err != nil {
			return failure(err)
		}
		if err := w.Commit(rctx); err != nil {
			return failure(err)
		}
		return nil
	}

	if !slices.Contains(ref.Recipients, to) && o.approvedBy == "" {
		why := fmt.Sprintf("%s is not an original recipient of message %s (%s)", to, ref.MessageID, strings.Join(ref.Recipients, ", "))
		if err := audit(maildiag.AuditRefused, why+"; no --approved-by", ""); err != nil {
			return err
		}
		return usageErrorf("refused: %s. Sending it elsewhere needs --approved-by NAME: the manager who verified that %s belongs to the same person", why, to)
	}
	if ref.StorageURL == "" {
		return &exitError{code: exitNo, err: fmt.Errorf("message %s: its events in the index carry no storage URL, so there is no stored copy to resend; send it again from the application", ref.MessageID)}
	}
	if err := o.api.resolve(); err != nil {
		return err
	}
	au.secret = o.api.apiKey
	client, err := o.api.client(0)
	if err != nil {
		return err
	}
	u, err := storageURLFor(ref.StorageURL, client.BaseURL())
	if err != nil {
		return failure(err)
	}
	msg, id, err := client.Mailgun(ref.SendingDomain).ReSend(ctx, u, to)
	if err != nil {
		if ae, ok := ingest.AsAPIError(err); ok && ae.Status == http.StatusNotFound {
			if aerr := audit(maildiag.AuditGone, ae.Error(), ""); aerr != nil {
				return aerr
			}
			return &exitError{code: exitNo, err: goneError(ref, au.now(), ae.Message)}
		}
		reason := redactText(apiErrorText(err), o.api.apiKey)
		if aerr := audit(maildiag.AuditFailed, reason, ""); aerr != nil {
			return aerr
		}
		return failure(fmt.Errorf("resend %s: %s", ref.MessageID, reason))
	}
	res.NewMessageID, res.Message = strings.Trim(id, "<>"), msg
	if err := audit(maildiag.AuditSent, "", res.NewMessageID); err != nil {
		return err
	}
	t := &table{title: "Resent", columns: []string{"message_id", "to", "original_recipients", "approved_by", "accepted_at", "new_message_id"}}
	t.add(res.MessageID, res.To, strings.Join(res.Original, ", "), res.ApprovedBy, res.AcceptedAt, res.NewMessageID)
	if err := render(s.out, format, res, t); err != nil {
		return failure(err)
	}
	return nil
}

// goneError says that Mailgun no longer stores a message, since when it
// had it, and what to do.
func goneError(ref *storedRef, now time.Time, answer string) error {
	when := "at a time the index does not know"
	if !ref.AcceptedAt.IsZero() {
		when = ref.AcceptedAt.Format("2006-01-02 15:04 UTC")
		if d := now.Sub(ref.AcceptedAt); d > 0 {
			when += fmt.Sprintf(" (%s ago)", agoWords(d))
		}
	}
	if answer == "" {
		answer = "not found"
	}
	return fmt.Errorf("message %s is no longer stored at Mailgun (it answered 404 %q): it was accepted %s, and Mailgun keeps stored messages 0 to 7 days, by plan. Send it again from the application that sent it",
		ref.MessageID, answer, when)
}

// agoWords is a duration in days, or hours under two days.
func agoWords(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%d hours", int(d.Hours()))
}

// storageURLFor checks the URL of a stored message before the API key goes
// there: the URL comes from event data, which may have been imported from
// anyone's files. It must be a stored-message path on one of Mailgun's
// hosts; with an API base that is not Mailgun's (a local server), the URL
// is moved onto that base.
func storageURLFor(raw, apiBase string) (string, error) {
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
