package reclassify

import (
	"context"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/analyze/classify"
	"github.com/maildiag/maildiag/ingest"
)

// TextStore reads the events stored without their texts' ids (by a
// maildiag older than schema version 4 on SQLite, 8 on PostgreSQL).
type TextStore interface {
	TextsPending(ctx context.Context) (bool, error)
	ForEachEventWithoutTexts(ctx context.Context, fn func(ref analyze.Ref, raw []byte) error) error
}

// TextWriter stores the texts' ids of stored events.
type TextWriter interface {
	SetEventTexts(ctx context.Context, ref analyze.Ref, ev *maildiag.Event) error
	TextsBackfilled(ctx context.Context) error
	Commit(ctx context.Context) error
}

// BackfillTexts gives the events stored without them the ids of their
// subject, From, sending IP, tags and route, read from their original
// JSON, so that the log search's text filters find them; it does nothing
// when the index says none lacks them. It returns how many events it read,
// and tells progress (when not nil) the count as it goes.
func BackfillTexts(ctx context.Context, st TextStore, w TextWriter, progress func(n int)) (int, error) {
	pending, err := st.TextsPending(ctx)
	if err != nil || !pending {
		return 0, err
	}
	n := 0
	err = st.ForEachEventWithoutTexts(ctx, func(ref analyze.Ref, raw []byte) error {
		ev, err := ingest.ParseEvent(raw)
		if err != nil {
			return nil // not an event shape the normaliser reads: nothing to refer to
		}
		classify.Derive(&ev) // the route's gateway, as an import derives it
		if err := w.SetEventTexts(ctx, ref, &ev); err != nil {
			return err
		}
		n++
		if progress != nil && n%10_000 == 0 {
			progress(n)
		}
		if n%commitEvery == 0 {
			return w.Commit(ctx)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := w.TextsBackfilled(ctx); err != nil {
		return n, err
	}
	return n, w.Commit(ctx)
}
