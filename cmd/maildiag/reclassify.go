package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/analyze/classify"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
)

func newReclassifyCmd(s *streams, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reclassify",
		Short: "Re-derive the failure classes of stored events with this build's rules",
		Long: `Reclassify re-reads the original JSON of every stored failure and derives its
class, deciding rule and gateway again with this build's rules. Import and sync
do it by themselves when the rules changed since the classes were stored; this
command forces it.`,
		Example: `  maildiag reclassify
  maildiag failures --by class   # the new classes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := g.dbPath()
			if err != nil {
				return failure(err)
			}
			db, err := index.Open(cmd.Context(), path)
			if err != nil {
				return failure(err)
			}
			defer db.Close()
			w, err := db.NewWriter(cmd.Context())
			if err != nil {
				return failure(err)
			}
			defer w.Close()
			n, changed, err := reclassify(cmd.Context(), s, db, w)
			if err != nil {
				return failure(err)
			}
			fmt.Fprintf(s.out, "re-derived %d failures with rules %s: %d changed class\n", n, classify.RulesVersion, changed)
			return nil
		},
	}
}

// reclassify re-derives every stored failure and records the rules version.
func reclassify(ctx context.Context, s *streams, db *index.DB, w *index.Writer) (int, int, error) {
	bar := newPercentProgress(s, "re-deriving failure classes")
	defer bar.finish()
	type update struct {
		ref                  analyze.Ref
		class, rule, gateway string
	}
	var ups []update
	n, changed := 0, 0
	err := db.ForEachFailureJSON(ctx, func(ref analyze.Ref, class string, raw []byte) error {
		n++
		ev, err := ingest.ParseEvent(raw)
		if err != nil {
			return nil // not an event shape the normaliser reads (e.g. a CSV row): keep its class
		}
		if ev.Class != class {
			changed++
		}
		ups = append(ups, update{ref, ev.Class, ev.Rule, ev.Gateway})
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for i, u := range ups {
		if err := w.SetFailureClass(ctx, u.ref, u.class, u.rule, u.gateway); err != nil {
			return 0, 0, err
		}
		if i%50_000 == 49_999 {
			if err := w.Commit(ctx); err != nil {
				return 0, 0, err
			}
			bar.set(int64(100 * (i + 1) / len(ups)))
		}
	}
	if err := w.SetMeta(ctx, index.MetaRulesVersion, classify.RulesVersion); err != nil {
		return 0, 0, err
	}
	return n, changed, w.Commit(ctx)
}

// ensureRules re-derives the stored classes when they came from other
// rules than this build's, before anything new is stored beside them.
func ensureRules(ctx context.Context, s *streams, db *index.DB, w *index.Writer) error {
	v, err := db.Meta(ctx, index.MetaRulesVersion)
	if err != nil || v == classify.RulesVersion {
		return err
	}
	if v != "" {
		fmt.Fprintf(s.err, "maildiag: the failure rules changed since the classes were stored (%s, now %s): re-deriving them\n", v, classify.RulesVersion)
		if _, _, err := reclassify(ctx, s, db, w); err != nil {
			return fmt.Errorf("re-derive failure classes: %w", err)
		}
		return nil
	}
	// A new index, or one from before versions were kept: classify what
	// it holds only if it holds anything.
	st, err := db.Span(ctx)
	if err != nil {
		return err
	}
	if !st.First.IsZero() {
		if _, _, err := reclassify(ctx, s, db, w); err != nil {
			return fmt.Errorf("re-derive failure classes: %w", err)
		}
		return nil
	}
	if err := w.SetMeta(ctx, index.MetaRulesVersion, classify.RulesVersion); err != nil {
		return err
	}
	return w.Commit(ctx)
}
