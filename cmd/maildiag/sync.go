package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/reclassify"
	"github.com/maildiag/maildiag/syncer"
)

// syncOptions are the flags of maildiag sync.
type syncOptions struct {
	apiOptions
	domains        []string
	source         string
	since          string
	retention      string
	lateThreshold  time.Duration
	workers        int
	rate           float64
	window         time.Duration
	noSuppressions bool
	metrics        bool
	fallback       bool // --source not given: the Events API when the Logs API is refused
	watch          bool
	interval       time.Duration

	retentionDur time.Duration // resolved by validate
}

func newSyncCmd(s *streams, g *globals) *cobra.Command {
	o := &syncOptions{}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Pull events and suppression lists from Mailgun into the index",
		Long: `Sync keeps the index current with a Mailgun account, so that evidence outlives
Mailgun's log retention (1 to 30 days, by plan).

It reads the events of every sending domain of the account (or those named with
--domain) through the Logs API (POST /v1/analytics/logs, the default), or the
Events API (/v3/{domain}/events, deprecated by Mailgun) with --source events.
When --source is not given and the Logs API refuses the account (401, 403 or
404 on its endpoint: a plan or key without it), sync reads the Events API
instead and says so in "note". It takes a snapshot of each domain's
suppression lists (bounces, unsubscribes, complaints, allowlist): entries gone
from Mailgun are marked removed, their history kept.

A key that may not read everything (a restricted key, a plan without a list, a
subaccount) gets 403 or 404 for some lists or domains: each is a warning naming
it ("warnings" in the JSON, on stderr otherwise), the rest syncs, and the exit
status is 0. Only when every domain's events are refused does sync fail.

With --metrics, sync also stores each domain's counts from Mailgun's Metrics API
(POST /v1/analytics/metrics): daily ones for the last year and hourly ones for
the last 60 days, read whole each time. The report uses them for the volume and
rate history before the index's first event, marked as such.

Sync is incremental and resumable: the time ranges read completely are
recorded in the same transaction as their events, so an interrupted sync (Ctrl-C,
kill -9, a network failure) loses nothing and the next run fetches only what is
missing. A range never reaches closer than --late-threshold to the time of the
sync, because Mailgun adds late events to pages it has already served: the last
30 minutes are read again next time, and events read twice are stored once.

Each domain's missing time is split into windows paged in parallel by --workers,
under one rate limiter for the whole process: a 429 holds every request until
Mailgun's X-Request-Reset; 5xx answers, timeouts, dropped connections and cut
bodies are retried with exponential backoff, at most --retries times a page.

The API key comes from --api-key, $MG_API_KEY or $MAILGUN_API_KEY (prefer the
environment: other users can see a flag in ps). It is never printed, logged or
stored.

Output (--output json) is one document per pass:
  {"source", "api_base", "started", "finished", "seconds", "workers",
   "domains": [{"domain", "events_read", "events_new", "events_seen_again",
     "rejects", "pages", "windows", "requests", "retries", "rate_limited",
     "server_errors", "fetched_from", "fetched_to",
     "synced_ranges": [{"from", "to"}], "metric_periods",
     "suppressions": [{"list", "read", "new", "removed", "pages", "complete"}],
     "error"}],
   "note", "warnings": [{"domain", "list", "status", "message"}]}
"source" is the API the events were read from; "list" is absent in a warning
about a domain's events. Times are RFC 3339 in UTC. With --watch a document is written after every pass.

Exit status: 0 when every domain synced, 3 when any failed after its retries or
the key was refused (what was committed stays), 2 for bad flags.`,
		Example: `  MG_API_KEY=key-... maildiag sync
  maildiag sync --region eu --domain mg.example.com --since 7d
  maildiag sync --source events --no-suppressions
  maildiag sync --metrics            # and a year of daily counts for the report
  maildiag sync --watch --interval 5m
  maildiag sync --api-base http://127.0.0.1:8025 --api-key test-key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			if err := o.validate(); err != nil {
				return err
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			o.fallback = !cmd.Flags().Changed("source")
			err = syncRun(cmd.Context(), s, g, t, format, o)
			return redactKey(err, o.apiKey, o.urlKey)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.domains, "domain", nil, "sending domain to sync (repeatable; default: every domain of the account)")
	o.apiOptions.addFlags(f, "retries of a page after 5xx answers, timeouts, dropped connections or cut bodies")
	f.StringVar(&o.source, "source", ingest.SourceLogs, "where events come from: logs (Logs API; the Events API when it is refused and --source is not given) or events (Events API)")
	f.StringVar(&o.since, "since", "30d", "how far back to read: 30d, 36h, 90m, 2w, a date or an RFC 3339 time")
	f.StringVar(&o.retention, "retention", "30d", "Mailgun's log retention for this account (warns when --since reaches past it)")
	f.DurationVar(&o.lateThreshold, "late-threshold", 30*time.Minute, "events newer than this are read again next time (Mailgun adds late events)")
	f.IntVar(&o.workers, "workers", 8, "windows paged in parallel")
	f.Float64Var(&o.rate, "rate", 0, "at most this many requests a second (0: as fast as Mailgun's 429s allow)")
	f.DurationVar(&o.window, "window", 0, fmt.Sprintf("longest time window one worker pages through, at least %s (default: four windows per worker; at most %d windows a pass)", minWindowFlag, syncer.MaxWindows))
	f.BoolVar(&o.noSuppressions, "no-suppressions", false, "do not read the suppression lists")
	f.BoolVar(&o.metrics, "metrics", false, "also store Mailgun's Metrics API counts (daily for a year, hourly for 60 days): the report's history before the first event")
	f.BoolVar(&o.watch, "watch", false, "keep syncing every --interval until interrupted")
	f.DurationVar(&o.interval, "interval", 5*time.Minute, "time between passes with --watch")
	return cmd
}

// validate checks the flags and resolves the API base, key and spans.
func (o *syncOptions) validate() error {
	if err := o.apiOptions.resolve(); err != nil {
		return err
	}
	if o.source != ingest.SourceEvents && o.source != ingest.SourceLogs {
		return usageErrorf("--source must be events or logs, not %q", o.source)
	}
	var err error
	if o.retentionDur, err = maildiag.ParseSpan(o.retention); err != nil || o.retentionDur <= 0 {
		return usageErrorf("--retention: %q is not a duration such as 30d, 72h or 3d", o.retention)
	}
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := maildiag.ParseWhen(o.since, ref); err != nil || o.since == "" {
		return usageErrorf("--since: %v", orNoValue(err))
	}
	switch {
	case o.workers < 1 || o.workers > 64:
		return usageErrorf("--workers must be from 1 to 64, not %d", o.workers)
	case o.lateThreshold < 0:
		return usageErrorf("--late-threshold must not be negative")
	case o.rate < 0:
		return usageErrorf("--rate must not be negative")
	case o.window != 0 && o.window < minWindowFlag:
		return usageErrorf("--window must be at least %s (each window costs at least one request), not %s", minWindowFlag, o.window)
	case o.watch && o.interval < time.Second:
		return usageErrorf("--interval must be at least 1s")
	}
	for i, d := range o.domains {
		o.domains[i] = strings.ToLower(strings.TrimSpace(d))
		if o.domains[i] == "" {
			return usageErrorf("--domain must not be empty")
		}
	}
	return nil
}

// minWindowFlag is the shortest --window: a shorter one only multiplies
// requests (the APIs page whole seconds).
const minWindowFlag = time.Minute

func orNoValue(err error) error {
	if err == nil {
		return fmt.Errorf("no value")
	}
	return err
}

// engineOptions are the options of a pass; Since or Lookback as --since
// says: a span is taken back from each pass's start.
func (o *syncOptions) engineOptions(now func() time.Time, reclass reclassify.Progress) syncer.Options {
	eo := syncer.Options{Source: o.source, Fallback: o.fallback, Domains: o.domains, LateThreshold: o.lateThreshold, Workers: o.workers,
		Window: o.window, NoSuppressions: o.noSuppressions, Metrics: o.metrics, Now: now, Reclassify: reclass}
	if d, err := maildiag.ParseSpan(o.since); err == nil && d >= 0 {
		eo.Lookback = d
	} else {
		eo.Since, _ = maildiag.ParseWhen(o.since, now()) // a date or a time: validated
	}
	return eo
}

// syncRun syncs once, or keeps syncing with --watch until ctx ends.
func syncRun(ctx context.Context, s *streams, g *globals, t target, format string, o *syncOptions) error {
	// Pages allocate a lot and keep little once stored: collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	db, err := openSyncStore(ctx, t)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	client, err := o.apiOptions.client(o.rate)
	if err != nil {
		return err
	}
	opts := o.engineOptions(g.now, newReclassifyBar(s, true))
	pass := func(ctx context.Context) (*syncer.Summary, error) {
		w, err := db.newWriter(ctx)
		if err != nil {
			return nil, failure(err)
		}
		defer w.Close()
		bars := &syncBars{s: s, o: o}
		sum, err := syncer.Run(ctx, db, w, client, opts, bars)
		bars.finish()
		if sum != nil {
			for _, d := range sum.Domains {
				if d.Err != nil {
					d.Error = explainAPIError(d.Err, o).Error()
				}
			}
		}
		return sum, o.explain(err)
	}
	show := func(sum *syncer.Summary) error {
		if err := render(s.out, format, sum, syncTables(sum)...); err != nil {
			return failure(err)
		}
		if format != "json" {
			if sum.Note != "" {
				fmt.Fprintf(s.err, "maildiag: note: %s\n", sum.Note)
			}
			for _, w := range sum.Warnings {
				fmt.Fprintf(s.err, "maildiag: warning: %s\n", w.Message)
			}
		}
		return nil
	}
	if !o.watch {
		sum, err := pass(ctx)
		if sum != nil {
			if serr := show(sum); serr != nil {
				return serr
			}
		}
		return err
	}
	return syncer.Watch(ctx, o.interval, pass, show, func(n int, err error) {
		fmt.Fprintf(s.err, "maildiag: pass %d: %v (trying again in %s)\n", n, redactKey(err, o.apiKey, o.urlKey), o.interval)
	})
}
