package importer

import (
	"context"
	"io"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/reclassify"
)

// Writer is what an import stores through, in transactions it commits.
type Writer interface {
	reclassify.Writer
	StartImport(ctx context.Context, source string) (*maildiag.Import, error)
	SaveImport(ctx context.Context, imp *maildiag.Import) error
	AddEvents(ctx context.Context, evs []maildiag.Event, importID int64) (int, error)
	AddSuppressions(ctx context.Context, ss []maildiag.Suppression, importID, seenUS int64) (int, error)
	AddRejects(ctx context.Context, source string, importID int64, rs []maildiag.Reject) error
	Rollback()
}

// preparer is a Writer that does part of storing events ahead, on the
// goroutines that decode them (the SQLite index hashes them there), and
// then stores them with what it prepared.
type preparer interface {
	PrepareEvents(evs []maildiag.Event) any
	AddPreparedEvents(ctx context.Context, evs []maildiag.Event, prepared any, importID int64) (int, error)
}

// flusher is a Writer that may keep events back to store many at once
// (PostgreSQL's merge costs the same for a thousand events as for tens of
// thousands): AddEvents counts none of those it keeps, and Flush stores
// them and returns how many were new.
type flusher interface {
	Flush(ctx context.Context) (int, error)
}

// Options are the settings of every input of an import.
type Options struct {
	// SendingDomain is used for records that do not name one (suppression
	// CSV exports never do).
	SendingDomain string
	// CommitEvery is how many input records go into one transaction at
	// most; 0 is DefaultCommitEvery.
	CommitEvery int
	// SeenAt is when the list entries read were seen on their lists (the
	// export's time); zero: when the import started.
	SeenAt time.Time
}

// DefaultCommitEvery is large enough that index pages dirtied by
// scattered inserts are written once for many events.
const DefaultCommitEvery = 200_000

// Progress hears how one input goes; any field may be nil.
type Progress struct {
	Read   func(bytes int64)          // input bytes read so far
	Reject func(r maildiag.Reject)    // a record rejected (and stored as such), as it comes
	Commit func(imp *maildiag.Import) // a transaction committed, with the counts so far
}

// InputError is an input that failed part-way (not a Mailgun export, a
// read error): what loaded before it stays, and its provenance says so.
type InputError struct {
	Source string
	Err    error
}

// Error names the input and what went wrong with it.
func (e *InputError) Error() string { return e.Source + ": " + e.Err.Error() }

// Unwrap returns what went wrong.
func (e *InputError) Unwrap() error { return e.Err }

// Importer loads inputs into a store through one writer.
type Importer struct {
	w Writer
	o Options
}

// New readies a store for imports: classes stored under other rules are
// re-derived first (reclassify.EnsureRules, reported to p, which may be
// nil).
func New(ctx context.Context, st reclassify.Store, w Writer, o Options, p reclassify.Progress) (*Importer, error) {
	if err := reclassify.EnsureRules(ctx, st, w, p); err != nil {
		return nil, err
	}
	if o.CommitEvery <= 0 {
		o.CommitEvery = DefaultCommitEvery
	}
	return &Importer{w: w, o: o}, nil
}

// Import reads one input, named source, into the store and returns its
// provenance. An input that fails part-way is an *InputError, with what
// loaded before committed; any other error (the store's, ctx's) leaves
// the open transaction uncommitted.
func (im *Importer) Import(ctx context.Context, r io.Reader, source string, p Progress) (*maildiag.Import, error) {
	return im.run(ctx, source, p, func(emit func(*ingest.Batch) error) (*ingest.Summary, error) {
		o := ingest.Options{SendingDomain: im.o.SendingDomain, Progress: p.Read}
		if pw, ok := im.w.(preparer); ok {
			o.Prepare = pw.PrepareEvents
		}
		return ingest.Read(ctx, r, o, emit)
	})
}

