package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
)

func newTraceCmd(s *streams, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "trace ADDRESS | MESSAGE-ID",
		Short: "Why did this person not get our email? Timeline, suppressions and a verdict",
		Long: `Trace follows one recipient (or one message-id) through the index: every message
with its events (accepted, deferred with the remote reply, delivered with 250 and
the MX host, failed, dropped), the recipient's suppressions, and one verdict with
the next step: look in spam or quarantine, remove a suppression and resend, wait
for Mailgun's retries, correct a typo domain (gmial.com), ask which of two
near-identical addresses they use, send a new link because the old one expired,
or respect a complaint.

Exit status: 0 when the index has events for it, 1 when it has none, 2 on usage
errors, 3 on failure.`,
		Example: `  maildiag trace jane@initech.example
  maildiag trace '<20261128164207.1.DAB9F310278E2116@mg.example.com>'
  maildiag trace john_smith@initech.com --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			path, err := g.dbPath()
			if err != nil {
				return err
			}
			return traceRun(cmd.Context(), s, path, format, args[0], g.now())
		},
	}
}

func traceRun(ctx context.Context, s *streams, path, format, query string, now time.Time) error {
	db, err := index.OpenReadOnly(ctx, path)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	res, err := analyze.Trace(ctx, db, query, analyze.TraceOptions{Now: now})
	if err != nil {
		return failure(err)
	}
	switch format {
	case "table":
		writeTrace(s.out, res)
	default:
		events := &table{columns: []string{"message_id", "recipient", "subject", "state", "time", "type", "code", "enhanced", "class", "mx_host", "reply"}}
		for _, m := range res.Messages {
			for _, e := range m.Events {
				events.add(m.MessageID, m.Recipient, m.Subject, m.State, e.Time, e.Type, zeroBlank(e.Code), e.Enhanced, e.Class, e.MXHost, e.Reply)
			}
		}
		if err := render(s.out, format, res, events); err != nil {
			return failure(err)
		}
	}
	if len(res.Messages) == 0 {
		return errNo
	}
	return nil
}

func zeroBlank(n int) any {
	if n == 0 {
		return ""
	}
	return n
}

// writeTrace prints a trace for a person: the verdict first, then the
// evidence and the timeline.
func writeTrace(w io.Writer, res *analyze.TraceResult) {
	v := res.Verdict
	fmt.Fprintf(w, "Verdict: %s\n  %s\n  Next: %s\n", v.Kind, v.Summary, v.NextStep)
	for _, e := range v.Evidence {
		fmt.Fprintf(w, "  - %s\n", e)
	}
	for _, l := range res.Lookalikes {
		fmt.Fprintf(w, "  - lookalike %s (%d edit): %d deliveries, last %s\n", l.Address, l.Distance, l.Deliveries, l.LastDelivered.Format(time.RFC3339))
	}
	if len(res.Suppressions) > 0 {
		fmt.Fprintln(w, "\nSuppressions")
		for _, a := range res.Suppressions {
			fmt.Fprintf(w, "  %s on %s of %s since %s (%s: %s)\n", a.Address, a.List, a.SendingDomain, a.Since.Format(time.RFC3339), a.State, a.StateNote)
		}
	}
	for _, m := range res.Messages {
		fmt.Fprintf(w, "\nMessage %s to %s: %s\n", m.MessageID, m.Recipient, m.State)
		if m.Subject != "" || m.SendingDomain != "" {
			fmt.Fprintf(w, "  %q from %s (%s)\n", m.Subject, m.From, m.SendingDomain)
		}
		for _, e := range m.Events {
			line := fmt.Sprintf("  %s  %-12s", e.Time.Format("2006-01-02 15:04:05Z"), e.Type)
			if e.Code != 0 {
				line += fmt.Sprintf(" %d %s", e.Code, e.Enhanced)
			}
			if e.Class != "" {
				line += " [" + e.Class
				if e.Rule != "" {
					line += " by rule " + e.Rule
				}
				line += "]"
			}
			if e.MXHost != "" {
				line += " via " + e.MXHost
			}
			fmt.Fprintln(w, line)
			if e.Reply != "" {
				fmt.Fprintf(w, "      %s\n", truncate(e.Reply, 200))
			}
		}
	}
	if len(res.Messages) == 0 && !res.IndexFrom.IsZero() {
		fmt.Fprintf(w, "\nThe index covers %s to %s.\n", res.IndexFrom.Format(time.RFC3339), res.IndexTo.Format(time.RFC3339))
	}
}
