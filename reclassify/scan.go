package reclassify

import (
	"context"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

// This file is the one place where reclassify uses the index's read
// methods that speak its physical layout (failure keys and rows): when
// the index offers them in domain terms, only this file changes.

// FailureStore reads the stored failures: their original JSON, their
// classes, and the span of the index.
type FailureStore interface {
	ForEachFailureJSON(ctx context.Context, fn func(k index.FailureKey, raw []byte) error) error
	Failures(ctx context.Context, f index.FailureFilter, fn func(*index.FailureRow) error) error
	Span(ctx context.Context) (index.Span, error)
}

// FailureWriter replaces the derived fields of a stored failure.
type FailureWriter interface {
	SetFailureClass(ctx context.Context, k index.FailureKey, class, rule, gateway string) error
}

// metaRulesVersion is the meta key of the rules version the stored
// classes came from.
const metaRulesVersion = index.MetaRulesVersion

// update is a stored failure's fields derived again.
type update struct {
	key                  index.FailureKey
	class, rule, gateway string
}

// scan derives every stored failure again from its original JSON. It
// returns the updates, how many failures it read and how many of them
// change class.
func scan(ctx context.Context, st FailureStore) (ups []update, read, changed int, err error) {
	err = st.ForEachFailureJSON(ctx, func(k index.FailureKey, raw []byte) error {
		read++
		ev, err := ingest.ParseEvent(raw)
		if err != nil {
			return nil // not an event shape the normaliser reads (e.g. a CSV row): keep its class
		}
		ups = append(ups, update{k, ev.Class, ev.Rule, ev.Gateway})
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	old := map[index.FailureKey]string{}
	err = st.Failures(ctx, index.FailureFilter{}, func(r *index.FailureRow) error {
		old[r.Key()] = r.Class
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	for _, u := range ups {
		if old[u.key] != u.class {
			changed++
		}
	}
	return ups, read, changed, nil
}

// store writes the update in w's open transaction.
func (u update) store(ctx context.Context, w FailureWriter) error {
	return w.SetFailureClass(ctx, u.key, u.class, u.rule, u.gateway)
}

// holdsEvents tells whether the index holds any event.
func holdsEvents(ctx context.Context, st FailureStore) (bool, error) {
	sp, err := st.Span(ctx)
	return sp.FirstUS != 0, err
}
