package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

type traceOpts struct {
	since, until   string
	subject, tag   string
	eventID, tz    string
	sendingDomains []string
}

func newTraceCmd(s *streams, g *globals) *cobra.Command {
	o := &traceOpts{}
	cmd := &cobra.Command{
		Use:   "trace ADDRESS | MESSAGE-ID",
		Short: "Why did this person not get our email? Timeline, suppressions and a verdict",
		Long: `Trace follows one recipient (or one message-id) through the index: every message
with its events (accepted, deferred with the remote reply, delivered with 250 and
the MX host, failed, dropped with Mailgun's own words), the recipient's
suppressions on every sending domain, a verdict for each message and one for the
whole: look in spam or quarantine, remove a suppression and resend, wait for
Mailgun's retries, correct a typo domain (gmial.com), ask which of two
near-identical addresses they use, send a new link because the old one expired,
or respect a complaint. The README lists the verdict kinds and which wins when
messages disagree.

The filters narrow the messages judged to the one the person asks about (the
password reset of last Tuesday); suppressions are always shown, narrowed only by
--sending-domain. Times are printed in --tz (default: the TZ environment
variable, else the system's zone); JSON and CSV times are UTC.

Exit status: 0 when the index has events for it, 1 when it has none (or none
matching the filters), 2 on usage errors, 3 on failure.`,
		Example: `  maildiag trace jane@initech.example
  maildiag trace jane@initech.example --subject 'reset your password' --since 7d
  maildiag trace jane@initech.example --sending-domain mg.example.com --tz Europe/Berlin
  maildiag trace '<20261128164207.1.DAB9F310278E2116@mg.example.com>'
  maildiag trace john_smith@initech.com --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			to, err := o.options(g.now())
			if err != nil {
				return err
			}
			return traceRun(cmd.Context(), s, t, g.output, args[0], to)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "", "only messages with an event from this time: 7d, 36h, 2026-11-01 or RFC 3339")
	f.StringVar(&o.until, "until", "", "only messages with an event before this time (same forms)")
	f.StringVar(&o.subject, "subject", "", "only messages whose subject contains this (case-insensitive)")
	f.StringSliceVar(&o.sendingDomains, "sending-domain", nil, "only messages and suppressions of these sending domains (repeat or comma-separate)")
	f.StringVar(&o.tag, "tag", "", "only messages with this tag")
	f.StringVar(&o.eventID, "event-id", "", "only the message with this event id")
	f.StringVar(&o.tz, "tz", "", "time zone of the times printed for people: UTC, Europe/Berlin, Local (default: $TZ, else the system's)")
	return cmd
}

// options checks the flags and turns them into the trace's options.
func (o *traceOpts) options(now time.Time) (analyze.TraceOptions, error) {
	to := analyze.TraceOptions{Now: now, Subject: o.subject, SendingDomains: o.sendingDomains, Tag: o.tag, EventID: o.eventID}
	var err error
	if to.Since, to.Until, err = period(o.since, o.until, now); err != nil {
		return to, err
	}
	for i, d := range to.SendingDomains {
		to.SendingDomains[i] = strings.ToLower(strings.TrimSpace(d))
	}
	if to.Location, err = location(o.tz); err != nil {
		return to, err
	}
	return to, nil
}

// location is the time zone named by --tz: "" is the system's (Go reads
// $TZ for it).
func location(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, usageErrorf("--tz %q: not a time zone (try UTC, Local or a name such as Europe/Berlin)", name)
	}
	return loc, nil
}

func traceRun(ctx context.Context, s *streams, t target, format, query string, o analyze.TraceOptions) error {
	db, err := openReader(ctx, t)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	res, err := analyze.Trace(ctx, db, query, o)
	if err != nil {
		return failure(err)
	}
	switch format {
	case "table":
		writeTrace(s.out, res, o.Location)
	default:
		events := &table{columns: []string{"message_id", "recipient", "sending_domain", "subject", "state", "verdict", "time", "type", "event_id",
			"code", "enhanced", "class", "mx_host", "sending_ip", "reply"}}
		for _, m := range res.Messages {
			for _, e := range m.Events {
				events.add(m.MessageID, m.Recipient, m.SendingDomain, m.Subject, m.State, m.Verdict.Kind, e.Time, e.Type, e.ID,
					zeroBlank(e.Code), e.Enhanced, e.Class, e.MXHost, e.SendingIP, e.Reply)
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
// evidence, the suppressions and each message with its own verdict and
// timeline, times in loc.
func writeTrace(w io.Writer, res *analyze.TraceResult, loc *time.Location) {
	if loc == nil {
		loc = time.UTC
	}
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	v := res.Verdict
	fmt.Fprintf(w, "Verdict: %s\n  %s\n  Next: %s\n", v.Kind, v.Summary, v.NextStep)
	for _, e := range v.Evidence {
		fmt.Fprintf(w, "  - %s\n", e)
	}
	for _, l := range res.Lookalikes {
		got := "never delivered"
		if l.Deliveries > 0 {
			got = maildiag.Plural(l.Deliveries, "delivery") + ", the last " + at(l.LastDelivered)
		}
		fmt.Fprintf(w, "  - lookalike %s (%s): %s\n", l.Address, maildiag.Plural(l.Distance, "edit"), got)
	}
	if len(res.Suppressions) > 0 {
		fmt.Fprintln(w, "\nSuppressions")
		for _, a := range res.Suppressions {
			fmt.Fprintf(w, "  %s on %s of %s since %s (%s: %s)\n", a.Address, a.List, a.SendingDomain, at(a.Since), a.State, a.StateNote)
		}
	}
	for _, m := range res.Messages {
		id := m.MessageID
		if id == "" {
			id = "(no message-id)"
		}
		fmt.Fprintf(w, "\nMessage %s to %s: %s\n", id, m.Recipient, m.State)
		if m.Subject != "" || m.SendingDomain != "" {
			fmt.Fprintf(w, "  %q from %s (%s)\n", m.Subject, m.From, m.SendingDomain)
		}
		if mv := m.Verdict; mv.Kind != "" && len(res.Messages) > 1 {
			fmt.Fprintf(w, "  %s: %s\n", mv.Kind, mv.Summary)
		}
		for _, e := range m.Events {
			fmt.Fprintln(w, "  "+eventLine(e, at))
			if e.Reply != "" && !dropped(e) {
				fmt.Fprintf(w, "      %s\n", truncate(e.Reply, 200))
			}
		}
	}
	if len(res.Messages) == 0 && !res.IndexFrom.IsZero() {
		fmt.Fprintf(w, "\nThe index covers %s to %s.\n", at(res.IndexFrom), at(res.IndexTo))
	}
}

// eventLine is one event of a timeline: time, type, id, then what the
// event says. A drop says Mailgun's own words, not a class: Mailgun made
// no attempt.
func eventLine(e analyze.TracedEvent, at func(time.Time) string) string {
	line := fmt.Sprintf("%s  %-12s", at(e.Time), e.Type)
	if e.ID != "" {
		line += " " + e.ID
	}
	if dropped(e) {
		d, _ := maildiag.DropOf(e.Reason)
		words := e.Description
		if words == "" {
			words = d.Words
		}
		code := e.Code
		if code == 0 {
			code = d.Code
		}
		return line + fmt.Sprintf("  %d %s", code, words)
	}
	if e.Code != 0 {
		line += fmt.Sprintf("  %d %s", e.Code, e.Enhanced)
	}
	if e.Class != "" {
		line += " [" + e.Class + "]"
	}
	if e.MXHost != "" {
		line += " via " + e.MXHost
	}
	if e.SendingIP != "" {
		line += " from " + e.SendingIP
	}
	return line
}

// dropped tells whether an event is Mailgun dropping a message for a
// suppression list.
func dropped(e analyze.TracedEvent) bool {
	return maildiag.OutcomeOf(e.Type, e.Severity, e.Reason, e.Code) == maildiag.OutcomeSuppressed
}
