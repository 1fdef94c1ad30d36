package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/analyze/classify"
	"github.com/maildiag/maildiag/reclassify"
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
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			db, w, err := openWriter(cmd.Context(), t)
			if err != nil {
				return failure(err)
			}
			defer db.Close()
			defer w.Close()
			res, err := reclassify.Run(cmd.Context(), db, w, newReclassifyBar(s, false))
			if err != nil {
				return failure(err)
			}
			fmt.Fprintf(s.out, "re-derived %d failures with rules %s: %d changed class\n", res.Failures, classify.RulesVersion, res.Changed)
			return nil
		},
	}
}

// reclassifyBar draws the progress of a re-derivation and, when announce
// is set, says why it happens before a command stores anything.
type reclassifyBar struct {
	s        *streams
	announce bool
	bar      *progress
}

func newReclassifyBar(s *streams, announce bool) *reclassifyBar {
	return &reclassifyBar{s: s, announce: announce}
}

// Start implements reclassify.Progress.
func (r *reclassifyBar) Start(stored string) {
	if r.announce && stored != "" {
		fmt.Fprintf(r.s.err, "maildiag: the failure rules changed since the classes were stored (%s, now %s): re-deriving them\n", stored, classify.RulesVersion)
	}
	r.bar = newPercentProgress(r.s, "re-deriving failure classes")
}

// Step implements reclassify.Progress.
func (r *reclassifyBar) Step(percent int) { r.bar.set(int64(percent)) }

// Done implements reclassify.Progress.
func (r *reclassifyBar) Done() { r.bar.finish() }
