package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/index/pg"
)

type retentionOptions struct {
	keepMonths int
	apply      bool
	keepTables bool
}

// retentionResult is what retention found and did; its JSON is the contract.
type retentionResult struct {
	Index      string         `json:"index"`
	KeepMonths int            `json:"keep_months"`
	Cutoff     string         `json:"cutoff"` // the first day kept, YYYY-MM-DD
	Applied    bool           `json:"applied"`
	Action     string         `json:"action"` // drop | detach
	Months     []pg.Partition `json:"months"` // the months taken out, or that would be
	Kept       int            `json:"months_kept"`
}

func newRetentionCmd(s *streams, g *globals) *cobra.Command {
	o := &retentionOptions{}
	cmd := &cobra.Command{
		Use:   "retention --keep-months N [--apply]",
		Short: "PostgreSQL: drop (or detach) the months of events older than N months",
		Long: `Retention takes whole months of events out of a PostgreSQL index: their
events and failures partitions (one per month, made by the writer) are detached
and dropped, and the month's rows of the daily and hourly counts deleted with
them, in one transaction, so counts and events keep agreeing. Suppression
lists, imports, sync ranges and the audit stay.

--keep-months N keeps the current month and the N-1 before it. Without
--apply it only lists what it would take out (a dry run). --keep-tables
detaches the months without dropping them: they stay as plain tables
(events_YYYY_MM, failures_YYYY_MM) to archive with pg_dump -t and drop by hand.

It needs the tables' owner (who ran maildiag migrate), not the writer role.
A SQLite index has no partitions: delete old events there by re-importing.`,
		Example: `  maildiag --db postgres://owner@db.example.com/maildiag retention --keep-months 13
  maildiag --db postgres://owner@db.example.com/maildiag retention --keep-months 13 --apply
  maildiag retention --keep-months 6 --keep-tables --apply --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			if t.pgURL == "" {
				return usageErrorf("retention is for a PostgreSQL index (--db postgres://...): a SQLite index has no monthly partitions")
			}
			if o.keepMonths < 1 {
				return usageErrorf("--keep-months N is needed, N at least 1 (1 keeps the current month only)")
			}
			return retentionRun(cmd.Context(), s, t, g.output, o, g.now())
		},
	}
	cmd.Flags().IntVar(&o.keepMonths, "keep-months", 0, "months to keep, the current one included")
	cmd.Flags().BoolVar(&o.apply, "apply", false, "take the months out (without it: a dry run)")
	cmd.Flags().BoolVar(&o.keepTables, "keep-tables", false, "detach the months but keep their tables, to archive")
	return cmd
}

func retentionRun(ctx context.Context, s *streams, t target, format string, o *retentionOptions, now time.Time) error {
	db, err := pg.Open(ctx, t.pgURL)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	parts, err := db.Partitions(ctx)
	if err != nil {
		return failure(err)
	}
	old, cut := pg.Expired(parts, o.keepMonths, now)
	res := &retentionResult{Index: db.Where(), KeepMonths: o.keepMonths, Cutoff: cut.Format("2006-01-02"),
		Action: "drop", Months: old, Kept: len(parts) - len(old)}
	if res.Months == nil {
		res.Months = []pg.Partition{}
	}
	if o.keepTables {
		res.Action = "detach"
	}
	if o.apply {
		if err := db.DropPartitions(ctx, old, o.keepTables); err != nil {
			return failure(err)
		}
		res.Applied = true
	}
	tb := &table{columns: []string{"month", "partition", "events_estimated", "mb", "action"}}
	for _, p := range old {
		act := "would " + res.Action
		if res.Applied {
			act = map[string]string{"drop": "dropped", "detach": "detached"}[res.Action]
		}
		tb.add(p.Month, p.Events, p.Rows, fmt.Sprintf("%.1f", float64(p.Bytes)/1e6), act)
	}
	if err := render(s.out, format, res, tb); err != nil {
		return failure(err)
	}
	if format != "json" {
		note := fmt.Sprintf("%d month(s) before %s, %d kept", len(old), res.Cutoff, res.Kept)
		if !res.Applied && len(old) > 0 {
			note += "; a dry run: add --apply to take them out"
		}
		fmt.Fprintln(s.err, note)
	}
	return nil
}
