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

type suppressedOptions struct {
	pattern        string
	sendingDomains []string
	lists          []string
	withRemoved    bool
	since          string
}

func newSuppressedCmd(s *streams, g *globals) *cobra.Command {
	o := &suppressedOptions{}
	cmd := &cobra.Command{
		Use:   "suppressed PATTERN",
		Short: "List suppressed addresses of a customer domain, with why and a domain verdict",
		Long: `Suppressed lists every suppressed address matching PATTERN across every sending
domain and every list (bounces, complaints, unsubscribes; the allowlist is shown
as such): since when, the failure that put it there (code, enhanced code, the
remote server's reply, MX host, class), how many later messages Mailgun dropped
because of it, and whether it is still listed as of the last sync.

Then a verdict per domain: a domain-wide block at the recipient (many addresses
failing alike through one gateway within hours) told apart from scattered bad
addresses, with what to do.

PATTERN matches whole addresses, case-insensitively, with * and ?:
'*@acme.com', '*@*.acme.com', 'j*@acme.com'; a bare domain means every address
at it. When suppression lists were never synced or imported, suppressions are
found from the event log (drops with 605/606/607, hard bounces).

Exit status: 0 with results, 1 with none, 2 on usage errors, 3 on failure.`,
		Example: `  maildiag suppressed acme.com
  maildiag suppressed acme.com --since 7d
  maildiag suppressed '*@*.acme.com' --list bounces
  maildiag suppressed 'j*@acme.com' --sending-domain mg.example.com --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			o.pattern = args[0]
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return suppressedRun(cmd.Context(), s, t, format, o, g.now())
		},
	}
	cmd.Flags().StringSliceVar(&o.sendingDomains, "sending-domain", nil, "only these sending domains (repeat or comma-separate)")
	cmd.Flags().StringSliceVar(&o.lists, "list", nil, "only these lists: bounces, complaints, unsubscribes, allowlist")
	cmd.Flags().BoolVar(&o.withRemoved, "with-removed", false, "also show entries removed from the lists since")
	cmd.Flags().StringVar(&o.since, "since", "", "only entries made from this time: 7d, 36h, 2026-11-01 or RFC 3339")
	return cmd
}

func suppressedRun(ctx context.Context, s *streams, t target, format string, o *suppressedOptions, now time.Time) error {
	p, err := analyze.ParsePattern(o.pattern)
	if err != nil {
		return usageErrorf("%v", err)
	}
	since, err := maildiag.ParseWhen(o.since, now)
	if err != nil {
		return usageErrorf("--since: %v", err)
	}
	for _, l := range o.lists {
		switch l {
		case "bounces", "complaints", "unsubscribes", "allowlist":
		default:
			return usageErrorf("--list %q: use bounces, complaints, unsubscribes or allowlist", l)
		}
	}
	db, err := openReader(ctx, t)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	res, err := analyze.Suppressed(ctx, db, p, analyze.SuppressedOptions{SendingDomains: o.sendingDomains, Lists: o.lists, WithRemoved: o.withRemoved, Since: since})
	if err != nil {
		return failure(err)
	}
	addrs := &table{title: fmt.Sprintf("Suppressed addresses matching %s", res.Pattern),
		columns: []string{"address", "list", "sending_domain", "since", "code", "enhanced", "class", "mx_host", "reply", "dropped_since", "state"}}
	for _, a := range res.Addresses {
		code, enh, class, mx, reply := a.ListCode, "", "", "", a.ListError
		if c := a.Cause; c != nil {
			code, enh, class, mx, reply = fmt.Sprint(c.Code), c.Enhanced, c.Class, c.MXHost, c.Reply
		}
		addrs.add(a.Address, a.List, a.SendingDomain, a.Since, code, enh, class, mx, reply, a.Drops, a.State)
	}
	verdicts := &table{title: "Domain verdicts", columns: []string{"domain", "verdict", "addresses", "summary", "action"}}
	for _, v := range res.Verdicts {
		verdicts.add(v.Domain, v.Kind, v.Addresses, v.Summary, v.Action)
	}
	counts := &table{title: "Entries per sending domain and list", columns: []string{"sending_domain", "list", "addresses"}}
	for _, c := range res.Counts {
		counts.add(c.SendingDomain, c.List, c.Addresses)
	}
	if format == "table" {
		writeVerdicts(s.out, res)
		err = render(s.out, format, res, addrs, counts)
	} else {
		err = render(s.out, format, res, addrs, verdicts, counts)
	}
	if err != nil {
		return failure(err)
	}
	if len(res.Addresses) == 0 {
		if format == "table" {
			fmt.Fprintf(s.err, "maildiag: no suppressed addresses match %s\n", res.Pattern)
		}
		return errNo
	}
	return nil
}

// writeVerdicts prints the domain verdicts as paragraphs, first: they are
// the answer; the table below is the evidence.
func writeVerdicts(w io.Writer, res *analyze.SuppressedResult) {
	for _, v := range res.Verdicts {
		fmt.Fprintf(w, "%s: %s\n", v.Domain, strings.ToUpper(strings.ReplaceAll(v.Kind, "-", " ")))
		fmt.Fprintf(w, "  %s\n  Next: %s\n", v.Summary, v.Action)
		for _, e := range v.Evidence {
			fmt.Fprintf(w, "  - %s\n", e)
		}
		fmt.Fprintln(w)
	}
	if !res.ListsSynced && len(res.Addresses) > 0 {
		fmt.Fprintln(w, "Note: suppression lists were never synced; states come from imported lists and the event log.")
		fmt.Fprintln(w)
	}
}
