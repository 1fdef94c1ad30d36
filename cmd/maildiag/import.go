package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

type importOptions struct {
	files         []string
	sendingDomain string
	strict        bool
	maxShown      int
	stats         bool // print the events read so far at each commit (benchmarks)
}

func newImportCmd(s *streams, g *globals) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE... | -",
		Short: "Load exported Mailgun events or suppression lists into the index",
		Long: `Import reads exported Mailgun data and stores it in the index, once: importing
the same events again (or events also synced from the API) stores nothing twice.

The shape of each input is detected from its content, not its name: JSON lines,
JSON arrays, Events API pages {"items":[...],"paging":{...}}, Logs API pages
{"items":[...],"pagination":{...}}, webhook payloads {"signature":..,"event-data":..},
legacy flat webhooks, CSV with a header row, and suppression-list CSV exports
(address,code,error,created_at / address,tags,created_at / address,created_at).
gzip is detected by its magic bytes. "-" reads standard input.

A malformed record is reported with its file and line, kept in the rejects
table with its raw text, and the rest of the file still loads.`,
		Example: `  maildiag import events-2026-11.jsonl.gz logs-page-*.json
  mailgun-export | maildiag import -
  maildiag import --sending-domain mg.example.com bounces.csv
  maildiag import --strict webhooks.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			format, err := g.format()
			if err != nil {
				return err
			}
			path, err := g.dbPath()
			if err != nil {
				return failure(err)
			}
			return importRun(cmd.Context(), s, path, format, o)
		},
	}
	cmd.Flags().StringVar(&o.sendingDomain, "sending-domain", "", "sending domain for records that do not name one (suppression CSV exports never do)")
	cmd.Flags().BoolVar(&o.strict, "strict", false, "exit non-zero when any record is rejected")
	cmd.Flags().IntVar(&o.maxShown, "show-rejects", 20, "rejected records to print per file (all are stored)")
	cmd.Flags().BoolVar(&o.stats, "stats", false, "print the events read and seconds elapsed at each commit, on stderr")
	cmd.Flags().MarkHidden("stats")
	return cmd
}

// commitEvery is how many input records go into one transaction: large
// enough that index pages dirtied by scattered inserts are written once for
// many events.
const commitEvery = 200_000

func importRun(ctx context.Context, s *streams, path, format string, o *importOptions) error {
	stdinUsed := false
	for _, f := range o.files {
		if f == "-" {
			if stdinUsed {
				return usageErrorf("standard input (-) can be named only once")
			}
			stdinUsed = true
		}
	}
	db, err := index.Open(ctx, path)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	w, err := db.NewWriter(ctx)
	if err != nil {
		return failure(err)
	}
	defer w.Close()
	if err := ensureRules(ctx, s, db, w); err != nil {
		return failure(err)
	}

	var results []*maildiag.Import
	bad := 0
	for _, f := range o.files {
		imp, err := importOne(ctx, s, w, f, o)
		if imp != nil {
			results = append(results, imp)
		}
		if err != nil {
			if ctx.Err() != nil {
				return failure(ctx.Err())
			}
			var ee *exitError
			if errors.As(err, &ee) && ee.code == exitFailure {
				return err
			}
			fmt.Fprintf(s.err, "maildiag: %v\n", err)
			bad++
		}
	}
	t := &table{columns: []string{"source", "shape", "read", "new", "seen_before", "suppressions", "rejects", "mb_per_s", "events_per_s"}}
	for _, r := range results {
		secs := float64(r.FinishedUS-r.StartedUS) / 1e6
		rate, mbs := 0.0, 0.0
		if secs > 0 {
			rate = float64(r.EventsRead) / secs
			mbs = float64(r.Bytes) / 1e6 / secs
		}
		t.add(r.Source, shapeList(r.Shapes), r.EventsRead, r.EventsNew, r.EventsRead-r.EventsNew,
			fmt.Sprintf("%d (%d new)", r.SuppressionsRead, r.SuppressionsNew), r.Rejects,
			fmt.Sprintf("%.1f", mbs), fmt.Sprintf("%.0f", rate))
	}
	if err := render(s.out, format, results, t); err != nil {
		return failure(err)
	}
	rejects := 0
	for _, r := range results {
		rejects += r.Rejects
	}
	switch {
	case bad > 0:
		return errNo
	case o.strict && rejects > 0:
		return &exitError{code: exitNo, err: fmt.Errorf("--strict: %d record(s) rejected (see: maildiag query \"SELECT * FROM rejects\")", rejects)}
	}
	return nil
}

func shapeList(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s:%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// importOne reads one input into the index. Errors about the input itself
// are returned plainly; errors of the index are wrapped with failure().
func importOne(ctx context.Context, s *streams, w *index.Writer, name string, o *importOptions) (*maildiag.Import, error) {
	var r io.Reader
	var size int64 = -1
	source := name
	if name == "-" {
		r, source = s.in, "-"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, unwrapPathError(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				return nil, fmt.Errorf("%s: is a directory", name)
			}
			size = st.Size()
		}
		r = f
	}
	imp, err := w.StartImport(ctx, source)
	if err != nil {
		return nil, failure(err)
	}
	bar := newProgress(s, size, "importing "+source)
	shown := 0
	sinceCommit := 0
	var sum *ingest.Summary
	sum, err = ingest.Read(ctx, r, ingest.Options{SendingDomain: o.sendingDomain, Progress: bar.set}, func(b *ingest.Batch) error {
		n, err := w.AddEvents(ctx, b.Events, imp.ID)
		if err != nil {
			return failure(err)
		}
		imp.EventsRead += len(b.Events)
		imp.EventsNew += n
		sn, err := w.AddSuppressions(ctx, b.Suppressions, imp.ID, imp.StartedUS)
		if err != nil {
			return failure(err)
		}
		imp.SuppressionsRead += len(b.Suppressions)
		imp.SuppressionsNew += sn
		if err := w.AddRejects(ctx, source, imp.ID, b.Rejects); err != nil {
			return failure(err)
		}
		imp.Rejects += len(b.Rejects)
		for _, rj := range b.Rejects {
			if shown < o.maxShown {
				bar.clear()
				fmt.Fprintf(s.err, "%s: %s\n", where(source, rj.Line, rj.Item), rj.Reason)
			}
			shown++
		}
		sinceCommit += len(b.Events) + len(b.Suppressions) + len(b.Rejects)
		if sinceCommit >= commitEvery {
			sinceCommit = 0
			imp.FinishedUS = time.Now().UnixMicro()
			if err := w.SaveImport(ctx, imp); err != nil {
				return failure(err)
			}
			if err := w.Commit(ctx); err != nil {
				return failure(err)
			}
			if o.stats {
				fmt.Fprintf(s.err, "stats\t%d\t%.3f\n", imp.EventsRead, float64(time.Now().UnixMicro()-imp.StartedUS)/1e6)
			}
		}
		return nil
	})
	bar.finish()
	if shown > o.maxShown {
		fmt.Fprintf(s.err, "%s: %d more rejected records (all are in the index: maildiag query \"SELECT line, reason FROM rejects WHERE import_id = %d\")\n",
			source, shown-o.maxShown, imp.ID)
	}
	if sum != nil {
		imp.Bytes, imp.SHA256, imp.Gzip = sum.Bytes, sum.SHA256, sum.Gzip
		imp.Shapes = sum.Shapes
	}
	imp.FinishedUS = time.Now().UnixMicro()
	imp.Status = "done"
	var ee *exitError
	switch {
	case err != nil && errors.As(err, &ee):
		w.Rollback()
		return imp, err
	case err != nil && ctx.Err() != nil:
		return imp, failure(ctx.Err())
	case err != nil:
		// The input failed part-way (unknown shape, read error): keep what
		// loaded and say so.
		imp.Status, imp.Error = "failed", err.Error()
		err = fmt.Errorf("%s: %w", source, err)
	}
	if serr := w.SaveImport(ctx, imp); serr != nil {
		return imp, failure(serr)
	}
	if cerr := w.Commit(ctx); cerr != nil {
		return imp, failure(cerr)
	}
	return imp, err
}

func where(source string, line int64, item int) string {
	switch {
	case line > 0 && item > 0:
		return fmt.Sprintf("%s:%d (item %d)", source, line, item)
	case line > 0:
		return fmt.Sprintf("%s:%d", source, line)
	}
	return source
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
