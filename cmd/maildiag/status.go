package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
)

func newStatusCmd(s *streams, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what the index holds",
		Long: `Status shows what the index holds: events by sending domain and type, the days
each sending domain covers and the days missing inside that span, suppression
lists, rejected records and recent imports.`,
		Example: `  maildiag status
  maildiag status --output json | jq .coverage`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return statusRun(cmd.Context(), s, t, format, g.now())
		},
	}
}

// staleSync is how old a last sync may be before status warns: Mailgun's
// retention can be as short as a few days.
const staleSync = 3 * 24 * time.Hour

func statusRun(ctx context.Context, s *streams, to target, format string, now time.Time) error {
	st, err := readStatus(ctx, to)
	if err != nil {
		return failure(err)
	}
	summary := &table{title: "Index", columns: []string{"path", "size", "events", "first_event", "last_event", "rejects"}}
	summary.add(st.Path, humanBytes(st.SizeBytes), st.Events, usTime(st.FirstUS), usTime(st.LastUS), st.Rejects)
	counts := &table{title: "Events by sending domain and type", columns: []string{"sending_domain", "type", "events"}}
	for _, c := range st.EventCounts {
		counts.add(orUnknown(c.SendingDomain), c.Type, c.Events)
	}
	cov := &table{title: "Coverage (UTC days)", columns: []string{"sending_domain", "first_day", "last_day", "days_with_events", "gaps"}}
	for _, c := range st.Coverage {
		gaps := ""
		for i, g := range c.Gaps {
			if i > 0 {
				gaps += ", "
			}
			if i == 5 {
				gaps += fmt.Sprintf("and %d more", len(c.Gaps)-5)
				break
			}
			gaps += dayText(g.From)
			if g.To != g.From {
				gaps += ".." + dayText(g.To)
			}
		}
		cov.add(orUnknown(c.SendingDomain), dayText(c.FirstDay), dayText(c.LastDay), c.DaysWithData, gaps)
	}
	supp := &table{title: "Suppression lists", columns: []string{"sending_domain", "list", "active", "removed"}}
	for _, c := range st.Suppressions {
		supp.add(c.SendingDomain, c.List, c.Active, c.Removed)
	}
	syncs := &table{title: "Syncs", columns: []string{"sending_domain", "source", "complete_from", "complete_to", "last_sync", "note"}}
	for _, sy := range st.Syncs {
		note := ""
		if sy.Ranges > 1 {
			note = fmt.Sprintf("%d ranges: the next sync fills the holes", sy.Ranges)
		}
		if age := now.Sub(time.UnixMicro(sy.LastSyncUS)); age > staleSync {
			note = strings.TrimSpace(note + fmt.Sprintf(" last sync %d days ago: Mailgun keeps events 1 to 30 days, older ones are lost if not synced", int(age.Hours()/24)))
		}
		syncs.add(sy.SendingDomain, sy.Source, usTime(sy.FromUS), usTime(sy.ToUS), usTime(sy.LastSyncUS), note)
	}
	imps := &table{title: "Recent imports", columns: []string{"id", "source", "status", "events_read", "events_new", "suppressions", "rejects", "started"}}
	for _, im := range st.Imports {
		imps.add(im.ID, im.Source, im.Status, im.EventsRead, im.EventsNew, im.SuppressionsRead, im.Rejects, usTime(im.StartedUS))
	}
	return render(s.out, format, st, summary, counts, cov, supp, syncs, imps)
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func usTime(us int64) string {
	if us == 0 {
		return ""
	}
	return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05Z")
}

func dayText(day int64) string {
	return time.Unix(day*86400, 0).UTC().Format("2006-01-02")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// readStatus reads the status of an index of either engine.
func readStatus(ctx context.Context, t target) (*maildiag.IndexStatus, error) {
	if t.pgURL == "" {
		db, err := index.OpenReadOnly(ctx, t.path)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return db.Status(ctx)
	}
	db, err := pg.OpenReadOnly(ctx, t.pgURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Status(ctx)
}
