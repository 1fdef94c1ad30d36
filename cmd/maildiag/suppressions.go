package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/remedy"
)

// newSuppressionsCmd groups the commands that change suppression lists.
func newSuppressionsCmd(s *streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suppressions",
		Short: "Remove suppressions a diagnosis found, and restore them from a backup",
		Long: `Mailgun's API deletes one suppressed address or a whole list, nothing in
between. These commands remove exactly the entries a diagnosis found
(maildiag suppressed), one at a time, after writing a CSV backup that
maildiag suppressions restore (and maildiag import) can read back. Every
action is recorded in the audit log (maildiag audit).`,
	}
	cmd.AddCommand(newSuppressionsRemoveCmd(s, g), newSuppressionsRestoreCmd(s, g))
	return cmd
}

// removeOptions are the flags of maildiag suppressions remove.
type removeOptions struct {
	pattern        string
	lists          []string
	sendingDomains []string
	classes        []string
	before, after  string
	yes            bool
	unknownUsers   bool
	max            int
	backupDir      string
	api            apiOptions

	filter  remedy.RemoveFilter // resolved in RunE
	forReal string              // the command line that removes for real: as typed, --yes set
}

func newSuppressionsRemoveCmd(s *streams, g *globals) *cobra.Command {
	o := &removeOptions{}
	cmd := &cobra.Command{
		Use:   "remove PATTERN",
		Short: "Remove the suppressions matching a pattern (dry run unless --yes)",
		Long: `Remove takes the suppressions maildiag suppressed finds for PATTERN (still listed,
or probably listed when the lists were never synced), narrowed by the flags,
and deletes them from Mailgun one address at a time.

Without --yes it is a dry run: it prints what would be removed and changes
nothing at Mailgun. With --yes it first writes a CSV backup of each list of
each sending domain in Mailgun's import format (bounces address,code,error,created_at;
unsubscribes address,tags,created_at; complaints address,created_at) into
--backup-dir, then deletes. An address Mailgun no longer lists (404) counts as
already removed. Requests share sync's rate limiter and retry rules.

Only bounces are removed unless --list says otherwise. Unsubscribes and
complaints are removed only when named (--list unsubscribes, --list
complaints): both are the person's own choice, and removing them needs their
consent. The allowlist is never touched. Bounces of mailboxes that do not exist
(user-unknown, mailbox-disabled) are left out unless --include-unknown-users (or
--class names their class): removed, they bounce again. A removal of more than
--max entries (default 100) is refused; raise --max when that many is meant.

Each entry removed is marked removed in the index at once, and every action
(dry runs too) is recorded in the audit log with the OS user. When some
deletions fail, the command says which, exits 3, and running it again
finishes the job (with a new backup of what is left; earlier backups are
never overwritten).

PATTERN is as for maildiag suppressed: '*@acme.com', acme.com, 'j*@acme.com'
or one address. --before and --after compare with when the entry was made:
7d, 36h, 2026-11-20 or an RFC 3339 time.

The API key comes from --api-key, $MG_API_KEY or $MAILGUN_API_KEY, as for
sync; it is never printed, logged or stored.

Output (--output json): {"pattern", "dry_run", "filters", "matched",
"skipped_already_removed", "skipped_unknown_users", "backup_dir", "backups": [{"file", "sending_domain",
"list", "entries"}], "removed", "not_found", "failed", "not_attempted", "entries": [{"address",
"list", "sending_domain", "since", "list_code", "list_error", "tags", "class",
"cause", "state", "source", "backup", "result", "error"}]}; result is dry-run,
removed, not-found, failed, or empty when not attempted.

Exit status: 0 when everything matched was removed (or shown, in a dry run),
1 when nothing matched, 2 on usage errors, 3 when any removal failed.`,
		Example: `  maildiag suppressions remove '*@acme.com' --class policy-block
  maildiag suppressions remove '*@acme.com' --class policy-block --yes
  maildiag suppressions remove jane@initech.example --list bounces --sending-domain mg.example.com --yes
  maildiag suppressions remove acme.com --list complaints --after 2026-11-01 --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			o.pattern = args[0]
			if err := o.validate(g.now()); err != nil {
				return err
			}
			if o.yes {
				if err := o.api.resolve(); err != nil {
					return err
				}
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			sess := &remedy.Session{Who: newIdentity(cmd, args), Now: g.now, Key: o.api.apiKey}
			o.forReal = commandLine(cmd, args, "yes") + " --yes"
			return redactKey(removeRun(cmd.Context(), s, t, format, o, sess), o.api.apiKey, o.api.urlKey)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.lists, "list", nil, "these lists: bounces, unsubscribes, complaints (default bounces)")
	f.StringSliceVar(&o.sendingDomains, "sending-domain", nil, "only these sending domains (repeat or comma-separate)")
	f.StringSliceVar(&o.classes, "class", nil, "only entries put there by a failure of these classes, e.g. policy-block")
	f.StringVar(&o.after, "after", "", "only entries made at or after this time (7d, 2026-11-20, RFC 3339)")
	f.StringVar(&o.before, "before", "", "only entries made before this time")
	f.BoolVar(&o.yes, "yes", false, "remove for real (default: a dry run)")
	f.BoolVar(&o.unknownUsers, "include-unknown-users", false, "also remove bounces of mailboxes that do not exist (they will bounce again)")
	f.IntVar(&o.max, "max", remedy.DefaultMax, "refuse a removal of more entries than this")
	f.StringVar(&o.backupDir, "backup-dir", "", "where the CSV backups go (default: backups next to the index file; for PostgreSQL, in ~/.local/share/maildiag/backups)")
	o.api.addFlags(f, "retries of a request after 5xx answers, timeouts or dropped connections")
	return cmd
}

// validate checks the flags and resolves the filter.
func (o *removeOptions) validate(now time.Time) error {
	f := remedy.RemoveFilter{Lists: remedy.DefaultLists, SendingDomains: o.sendingDomains, Classes: o.classes, IncludeUnknownUsers: o.unknownUsers}
	if o.max < 1 {
		return usageErrorf("--max %d: at least 1", o.max)
	}
	if len(o.lists) > 0 {
		f.Lists = nil
		for _, l := range o.lists {
			l = strings.ToLower(strings.TrimSpace(l))
			if !slices.Contains(remedy.RemovableLists, l) {
				return usageErrorf("--list %q: use bounces, unsubscribes or complaints (the allowlist is not a suppression)", l)
			}
			if !slices.Contains(f.Lists, l) {
				f.Lists = append(f.Lists, l)
			}
		}
	}
	for _, c := range o.classes {
		if !knownClass(c) {
			return usageErrorf("--class %q: not a failure class (see maildiag failures --help)", c)
		}
	}
	var err error
	if f.After, err = maildiag.ParseWhen(o.after, now); err != nil {
		return usageErrorf("--after: %v", err)
	}
	if f.Before, err = maildiag.ParseWhen(o.before, now); err != nil {
		return usageErrorf("--before: %v", err)
	}
	if !f.After.IsZero() && !f.Before.IsZero() && !f.After.Before(f.Before) {
		return usageErrorf("--after must be earlier than --before")
	}
	o.filter = f
	return nil
}

func removeRun(ctx context.Context, s *streams, tg target, format string, o *removeOptions, sess *remedy.Session) error {
	p, err := analyze.ParsePattern(o.pattern)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if slices.Contains(o.filter.Lists, maildiag.ListComplaints) {
		fmt.Fprintln(s.err, "maildiag: warning: --list complaints: these people reported your mail as spam. Remove a complaint only with the person's consent; Mailgun will deliver to them again.")
	}
	if slices.Contains(o.filter.Lists, maildiag.ListUnsubscribes) {
		fmt.Fprintln(s.err, "maildiag: warning: --list unsubscribes: these people unsubscribed. Remove an unsubscribe only with the person's consent; Mailgun will deliver to them again.")
	}
	db, err := openActing(ctx, tg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	diag, err := analyze.Suppressed(ctx, db, p, analyze.SuppressedOptions{SendingDomains: o.filter.SendingDomains, Lists: o.filter.Lists})
	if err != nil {
		return failure(err)
	}
	dir := o.backupDir
	if dir == "" {
		if dir, err = defaultBackupDir(tg); err != nil {
			return err
		}
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	res, err := remedy.PlanRemoval(ctx, db, diag, o.filter, dir)
	if err != nil {
		return failure(err)
	}
	res.DryRun = !o.yes
	if res.UnknownUsers > 0 {
		fmt.Fprintf(s.err, "maildiag: left out %d bounce(s) of mailboxes that do not exist (user-unknown): removed, they bounce again. Add --include-unknown-users to remove them anyway.\n", res.UnknownUsers)
	}
	if len(res.Entries) == 0 {
		if err := renderRemoval(s, format, res); err != nil {
			return failure(err)
		}
		fmt.Fprintf(s.err, "maildiag: no listed suppressions match %s with these filters\n", res.Pattern)
		if res.Skipped > 0 {
			fmt.Fprintf(s.err, "maildiag: %d known only from the event log were removed by maildiag already (run maildiag sync to refresh the lists)\n", res.Skipped)
		}
		return errNo
	}

	w, err := db.newWriter(ctx)
	if err != nil {
		return failure(err)
	}
	defer w.Close()
	sess.W = w
	overMax := res.CheckMax(o.max)
	if o.yes && overMax != nil {
		return &exitError{code: exitUsage, err: overMax}
	}
	if !o.yes {
		if overMax != nil {
			fmt.Fprintf(s.err, "maildiag: warning: %v\n", overMax)
		}
		if err := sess.DryRun(ctx, res); err != nil {
			return failure(err)
		}
		if err := renderRemoval(s, format, res); err != nil {
			return failure(err)
		}
		fmt.Fprintf(s.err, "Dry run: nothing was changed. %d suppression(s) would be removed, one address at a time.\n", len(res.Entries))
		fmt.Fprintf(s.err, "To remove them (a CSV backup of each list is written to %s first):\n  %s\n", res.BackupDir, o.forReal)
		return nil
	}

	if err := sess.Backup(ctx, res); err != nil {
		return failure(err)
	}
	for _, b := range res.Backups {
		fmt.Fprintf(s.err, "Backup of %d %s entries of %s: %s\n", b.Entries, b.List, b.SendingDomain, b.File)
	}
	if sess.Client, err = o.api.client(0); err != nil {
		return err
	}
	runErr := sess.Remove(ctx, res)
	notRemoved := res.NotRemoved()
	if err := renderRemoval(s, format, res); err != nil {
		return failure(err)
	}
	fmt.Fprintf(s.err, "Removed %d, already gone %d, not removed %d of %d.\n", res.Removed, res.NotFound, len(notRemoved), len(res.Entries))
	if len(notRemoved) > 0 {
		fmt.Fprintf(s.err, "Not removed:\n  %s\n", strings.Join(notRemoved, "\n  "))
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return failure(fmt.Errorf("interrupted: %d suppression(s) not removed; run the same command again to finish", len(notRemoved)))
	case runErr != nil:
		return failure(runErr)
	case res.Failed > 0:
		return failure(fmt.Errorf("%d of %d suppression(s) were not removed; run the same command again to finish (what was removed is recorded)", res.Failed, len(res.Entries)))
	}
	return nil
}

// openExisting opens the index at path for a command that acts on what
// it holds: index.Open would create a missing index, and find nothing in
// it.
func openExisting(ctx context.Context, path string) (*index.DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, failure(fmt.Errorf("%w at %s: import or sync something first", index.ErrNoIndex, path))
		}
		return nil, failure(fmt.Errorf("open index: %w", err))
	}
	db, err := index.Open(ctx, path)
	if err != nil {
		return nil, failure(err)
	}
	return db, nil
}

// renderRemoval prints the entries and what became of them.
func renderRemoval(s *streams, format string, res *remedy.RemoveResult) error {
	t := &table{title: fmt.Sprintf("Suppressions matching %s", res.Pattern),
		columns: []string{"address", "list", "sending_domain", "since", "class", "cause", "state", "result", "error"}}
	for _, r := range res.Entries {
		t.add(r.Address, r.List, r.SendingDomain, r.Since, r.Class, r.Cause, r.State, r.Result, r.Error)
	}
	return render(s.out, format, res, t)
}
