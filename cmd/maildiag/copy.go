package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/analyze/classify"
	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/reclassify"
	"github.com/maildiag/maildiag/remedy"
)

func newCopyCmd(s *streams, g *globals) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "copy --to INDEX [--from INDEX]",
		Short: "Copy an index to another, between SQLite and PostgreSQL, without loss",
		Long: `Copy moves what an index holds into another, of either engine: a laptop's SQLite
file of an old export into the team's PostgreSQL index, or the team's index
into a SQLite file to take along. --from is the configured index (--db,
$MAILDIAG_DB, else the default file) unless given; --to is a SQLite file (made
when missing) or a postgres:// URL. The source is only read (a member of
PostgreSQL's reader role is enough); the destination needs the writer role.

What is copied:
  events          read oldest first with their original JSON and stored the way
                  import stores them: the destination gives them their identity
                  (type, Mailgun id, recipient, UTC day), their classes (with
                  this build's rules) and its counts, so an event it holds
                  already is not stored twice
  suppressions    every entry of every list, removed ones too, with when it was
                  first and last seen and removed, and whether it was imported
  list syncs, synced ranges, Metrics API counts, the audit log (an entry
  the destination has already is not added again), messages kept by
  show --keep, and the key of redacted reports (into an empty destination)
Not copied: rejected records, the history of imports (the copy is recorded as
one import), and serve's users and tokens.

Copying again stores nothing twice. At the end, copy counts what each table
holds on both sides and prints an order-independent checksum of the events'
identities and of the suppression entries (with their times) on each side. It
exits 3 when the destination lacks anything of the source. A destination that
held an index before keeps it: its counts are then larger, and the check is
that every record of the source is in it.

A password in a postgres:// URL is shown nowhere (output, errors, progress).
Output (--output json): {"from", "to", "destination_was_empty", "seconds",
"source" and "destination": {"events", "suppressions", "list_syncs",
"synced_ranges", "metrics", "audit", "kept_messages", "events_checksum",
"suppressions_checksum"}, "copied": {"events_new", "suppressions_new",
"audit_new", "kept_messages"}, "missing": {the same tables: records of the
source the destination lacks}, "not_copied": {"kept_messages"}, "match"}.

Exit status: 0 when the destination holds everything of the source, 2 on usage
errors, 3 on failure or when it does not.`,
		Example: `  # a laptop's index of an old export into the team's PostgreSQL index
  maildiag copy --from ~/mail/2025.db --to postgres://alice@db.example.com/maildiag
  # the team's index into a file (MAILDIAG_DB names the team's index)
  maildiag copy --to ~/mail/team-copy.db
  maildiag copy --from postgres://alice@db.example.com/maildiag --to team.db --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usageErrorf("--to names the index to copy into: a SQLite file or a postgres:// URL")
			}
			src, err := g.dbTarget()
			if cmd.Flags().Changed("from") {
				src, err = parseTarget(from, "--from")
			}
			if err != nil {
				return err
			}
			dst, err := parseTarget(to, "--to")
			if err != nil {
				return err
			}
			if sameTarget(src, dst) {
				return usageErrorf("--from and --to name the same index (%s)", src.where())
			}
			return copyRun(cmd.Context(), s, g.output, src, dst)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the index to copy: a SQLite file or postgres://... (default: --db, $MAILDIAG_DB, else the default file)")
	cmd.Flags().StringVar(&to, "to", "", "the index to copy into: a SQLite file (made when missing) or postgres://...")
	return cmd
}

// where is the target as shown: a file, or a URL without its password.
func (t target) where() string {
	if t.pgURL != "" {
		return pg.Redact(t.pgURL)
	}
	return t.path
}

// sameTarget tells whether two targets name one index.
func sameTarget(a, b target) bool {
	if a.pgURL != "" || b.pgURL != "" {
		return a.pgURL == b.pgURL
	}
	pa, err1 := filepath.Abs(a.path)
	pb, err2 := filepath.Abs(b.path)
	if err1 != nil || err2 != nil {
		return a.path == b.path
	}
	if pa == pb {
		return true
	}
	sa, err1 := os.Stat(pa)
	sb, err2 := os.Stat(pb)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// copySource is what copy reads of an index, of either engine.
type copySource interface {
	SearchEvents(ctx context.Context, f analyze.EventFilter, fn func(ev *maildiag.Event) error) (next string, err error)
	ForEachSuppression(ctx context.Context, fn func(s *maildiag.StoredSuppression) error) error
	ListSyncs(ctx context.Context) ([]maildiag.ListSync, error)
	AllSyncedRanges(ctx context.Context) ([]maildiag.SyncedRange, error)
	AllMetrics(ctx context.Context) ([]maildiag.StoredMetric, error)
	ForEachKeptMessage(ctx context.Context, fn func(m *maildiag.KeptMessage) error) error
	remedy.AuditLog
	Meta(ctx context.Context, key string) (string, error)
	Close() error
}

// copyDest is the index copy writes into: read back for the check.
type copyDest interface {
	copySource
	reclassify.Store
	KeepMessage(ctx context.Context, messageID, storageKey string, doc []byte, at time.Time) error
}

// copyWriter stores into the destination.
type copyWriter interface {
	importer.Writer
	AddAudit(ctx context.Context, e *maildiag.AuditEntry) error
	CopySuppression(ctx context.Context, s *maildiag.StoredSuppression, importID int64) (bool, error)
	SetListSync(ctx context.Context, sendingDomain, list string, syncedUS int64) error
	AddSyncedRange(ctx context.Context, sendingDomain, source string, r maildiag.Range, syncedUS int64) error
	AddMetrics(ctx context.Context, ms []maildiag.Metric, syncedUS int64) error
	Close() error
}

func openCopySource(ctx context.Context, t target) (copySource, int64, error) {
	if t.pgURL != "" {
		db, err := pg.OpenReadOnly(ctx, t.pgURL)
		if err != nil {
			return nil, 0, err
		}
		st, err := db.Status(ctx)
		if err != nil {
			db.Close()
			return nil, 0, err
		}
		return db, st.Events, nil
	}
	db, err := index.OpenReadOnly(ctx, t.path)
	if err != nil {
		return nil, 0, err
	}
	st, err := db.Status(ctx)
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	return db, st.Events, nil
}

func openCopyDest(ctx context.Context, t target) (copyDest, copyWriter, int64, error) {
	if t.pgURL != "" {
		db, err := pg.Open(ctx, t.pgURL)
		if err != nil {
			return nil, nil, 0, err
		}
		st, err := db.Status(ctx)
		if err != nil {
			db.Close()
			return nil, nil, 0, err
		}
		w, err := db.NewWriter(ctx)
		if err != nil {
			db.Close()
			return nil, nil, 0, err
		}
		w.SetBatch(pgImportBatch)
		return db, w, st.Events + int64(len(st.Suppressions)), nil
	}
	db, err := index.Open(ctx, t.path)
	if err != nil {
		return nil, nil, 0, err
	}
	st, err := db.Status(ctx)
	if err != nil {
		db.Close()
		return nil, nil, 0, err
	}
	w, err := db.NewWriter(ctx)
	if err != nil {
		db.Close()
		return nil, nil, 0, err
	}
	return db, w, st.Events + int64(len(st.Suppressions)), nil
}

// copyCounts is what one side holds after the copy.
type copyCounts struct {
	Events               int64  `json:"events"`
	Suppressions         int64  `json:"suppressions"`
	ListSyncs            int64  `json:"list_syncs"`
	SyncedRanges         int64  `json:"synced_ranges"`
	Metrics              int64  `json:"metrics"`
	Audit                int64  `json:"audit"`
	KeptMessages         int64  `json:"kept_messages"`
	EventsChecksum       string `json:"events_checksum"`
	SuppressionsChecksum string `json:"suppressions_checksum"`
}

// copyMissing counts the source's records the destination lacks.
type copyMissing struct {
	Events       int64 `json:"events"`
	Suppressions int64 `json:"suppressions"`
	ListSyncs    int64 `json:"list_syncs"`
	SyncedRanges int64 `json:"synced_ranges"`
	Metrics      int64 `json:"metrics"`
	Audit        int64 `json:"audit"`
	KeptMessages int64 `json:"kept_messages"`
}

func (m copyMissing) any() bool { return m != copyMissing{} }

// copyResult is what copy did; its JSON is the contract.
type copyResult struct {
	From                string  `json:"from"`
	To                  string  `json:"to"`
	DestinationWasEmpty bool    `json:"destination_was_empty"`
	Seconds             float64 `json:"seconds"`
	Copied              struct {
		EventsNew       int   `json:"events_new"`
		SuppressionsNew int   `json:"suppressions_new"`
		AuditNew        int   `json:"audit_new"`
		KeptMessages    int64 `json:"kept_messages"`
	} `json:"copied"`
	Source      copyCounts  `json:"source"`
	Destination copyCounts  `json:"destination"`
	Missing     copyMissing `json:"missing"`
	NotCopied   struct {
		KeptMessages int64 `json:"kept_messages"` // of messages whose events the source does not hold
	} `json:"not_copied"`
	Match bool `json:"match"`

	skippedKept map[string]bool // storage keys of the kept messages not copied
}

// copyCommitEvery is how many suppression entries one transaction stores.
const copyCommitEvery = 5000

func copyRun(ctx context.Context, s *streams, format string, from, to target) error {
	start := time.Now()
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(importMemoryLimit))
	}
	src, total, err := openCopySource(ctx, from)
	if err != nil {
		return failure(fmt.Errorf("copy from %s: %w", from.where(), err))
	}
	defer src.Close()
	dst, w, held, err := openCopyDest(ctx, to)
	if err != nil {
		return failure(fmt.Errorf("copy to %s: %w", to.where(), err))
	}
	defer dst.Close()
	defer w.Close()
	res := &copyResult{From: from.where(), To: to.where(), DestinationWasEmpty: held == 0}
	if err := copyAll(ctx, s, src, dst, w, total, res); err != nil {
		return failure(err)
	}
	if err := checkCopy(ctx, src, dst, res); err != nil {
		return failure(err)
	}
	res.Seconds = float64(time.Since(start).Milliseconds()) / 1000
	if err := renderCopy(s, format, res); err != nil {
		return failure(err)
	}
	if !res.Match {
		return failure(fmt.Errorf("the copy does not match its source: %s; run it again, and if it still differs, report it", missingWords(res.Missing, res)))
	}
	return nil
}

// copyAll copies every table, each in transactions that the destination
// commits as import does; an interrupted copy keeps what it committed, and
// running it again completes it.
func copyAll(ctx context.Context, s *streams, src copySource, dst copyDest, w copyWriter, total int64, res *copyResult) error {
	im, err := importer.New(ctx, dst, w, importer.Options{}, newReclassifyBar(s, true))
	if err != nil {
		return fmt.Errorf("copy to %s: %w", res.To, err)
	}
	// The kept messages first: a SQLite source knows them by storage
	// key only, which the events carry with their message-id.
	var kept []maildiag.KeptMessage
	if err := src.ForEachKeptMessage(ctx, func(m *maildiag.KeptMessage) error {
		kept = append(kept, *m)
		return nil
	}); err != nil {
		return err
	}
	needID := map[string]string{}
	for _, m := range kept {
		if m.MessageID == "" {
			needID[m.StorageKey] = ""
		}
	}

	// Events, oldest first, through the import path.
	bar := newBar(s, total, "copying events")
	var read int64
	const batchSize = 5000
	batch := &ingest.Batch{}
	imp, err := im.ImportBatches(ctx, "copy of "+res.From, importer.Progress{}, func(emit func(*ingest.Batch) error) error {
		_, err := src.SearchEvents(ctx, analyze.EventFilter{Asc: true}, func(ev *maildiag.Event) error {
			if len(needID) > 0 && ev.StorageURL != "" {
				key := ev.StorageURL[strings.LastIndexByte(ev.StorageURL, '/')+1:]
				if id, ok := needID[key]; ok && id == "" {
					needID[key] = ev.MessageID
				}
			}
			batch.Events = append(batch.Events, copiedEvent(ev))
			read++
			if len(batch.Events) < batchSize {
				return nil
			}
			bar.set(read)
			err := emit(batch)
			batch = &ingest.Batch{}
			return err
		})
		if err == nil && len(batch.Events) > 0 {
			err = emit(batch)
		}
		return err
	})
	bar.finish()
	if err != nil {
		return err
	}
	res.Copied.EventsNew = imp.EventsNew

	// Suppression entries, with their times.
	n := 0
	err = src.ForEachSuppression(ctx, func(e *maildiag.StoredSuppression) error {
		importID := int64(0)
		if e.Imported {
			importID = imp.ID
		}
		added, err := w.CopySuppression(ctx, e, importID)
		if err != nil {
			return err
		}
		imp.SuppressionsRead++
		if added {
			imp.SuppressionsNew++
		}
		if n++; n%copyCommitEvery == 0 {
			return w.Commit(ctx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.Copied.SuppressionsNew = imp.SuppressionsNew

	syncs, err := src.ListSyncs(ctx)
	if err != nil {
		return err
	}
	for _, l := range syncs {
		if err := w.SetListSync(ctx, l.SendingDomain, l.List, l.SyncedUS); err != nil {
			return err
		}
	}
	ranges, err := src.AllSyncedRanges(ctx)
	if err != nil {
		return err
	}
	for _, r := range ranges {
		if err := w.AddSyncedRange(ctx, r.SendingDomain, r.Source, r.Range, r.SyncedUS); err != nil {
			return err
		}
	}
	// Metrics: a period the destination has from a later sync keeps it.
	ms, err := src.AllMetrics(ctx)
	if err != nil {
		return err
	}
	have, err := dst.AllMetrics(ctx)
	if err != nil {
		return err
	}
	newer := map[string]int64{}
	for _, m := range have {
		newer[metricKey(&m.Metric)] = m.SyncedUS
	}
	for _, m := range ms {
		if at, ok := newer[metricKey(&m.Metric)]; ok && at >= m.SyncedUS {
			continue
		}
		if err := w.AddMetrics(ctx, []maildiag.Metric{m.Metric}, m.SyncedUS); err != nil {
			return err
		}
	}
	// The audit: an entry the destination holds already is not added.
	entries, err := src.Audit(ctx, maildiag.AuditFilter{})
	if err != nil {
		return err
	}
	known, err := auditKeys(ctx, dst)
	if err != nil {
		return err
	}
	for i := range entries {
		e := entries[i]
		if known[auditKey(&e)] {
			continue
		}
		e.ID = 0
		if err := w.AddAudit(ctx, &e); err != nil {
			return err
		}
		known[auditKey(&e)] = true
		res.Copied.AuditNew++
	}
	// The key of redacted reports, so that they name addresses as the
	// source's did: into an index that held nothing only.
	if res.DestinationWasEmpty {
		salt, err := src.Meta(ctx, "redact_salt")
		if err != nil {
			return err
		}
		if salt != "" {
			if err := w.SetMeta(ctx, "redact_salt", salt); err != nil {
				return err
			}
		}
	}
	imp.FinishedUS = time.Now().UnixMicro()
	if err := w.SaveImport(ctx, imp); err != nil {
		return err
	}
	if err := w.Commit(ctx); err != nil {
		return err
	}
	// Kept messages go through the index itself, as show --keep stores
	// them.
	for _, m := range kept {
		id := m.MessageID
		if id == "" {
			id = needID[m.StorageKey]
		}
		if id == "" {
			res.NotCopied.KeptMessages++
			if res.skippedKept == nil {
				res.skippedKept = map[string]bool{}
			}
			res.skippedKept[m.StorageKey] = true
			continue
		}
		if err := dst.KeepMessage(ctx, id, m.StorageKey, m.Doc, time.UnixMicro(m.FetchedUS).UTC()); err != nil {
			return err
		}
		res.Copied.KeptMessages++
	}
	return nil
}

// copiedEvent is a stored event as import would store it: parsed again
// from its original JSON (class, rule and gateway derived with this
// build's rules), with the sending domain the source stored (an import's
// --sending-domain is in no JSON). An original the normaliser cannot read
// again, or that reads as another event, is copied as the source stored
// it.
func copiedEvent(stored *maildiag.Event) maildiag.Event {
	raw := bytes.Clone(stored.Raw)
	ev, err := ingest.ParseEvent(raw)
	if err != nil || ev.Type != stored.Type || ev.ID != stored.ID || ev.Recipient != stored.Recipient || ev.TimeUS != stored.TimeUS {
		e := *stored
		e.Raw = raw
		return e
	}
	if stored.SendingDomain != "" {
		ev.SendingDomain = stored.SendingDomain
	}
	classify.Derive(&ev)
	return ev
}

func metricKey(m *maildiag.Metric) string {
	return m.SendingDomain + "\x00" + m.Resolution + "\x00" + strconv.FormatInt(m.StartUS, 10)
}

// auditKey is an audit entry without its row id.
func auditKey(e *maildiag.AuditEntry) string {
	c := *e
	c.ID = 0
	b, _ := json.Marshal(c)
	return string(b)
}

func auditKeys(ctx context.Context, l remedy.AuditLog) (map[string]bool, error) {
	entries, err := l.Audit(ctx, maildiag.AuditFilter{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(entries))
	for i := range entries {
		out[auditKey(&entries[i])] = true
	}
	return out, nil
}

// hash64 is the first 8 bytes of the SHA-256 of the parts.
func hash64(parts ...string) uint64 {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// checksum is an order-independent sum of hashes, as shown.
func checksum(sum uint64, n int64) string {
	return fmt.Sprintf("%016x", sum) + "/" + strconv.FormatInt(n, 10)
}

// eventIdentity is an event's identity hash: type, Mailgun id, recipient
// and UTC day, as both engines keep it.
func eventIdentity(ev *maildiag.Event) uint64 {
	day := ev.TimeUS / 86_400_000_000
	if ev.TimeUS < 0 && ev.TimeUS%86_400_000_000 != 0 {
		day--
	}
	return hash64(ev.Type, ev.ID, ev.Recipient, strconv.FormatInt(day, 10))
}

func suppressionHash(e *maildiag.StoredSuppression) uint64 {
	return hash64(e.SendingDomain, e.List, e.Address, strconv.FormatInt(e.CreatedUS, 10), strconv.FormatInt(e.FirstSeenUS, 10),
		strconv.FormatInt(e.LastSeenUS, 10), strconv.FormatInt(e.RemovedUS, 10), strconv.FormatBool(e.Imported))
}

// census counts what an index holds and sums its hashes; the hashes
// themselves are kept when keep is set.
type census struct {
	counts      copyCounts
	events      []uint64 // sorted, when kept
	supps       map[uint64]int
	listSyncs   map[[2]string]int64
	ranges      map[[2]string][]maildiag.Range
	metrics     map[string]maildiag.StoredMetric
	audit       map[string]bool
	keptStorage map[string]bool
}

func takeCensus(ctx context.Context, st copySource, keep bool) (*census, error) {
	c := &census{supps: map[uint64]int{}, listSyncs: map[[2]string]int64{}, ranges: map[[2]string][]maildiag.Range{},
		metrics: map[string]maildiag.StoredMetric{}, keptStorage: map[string]bool{}}
	var sum uint64
	_, err := st.SearchEvents(ctx, analyze.EventFilter{Asc: true}, func(ev *maildiag.Event) error {
		h := eventIdentity(ev)
		sum += h
		c.counts.Events++
		if keep {
			c.events = append(c.events, h)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(c.events)
	c.counts.EventsChecksum = checksum(sum, c.counts.Events)
	sum = 0
	if err := st.ForEachSuppression(ctx, func(e *maildiag.StoredSuppression) error {
		h := suppressionHash(e)
		sum += h
		c.supps[h]++
		c.counts.Suppressions++
		return nil
	}); err != nil {
		return nil, err
	}
	c.counts.SuppressionsChecksum = checksum(sum, c.counts.Suppressions)
	syncs, err := st.ListSyncs(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range syncs {
		c.listSyncs[[2]string{l.SendingDomain, l.List}] = l.SyncedUS
	}
	c.counts.ListSyncs = int64(len(syncs))
	ranges, err := st.AllSyncedRanges(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range ranges {
		k := [2]string{r.SendingDomain, r.Source}
		c.ranges[k] = append(c.ranges[k], r.Range)
	}
	c.counts.SyncedRanges = int64(len(ranges))
	ms, err := st.AllMetrics(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		c.metrics[metricKey(&m.Metric)] = m
	}
	c.counts.Metrics = int64(len(ms))
	if c.audit, err = auditKeys(ctx, st); err != nil {
		return nil, err
	}
	c.counts.Audit = int64(len(c.audit))
	if err := st.ForEachKeptMessage(ctx, func(m *maildiag.KeptMessage) error {
		c.keptStorage[m.StorageKey] = true
		c.counts.KeptMessages++
		return nil
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// checkCopy counts both sides and what of the source the destination
// lacks.
func checkCopy(ctx context.Context, src copySource, dst copyDest, res *copyResult) error {
	a, err := takeCensus(ctx, src, true)
	if err != nil {
		return fmt.Errorf("check the copy: read %s: %w", res.From, err)
	}
	b, err := takeCensus(ctx, dst, true)
	if err != nil {
		return fmt.Errorf("check the copy: read %s: %w", res.To, err)
	}
	res.Source, res.Destination = a.counts, b.counts
	m := &res.Missing
	for _, h := range a.events {
		if _, ok := slices.BinarySearch(b.events, h); !ok {
			m.Events++
		}
	}
	for h, n := range a.supps {
		if b.supps[h] < n {
			m.Suppressions += int64(n - b.supps[h])
		}
	}
	for k, at := range a.listSyncs {
		if got, ok := b.listSyncs[k]; !ok || got < at {
			m.ListSyncs++
		}
	}
	for k, rs := range a.ranges {
		for _, r := range rs {
			if !covered(r, b.ranges[k]) {
				m.SyncedRanges++
			}
		}
	}
	for k, x := range a.metrics {
		// The destination may hold the period from a later sync.
		if y, ok := b.metrics[k]; !ok || y.SyncedUS < x.SyncedUS || y.SyncedUS == x.SyncedUS && y.Metric != x.Metric {
			m.Metrics++
		}
	}
	for k := range a.audit {
		if !b.audit[k] {
			m.Audit++
		}
	}
	for k := range a.keptStorage {
		if !b.keptStorage[k] && !res.skippedKept[k] {
			m.KeptMessages++
		}
	}
	res.Match = !m.any()
	if res.DestinationWasEmpty && (a.counts.EventsChecksum != b.counts.EventsChecksum || a.counts.SuppressionsChecksum != b.counts.SuppressionsChecksum) {
		res.Match = false
	}
	return nil
}

// covered tells whether rs (merged ranges) cover r.
func covered(r maildiag.Range, rs []maildiag.Range) bool {
	for _, x := range rs {
		if x.FromUS <= r.FromUS && r.ToUS <= x.ToUS {
			return true
		}
	}
	return false
}

func missingWords(m copyMissing, res *copyResult) string {
	var parts []string
	for _, x := range []struct {
		n    int64
		what string
	}{{m.Events, "events"}, {m.Suppressions, "suppression entries"}, {m.ListSyncs, "list syncs"}, {m.SyncedRanges, "synced ranges"},
		{m.Metrics, "metrics periods"}, {m.Audit, "audit entries"}, {m.KeptMessages, "kept messages"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("the checksums differ (events %s and %s, suppressions %s and %s)", res.Source.EventsChecksum,
			res.Destination.EventsChecksum, res.Source.SuppressionsChecksum, res.Destination.SuppressionsChecksum)
	}
	return "the destination lacks " + strings.Join(parts, ", ")
}

func renderCopy(s *streams, format string, res *copyResult) error {
	t := &table{title: fmt.Sprintf("Copied %s to %s in %.1fs", res.From, res.To, res.Seconds),
		columns: []string{"table", "source", "destination", "new", "missing"}}
	a, b, m := res.Source, res.Destination, res.Missing
	t.add("events", a.Events, b.Events, res.Copied.EventsNew, m.Events)
	t.add("suppressions", a.Suppressions, b.Suppressions, res.Copied.SuppressionsNew, m.Suppressions)
	t.add("list_syncs", a.ListSyncs, b.ListSyncs, "", m.ListSyncs)
	t.add("synced_ranges", a.SyncedRanges, b.SyncedRanges, "", m.SyncedRanges)
	t.add("metrics", a.Metrics, b.Metrics, "", m.Metrics)
	t.add("audit", a.Audit, b.Audit, res.Copied.AuditNew, m.Audit)
	t.add("kept_messages", a.KeptMessages, b.KeptMessages, res.Copied.KeptMessages, m.KeptMessages)
	sums := &table{title: "Checksums (order-independent; hash sum/count)", columns: []string{"of", "source", "destination"}}
	sums.add("event identities", a.EventsChecksum, b.EventsChecksum)
	sums.add("suppression entries", a.SuppressionsChecksum, b.SuppressionsChecksum)
	if err := render(s.out, format, res, t, sums); err != nil {
		return err
	}
	if format == "table" {
		switch {
		case res.NotCopied.KeptMessages > 0:
			fmt.Fprintf(s.err, "maildiag: %d kept message(s) not copied: the source holds none of their events\n", res.NotCopied.KeptMessages)
		}
		if res.Match && !res.DestinationWasEmpty {
			fmt.Fprintln(s.err, "maildiag: the destination held an index before: it holds every record of the source, and its own")
		}
	}
	return nil
}