// ImportBatches stores the batches produce emits as Import stores an
// input's, under one import named source: maildiag copy feeds it another
// index's events. An error of produce is the input's (an *InputError, what
// loaded before committed).
func (im *Importer) ImportBatches(ctx context.Context, source string, p Progress, produce func(emit func(*ingest.Batch) error) error) (*maildiag.Import, error) {
	return im.run(ctx, source, p, func(emit func(*ingest.Batch) error) (*ingest.Summary, error) {
		return nil, produce(emit)
	})
}

func (im *Importer) run(ctx context.Context, source string, p Progress, read func(emit func(*ingest.Batch) error) (*ingest.Summary, error)) (*maildiag.Import, error) {
	w := im.w
	imp, err := w.StartImport(ctx, source)
	if err != nil {
		return nil, err
	}
	var storeErr error // the store failed: the input is not to blame
	sinceCommit := 0
	sum, err := read(func(b *ingest.Batch) error {
		if storeErr = im.store(ctx, imp, b, p); storeErr != nil {
			return storeErr
		}
		sinceCommit += len(b.Events) + len(b.Suppressions) + len(b.Rejects)
		if sinceCommit < im.o.CommitEvery {
			return nil
		}
		sinceCommit = 0
		if storeErr = im.commit(ctx, imp); storeErr == nil && p.Commit != nil {
			p.Commit(imp)
		}
		return storeErr
	})
	if sum != nil {
		imp.Bytes, imp.SHA256, imp.Gzip = sum.Bytes, sum.SHA256, sum.Gzip
		imp.Shapes = sum.Shapes
	}
	imp.Status = maildiag.ImportDone
	switch {
	case storeErr != nil:
		w.Rollback()
		return imp, storeErr
	case err != nil && ctx.Err() != nil:
		imp.FinishedUS = time.Now().UnixMicro()
		return imp, ctx.Err()
	case err != nil:
		// Keep what loaded and say so.
		imp.Status, imp.Error = maildiag.ImportFailed, err.Error()
		err = &InputError{Source: source, Err: err}
	}
	if cerr := im.commit(ctx, imp); cerr != nil {
		return imp, cerr
	}
	return imp, err
}

// commit saves the import's counts and commits them with what they count.
func (im *Importer) commit(ctx context.Context, imp *maildiag.Import) error {
	if f, ok := im.w.(flusher); ok {
		n, err := f.Flush(ctx)
		if err != nil {
			return err
		}
		imp.EventsNew += n
	}
	imp.FinishedUS = time.Now().UnixMicro()
	if err := im.w.SaveImport(ctx, imp); err != nil {
		return err
	}
	return im.w.Commit(ctx)
}

// store adds a batch to the open transaction and counts it.
func (im *Importer) store(ctx context.Context, imp *maildiag.Import, b *ingest.Batch, p Progress) error {
	w := im.w
	var n int
	var err error
	if pw, ok := w.(preparer); ok && b.Prepared != nil {
		n, err = pw.AddPreparedEvents(ctx, b.Events, b.Prepared, imp.ID)
	} else {
		n, err = w.AddEvents(ctx, b.Events, imp.ID)
	}
	if err != nil {
		return err
	}
	imp.EventsRead += len(b.Events)
	imp.EventsNew += n
	seen := imp.StartedUS
	if !im.o.SeenAt.IsZero() {
		seen = im.o.SeenAt.UnixMicro()
	}
	sn, err := w.AddSuppressions(ctx, b.Suppressions, imp.ID, seen)
	if err != nil {
		return err
	}
	imp.SuppressionsRead += len(b.Suppressions)
	imp.SuppressionsNew += sn
	if err := w.AddRejects(ctx, imp.Source, imp.ID, b.Rejects); err != nil {
		return err
	}
	imp.Rejects += len(b.Rejects)
	if p.Reject != nil {
		for _, rj := range b.Rejects {
			p.Reject(rj)
		}
	}
	return nil
}
