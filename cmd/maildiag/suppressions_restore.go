package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/remedy"
)

// restoreOptions are the flags of maildiag suppressions restore.
type restoreOptions struct {
	files         []string
	sendingDomain string
	api           apiOptions
}

func newSuppressionsRestoreCmd(s *streams, g *globals) *cobra.Command {
	o := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore BACKUP.csv...",
		Short: "Put suppressions back from a backup written by suppressions remove",
		Long: `Restore is the undo of maildiag suppressions remove: it adds the entries of each
backup file back to the Mailgun list they came from, with their code, error,
tags and creation time, through the API (batches of up to 1000), and marks them
listed again in the index. It acts at once and prints what it did. Running it
again changes nothing more: Mailgun replaces an entry it already has.

The sending domain and list come from the file name remove gives a backup
(mg.example.com_bounces_20261120T091500Z.csv); for another CSV in Mailgun's
import format, name the sending domain with --sending-domain.

Output (--output json): {"files": [{"file", "sending_domain", "list",
"entries", "restored", "failed", "error"}], "entries": [{"file", "address",
"list", "sending_domain", "created_at", "result", "error"}]}.

Exit status: 0 when every entry was restored, 2 on usage errors or a file
that is not a suppression backup, 3 when any batch failed (run it again).`,
		Example: `  maildiag suppressions restore ~/.local/share/maildiag/backups/mg.example.com_bounces_20261120T091500Z.csv
  maildiag suppressions restore --sending-domain mg.example.com bounces-export.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			o.files = args
			o.sendingDomain = strings.ToLower(strings.TrimSpace(o.sendingDomain))
			if err := o.api.resolve(); err != nil {
				return err
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			sess := &remedy.Session{Who: newIdentity(cmd, args), Now: g.now, Key: o.api.apiKey}
			return redactKey(restoreRun(cmd.Context(), s, t, format, o, sess), o.api.apiKey, o.api.urlKey)
		},
	}
	cmd.Flags().StringVar(&o.sendingDomain, "sending-domain", "", "sending domain of files whose name does not say it")
	o.api.addFlags(cmd.Flags(), "retries of a request after 5xx answers, timeouts or dropped connections")
	return cmd
}

func restoreRun(ctx context.Context, s *streams, tg target, format string, o *restoreOptions, sess *remedy.Session) error {
	// Read every file before changing anything: a bad one stops it all.
	var files []*remedy.RestoreFile
	for _, name := range o.files {
		f, err := readBackup(ctx, name, o.sendingDomain)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	db, err := openActing(ctx, tg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	w, err := db.newWriter(ctx)
	if err != nil {
		return failure(err)
	}
	defer w.Close()
	sess.W = w
	if sess.Client, err = o.api.client(0); err != nil {
		return err
	}
	res, err := sess.Restore(ctx, files)
	if err != nil {
		return failure(err)
	}
	t := &table{title: "Restored suppressions", columns: []string{"address", "list", "sending_domain", "created_at", "result", "error"}}
	for _, e := range res.Entries {
		t.add(e.Address, e.List, e.SendingDomain, e.CreatedAt, e.Result, e.Error)
	}
	if err := render(s.out, format, res, t); err != nil {
		return failure(err)
	}
	restored, failed := 0, 0
	for _, f := range res.Files {
		restored += f.Restored
		failed += f.Failed
		fmt.Fprintf(s.err, "%s: %d of %d %s entries of %s restored\n", f.File, f.Restored, f.Entries, f.List, f.SendingDomain)
	}
	switch {
	case ctx.Err() != nil:
		return failure(fmt.Errorf("interrupted after restoring %d entries; run the same command again to finish", restored))
	case failed > 0:
		return failure(fmt.Errorf("%d entries were not restored; run the same command again to finish", failed))
	}
	return nil
}

// readBackup opens and reads a backup; every problem with it is a usage
// error.
func readBackup(ctx context.Context, name, sendingDomain string) (*remedy.RestoreFile, error) {
	f, err := remedy.ReadBackup(ctx, name, sendingDomain, func() (io.ReadCloser, error) {
		in, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("%s: %v", name, unwrapPathError(err))
		}
		return in, nil
	})
	var mismatch *remedy.DomainMismatchError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return nil, err
	case errors.As(err, &mismatch):
		return nil, usageErrorf("%s: the file name says sending domain %s, --sending-domain says %s", name, mismatch.Named, mismatch.Given)
	case errors.Is(err, remedy.ErrNoSendingDomain):
		return nil, usageErrorf("%v: pass --sending-domain", err)
	case err != nil:
		return nil, usageErrorf("%v", err)
	}
	return f, nil
}
