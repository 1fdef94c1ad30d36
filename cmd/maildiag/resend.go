package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/remedy"
)

// resendOptions are the flags of maildiag resend.
type resendOptions struct {
	query      string
	to         string
	approvedBy string
	yes        bool
	anyway     bool
	tokenTTL   time.Duration
	forReal    string // the command with --yes, for the dry run's hint
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
Without --yes it is a dry run: the guards are checked and what would be sent is
printed.

Guards, each audited when it refuses:
  - an address still on a bounce, complaint or unsubscribe list of the sending
    domain is refused, naming the removal to run first (Mailgun would drop it);
  - a confirmation, password reset or sign-in message older than --token-ttl
    (default 24h; subjects matched by patterns kept as data) is refused: its
    link has most likely expired, and a new one from the application is what
    helps. --anyway sends it all the same;
  - an event id that names several events (Mailgun's ids are unique only within
    a day) lists them: name the message-id and --to instead.

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

Exit status: 0 when resent (or, without --yes, when it would be), 1 when the
message is not in the index or no longer stored, 2 on usage errors and refusals,
3 on failure.`,
		Example: `  maildiag resend 20261118101500.2.ABCDEF@mg.example.com
  maildiag resend 20261118101500.2.ABCDEF@mg.example.com --yes
  maildiag resend czsjqFATSlC3QtAK-C80nw --yes
  maildiag resend 20261118101500.2.ABCDEF@mg.example.com --token-ttl 72h --yes
  maildiag resend 20261118101500.2.ABCDEF@mg.example.com --to jane.doe@initech.example --approved-by "R. Manager"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
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
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			o.forReal = commandLine(cmd, args, "yes") + " --yes"
			sess := &remedy.Session{Who: newIdentity(cmd, args), Now: g.now}
			err = resendRun(cmd.Context(), s, t, format, o, sess)
			return redactKey(err, o.api.apiKey, o.api.urlKey)
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "send to this address (another than the original needs --approved-by)")
	cmd.Flags().StringVar(&o.approvedBy, "approved-by", "", "who approved sending to --to after verifying it is the same person")
	cmd.Flags().BoolVar(&o.yes, "yes", false, "send it; without --yes, only check the guards and print what would be sent")
	cmd.Flags().DurationVar(&o.tokenTTL, "token-ttl", 24*time.Hour, "how long a link in a confirmation or password-reset message lasts")
	cmd.Flags().BoolVar(&o.anyway, "anyway", false, "resend a confirmation or password reset older than --token-ttl all the same")
	o.api.addFlags(cmd.Flags(), "retries of a request after 5xx answers, timeouts or dropped connections")
	return cmd
}

func resendRun(ctx context.Context, s *streams, tg target, format string, o *resendOptions, sess *remedy.Session) error {
	db, err := openActing(ctx, tg, true) // the audit is written
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := remedy.FindMessage(ctx, db, o.query)
	var ambiguous *remedy.AmbiguousError
	switch {
	case errors.As(err, &ambiguous):
		return &exitError{code: exitUsage, err: err}
	case errors.Is(err, remedy.ErrNotInIndex):
		return &exitError{code: exitNo, err: fmt.Errorf("%w: run maildiag sync (or import its events) first", err)}
	case err != nil:
		return failure(err)
	}
	w, err := db.newWriter(ctx)
	if err != nil {
		return failure(err)
	}
	defer w.Close()
	sess.W = w
	rs, err := sess.CheckResend(ctx, db, m, remedy.ResendAsk{To: o.to, ApprovedBy: o.approvedBy, TokenTTL: o.tokenTTL, Anyway: o.anyway})
	var refused *remedy.RefusedError
	switch {
	case errors.Is(err, remedy.ErrChooseRecipient):
		return usageErrorf("message %s went to %d recipients (%s): choose one with --to", m.MessageID, len(m.Recipients), strings.Join(m.Recipients, ", "))
	case errors.As(err, &refused):
		return usageErrorf("%v. To go on: %s", refused, refused.Fix)
	case errors.Is(err, remedy.ErrNoStoredCopy):
		return &exitError{code: exitNo, err: fmt.Errorf("%v; send it again from the application", err)}
	case err != nil:
		return failure(err)
	}
	t := &table{title: "Resent", columns: []string{"message_id", "to", "original_recipients", "approved_by", "accepted_at", "new_message_id"}}
	if !o.yes {
		p := rs.Plan()
		t.title = "Would resend (dry run)"
		t.add(p.MessageID, p.To, strings.Join(p.Original, ", "), p.ApprovedBy, p.AcceptedAt, "")
		if err := render(s.out, format, p, t); err != nil {
			return failure(err)
		}
		fmt.Fprintf(s.err, "maildiag: dry run, nothing sent. To send it:\n  %s\n", o.forReal)
		return nil
	}
	if err := o.api.resolve(); err != nil {
		return err
	}
	sess.Key = o.api.apiKey
	if sess.Client, err = o.api.client(0); err != nil {
		return err
	}
	res, err := sess.Send(ctx, rs)
	var gone *remedy.GoneError
	switch {
	case errors.As(err, &gone):
		return &exitError{code: exitNo, err: err}
	case err != nil:
		return failure(err)
	}
	t.add(res.MessageID, res.To, strings.Join(res.Original, ", "), res.ApprovedBy, res.AcceptedAt, res.NewMessageID)
	if err := render(s.out, format, res, t); err != nil {
		return failure(err)
	}
	return nil
}
