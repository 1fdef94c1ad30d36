package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
)

// auditOptions are the flags of maildiag audit.
type auditOptions struct {
	since   string
	actions []string
}

func newAuditCmd(s *streams, g *globals) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List what maildiag did to the Mailgun account: removals, restores, resends",
		Long: `Audit lists the audit log, oldest first: one row per address acted on by
maildiag suppressions remove (dry runs too), suppressions restore and resend,
with when, the OS user who ran it, the command line (never the API key), the
pattern and filters, the list and sending domain, the backup file, and the
result: dry-run, removed, not-found (already gone), failed, restored, sent,
refused or gone (the stored message had expired).

Output (--output json): an array of {"id", "at", "run", "os_user", "action",
"command", "pattern", "filters", "address", "list", "sending_domain",
"backup_file", "message_id", "event_id", "original_to", "approved_by",
"result", "error", "detail"}; rows of one invocation share "run".

Exit status: 0 with entries, 1 with none, 2 on usage errors, 3 on failure.`,
		Example: `  maildiag audit --since 7d
  maildiag audit --action remove --output csv
  maildiag audit --action resend --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			f := maildiag.AuditFilter{}
			since, err := maildiag.ParseWhen(o.since, g.now())
			if err != nil {
				return usageErrorf("--since: %v", err)
			}
			if !since.IsZero() {
				f.SinceUS = since.UnixMicro()
			}
			for _, a := range o.actions {
				if !slices.Contains([]string{maildiag.AuditRemove, maildiag.AuditRestore, maildiag.AuditResend}, a) {
					return usageErrorf("--action %q: use remove, restore or resend", a)
				}
				f.Actions = append(f.Actions, a)
			}
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return auditRun(cmd.Context(), s, t, format, f)
		},
	}
	cmd.Flags().StringVar(&o.since, "since", "", "only entries since this time: 7d, 36h, 2026-11-20 or RFC 3339")
	cmd.Flags().StringSliceVar(&o.actions, "action", nil, "only these actions: remove, restore, resend")
	return cmd
}

// auditRow is an audit entry as printed.
type auditRow struct {
	At time.Time `json:"at"`
	maildiag.AuditEntry
}

func auditRun(ctx context.Context, s *streams, tg target, format string, f maildiag.AuditFilter) error {
	db, err := openAuditLog(ctx, tg)
	if err != nil {
		return failure(err)
	}
	defer db.Close()
	entries, err := db.Audit(ctx, f)
	if err != nil {
		return failure(err)
	}
	rows := make([]auditRow, len(entries))
	t := &table{title: "Audit log", columns: []string{"at", "os_user", "action", "result", "address", "list", "sending_domain",
		"message_id", "approved_by", "backup_file", "error", "command"}}
	for i, e := range entries {
		rows[i] = auditRow{At: time.UnixMicro(e.AtUS).UTC(), AuditEntry: e}
		t.add(rows[i].At, e.User, e.Action, e.Result, e.Address, e.List, e.SendingDomain, e.MessageID, e.ApprovedBy, e.BackupFile, e.Error, e.Command)
	}
	if err := render(s.out, format, rows, t); err != nil {
		return failure(err)
	}
	if len(rows) == 0 {
		if format == "table" {
			fmt.Fprintln(s.err, "maildiag: no audit entries")
		}
		return errNo
	}
	return nil
}
