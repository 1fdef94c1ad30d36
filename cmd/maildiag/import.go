package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/ingest"
)

type importOptions struct {
	files         []string
	sendingDomain string
	strict        bool
	maxShown      int
	stats         bool      // print the events read so far at each commit (benchmarks)
	commitEvery   int       // records a transaction holds at most (tests); 0: importer.DefaultCommitEvery
	seenAt        time.Time // when the lists read were seen (--now); zero: now
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
			o.files, o.seenAt = args, g.seenAt()
			format := g.output
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return importRun(cmd.Context(), s, t, format, o)
		},
	}
	cmd.Flags().StringVar(&o.sendingDomain, "sending-domain", "", "sending domain for records that do not name one (suppression CSV exports never do)")
	cmd.Flags().BoolVar(&o.strict, "strict", false, "exit non-zero when any record is rejected")
	cmd.Flags().IntVar(&o.maxShown, "show-rejects", 20, "rejected records to print per file (all are stored)")
	cmd.Flags().BoolVar(&o.stats, "stats", false, "print the events read, seconds elapsed and CPU seconds used at each commit, on stderr")
	cmd.Flags().MarkHidden("stats")
	cmd.Flags().IntVar(&o.commitEvery, "commit-every", 0, "records one transaction holds at most (default 200000)")
	cmd.Flags().MarkHidden("commit-every")
	return cmd
}

// importMemoryLimit is the Go heap an import aims to stay under (SQLite's
// page cache and zstd's buffers come on top): the collector otherwise lets
// the heap grow to twice what is live, and a 3M-event transactional import
// peaked at 1.16 GB with 525 MB live. It is well above what an import keeps
// live (about 200 MB at 10M transactional events): at 320 MiB, with
// 400k-record transactions, the collector ran all the time past 3.5M events
// and the rate fell from 22k to 6k events/s. At 400 MiB, 10M transactional
// events peaked at 525 MB. Since the writer's caches are fixed tables
// (idCache), the live heap of that import stays at 235-275 MB and, at 360
// MiB, the collector ran 382 times (1% of the CPU) for a peak of 496 MB;
// SQLite's page cache (64 MB) and zstd's buffers come on top. At 340 MiB a
// 10M-event marketing import peaked at 487-501 MB (a bench printed 501.1);
// at 330 MiB, 478-480 MB, and transactional 467 MB against 477 with 318
// collections against 271 (one run each; 1M-event imports: 26 either way).
const importMemoryLimit = 330 << 20

// pgImportBatch is how many events a PostgreSQL import merges at once.
const pgImportBatch = 50_000

func importRun(ctx context.Context, s *streams, to target, format string, o *importOptions) error {
	stdinUsed := false
	for _, f := range o.files {
		if f == "-" {
			if stdinUsed {
				return usageErrorf("standard input (-) can be named only once")
			}
			stdinUsed = true
		}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(importMemoryLimit))
	}
	db, w, err := openWriter(ctx, to)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	defer w.Close()
	if b, ok := w.(interface{ SetBatch(int) }); ok {
		b.SetBatch(pgImportBatch)
	}
	im, err := importer.New(ctx, db, w, importer.Options{SendingDomain: o.sendingDomain, SeenAt: o.seenAt, CommitEvery: o.commitEvery}, newReclassifyBar(s, true))
	if err != nil {
		return failure(err)
	}

	var results []*maildiag.Import
	bad, unreadable := 0, 0
	for _, f := range o.files {
		imp, err := importOne(ctx, s, im, f, o)
		if imp != nil {
			results = append(results, imp)
		}
		var ie *importer.InputError
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return failure(ctx.Err())
		case errors.As(err, &ie):
			fmt.Fprintf(s.err, "maildiag: %v\n", err)
			bad++
			if errors.Is(err, ingest.ErrTooLong) {
				unreadable++ // /dev/zero, a binary file: not an input that merely failed to parse
			}
		default:
			return failure(err)
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
		// A file of which every record was rejected is an input not
		// loaded, though it was read to its end.
		if r.Rejects > 0 && r.EventsRead == 0 && r.SuppressionsRead == 0 {
			fmt.Fprintf(s.err, "maildiag: %s: every record (%d) was rejected: nothing loaded\n", r.Source, r.Rejects)
			bad++
		}
	}
	switch {
	case unreadable > 0:
		return errFailure
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

// importOne opens one input and imports it, with a progress bar and the
// first rejected records printed.
func importOne(ctx context.Context, s *streams, im *importer.Importer, name string, o *importOptions) (*maildiag.Import, error) {
	var r io.Reader
	var size int64 = -1
	source := name
	if name == "-" {
		r, source = s.in, "-"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, &importer.InputError{Source: name, Err: unwrapPathError(err)}
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				return nil, &importer.InputError{Source: name, Err: errors.New("is a directory")}
			}
			size = st.Size()
		}
		r = f
	}
	bar := newProgress(s, size, "importing "+source)
	shown := 0
	why := map[string]int{}
	p := importer.Progress{Read: bar.set, Reject: func(rj maildiag.Reject) {
		if shown < o.maxShown {
			bar.clear()
			fmt.Fprintf(s.err, "%s: %s\n", rj.Where(source), rj.Reason)
		}
		shown++
		why[rejectKind(rj.Reason)]++
	}}
	if o.stats {
		p.Commit = func(imp *maildiag.Import) {
			fmt.Fprintf(s.err, "stats\t%d\t%.3f\t%.3f\n", imp.EventsRead, float64(time.Now().UnixMicro()-imp.StartedUS)/1e6, cpuSeconds())
		}
	}
	imp, err := im.Import(ctx, r, source, p)
	bar.finish()
	if shown > o.maxShown && imp != nil {
		fmt.Fprintf(s.err, "%s: %d more rejected records (all are in the index: maildiag query \"SELECT line, reason FROM rejects WHERE import_id = %d\")\n",
			source, shown-o.maxShown, imp.ID)
	}
	if shown > 0 && imp != nil {
		fmt.Fprintf(s.err, "%s: %d record(s) rejected and skipped (%s); reading went on after each\n", source, shown, kindList(why))
	}
	return imp, err
}

// rejectKind is the reason of a reject without its details: the words
// before the first colon ("invalid JSON", "not a JSON object").
func rejectKind(reason string) string {
	if i := strings.IndexByte(reason, ':'); i > 0 {
		return reason[:i]
	}
	return reason
}

// kindList lists reject kinds with their counts, most frequent first.
func kindList(m map[string]int) string {
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if m[kinds[i]] != m[kinds[j]] {
			return m[kinds[i]] > m[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
