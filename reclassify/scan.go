package reclassify

import (
	"context"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/analyze/classify"
	"github.com/maildiag/maildiag/ingest"
)

// FailureStore reads the stored failures: their original JSON and classes,
// and the span of the index.
type FailureStore interface {
	ForEachFailureJSON(ctx context.Context, fn func(ref analyze.Ref, class string, raw []byte) error) error
	Span(ctx context.Context) (analyze.Span, error)
}

// FailureWriter replaces the derived fields of a stored failure.
type FailureWriter interface {
	SetFailureClass(ctx context.Context, ref analyze.Ref, class, rule, gateway string) error
}

// metaRulesVersion is the meta key of the rules version the stored
// classes came from.
const metaRulesVersion = "rules_version"

// update is a stored failure's fields derived again.
type update struct {
	ref                  analyze.Ref
	class, rule, gateway string
}

// scan derives every stored failure again from its original JSON. It
// returns the updates, how many failures it read and how many of them
// change class.
func scan(ctx context.Context, st FailureStore) (ups []update, read, changed int, err error) {
	err = st.ForEachFailureJSON(ctx, func(ref analyze.Ref, class string, raw []byte) error {
		read++
		ev, err := ingest.ParseEvent(raw)
		if err != nil {
			return nil // not an event shape the normaliser reads (e.g. a CSV row): keep its class
		}
		classify.Derive(&ev)
		if ev.Class != class {
			changed++
		}
		ups = append(ups, update{ref, ev.Class, ev.Rule, ev.Gateway})
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	return ups, read, changed, nil
}

// store writes the update in w's open transaction.
func (u update) store(ctx context.Context, w FailureWriter) error {
	return w.SetFailureClass(ctx, u.ref, u.class, u.rule, u.gateway)
}

// holdsEvents tells whether the index holds any event.
func holdsEvents(ctx context.Context, st FailureStore) (bool, error) {
	sp, err := st.Span(ctx)
	return !sp.First.IsZero(), err
}
