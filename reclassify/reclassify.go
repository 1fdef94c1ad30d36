package reclassify

import (
	"context"
	"fmt"

	"github.com/maildiag/maildiag/analyze/classify"
)

// Store is what re-derivation reads: the stored failures and the index's
// meta values.
type Store interface {
	FailureStore
	Meta(ctx context.Context, key string) (string, error)
}

// Writer stores the classes derived again, in transactions it commits.
type Writer interface {
	FailureWriter
	SetMeta(ctx context.Context, key, value string) error
	Commit(ctx context.Context) error
}

// Progress hears how a re-derivation goes: Start once as it begins, with
// the rules version the stored classes came from ("" when that is not
// known), Step with the share done in percent, Done at the end.
type Progress interface {
	Start(stored string)
	Step(percent int)
	Done()
}

// Result is what a re-derivation did.
type Result struct {
	Failures int // stored failures read
	Changed  int // of which the class changed
}

// commitEvery is how many failures one transaction re-derives.
const commitEvery = 50_000

// Run re-derives every stored failure and records this build's rules
// version. p may be nil.
func Run(ctx context.Context, st Store, w Writer, p Progress) (Result, error) {
	return run(ctx, st, w, orQuiet(p), "")
}

func run(ctx context.Context, st Store, w Writer, p Progress, stored string) (Result, error) {
	p.Start(stored)
	defer p.Done()
	ups, read, changed, err := scan(ctx, st)
	if err != nil {
		return Result{}, err
	}
	for i, u := range ups {
		if err := u.store(ctx, w); err != nil {
			return Result{}, err
		}
		if i%commitEvery == commitEvery-1 {
			if err := w.Commit(ctx); err != nil {
				return Result{}, err
			}
			p.Step(100 * (i + 1) / len(ups))
		}
	}
	if err := w.SetMeta(ctx, metaRulesVersion, classify.RulesVersion); err != nil {
		return Result{}, err
	}
	return Result{Failures: read, Changed: changed}, w.Commit(ctx)
}

// EnsureRules re-derives the stored classes when they came from other
// rules than this build's, before anything new is stored beside them. An
// index that never recorded a version is re-derived only if it holds
// events. p hears the re-derivation, if there is one; it may be nil.
func EnsureRules(ctx context.Context, st Store, w Writer, p Progress) error {
	v, err := st.Meta(ctx, metaRulesVersion)
	if err != nil || v == classify.RulesVersion {
		return err
	}
	if v == "" {
		// A new index, or one from before versions were kept.
		held, err := holdsEvents(ctx, st)
		if err != nil {
			return err
		}
		if !held {
			if err := w.SetMeta(ctx, metaRulesVersion, classify.RulesVersion); err != nil {
				return err
			}
			return w.Commit(ctx)
		}
	}
	if _, err := run(ctx, st, w, orQuiet(p), v); err != nil {
		return fmt.Errorf("re-derive failure classes: %w", err)
	}
	return nil
}

// quiet is the Progress of a caller that wants none.
type quiet struct{}

func (quiet) Start(string) {}
func (quiet) Step(int)     {}
func (quiet) Done()        {}

func orQuiet(p Progress) Progress {
	if p == nil {
		return quiet{}
	}
	return p
}
