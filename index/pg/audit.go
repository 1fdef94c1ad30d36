package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/maildiag/maildiag"
)

// What remediation (remedy.Writer and remedy.AuditLog) needs of the index,
// as the SQLite index does it (../audit.go): the audit of what maildiag did
// to the Mailgun account, and removals marked in the index before the next
// sync sees them. Both go in the writer's open transaction, so that an
// action's audit row commits with the change of the index it goes with.

// AddAudit records an action in the writer's open transaction and sets
// e.ID to the row's id.
func (w *Writer) AddAudit(ctx context.Context, e *maildiag.AuditEntry) error {
	if e.AtUS == 0 || e.Run == "" || e.User == "" || e.Action == "" || e.Command == "" || e.Result == "" {
		return errors.New("record audit: time, run, user, action, command and result are required")
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	err := w.tx.QueryRow(ctx, `INSERT INTO audit(at, run, os_user, action, command, pattern, filters, address, list, sending_domain,
		backup_file, message_id, event_id, original_to, approved_by, result, error, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		RETURNING id`,
		e.AtUS, pgText(e.Run), pgText(e.User), e.Action, pgText(e.Command), nullText(e.Pattern), nullText(e.Filters), nullText(e.Address),
		nullStr(e.List), nullText(e.SendingDomain), nullText(e.BackupFile), nullText(e.MessageID), nullText(e.EventID),
		nullText(e.OriginalTo), nullText(e.ApprovedBy), e.Result, nullText(e.Error), nullText(e.Detail)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("record audit: %w", mayNotWrite(redactErr(err, w.db.url)))
	}
	return nil
}

// pgText is a text as PostgreSQL's text holds it: no NUL byte, valid
// UTF-8 (an audited command line or Mailgun's error may carry either).
func pgText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return textOf([]byte(s))
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return pgText(s)
}

// MarkSuppressionRemoved records, in the open transaction, that maildiag
// removed an address from a list, so that the index says so before the
// next sync reads the list.
func (w *Writer) MarkSuppressionRemoved(ctx context.Context, sendingDomain, list, address string, atUS int64) error {
	// The rows a sync stores: take turns with it (storeLock), as two
	// transactions updating the same entries in different orders would
	// deadlock.
	if err := w.beginStore(ctx); err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `UPDATE suppressions SET removed_at = $1
		WHERE sending_domain_id = (SELECT id FROM domains WHERE name = $2) AND list = $3 AND address = $4 AND removed_at IS NULL`,
		atUS, sendingDomain, list, address); err != nil {
		return fmt.Errorf("record removal: %w", mayNotWrite(redactErr(err, w.db.url)))
	}
	return nil
}

// Audit returns the audit entries the filter selects, oldest first.
func (db *DB) Audit(ctx context.Context, f maildiag.AuditFilter) ([]maildiag.AuditEntry, error) {
	var a args
	var q strings.Builder
	q.WriteString(`SELECT id, at, run, os_user, action, command, COALESCE(pattern, ''), COALESCE(filters, ''), COALESCE(address, ''),
		COALESCE(list, ''), COALESCE(sending_domain, ''), COALESCE(backup_file, ''), COALESCE(message_id, ''), COALESCE(event_id, ''),
		COALESCE(original_to, ''), COALESCE(approved_by, ''), result, COALESCE(error, ''), COALESCE(detail, '')
		FROM audit WHERE at >= `)
	q.WriteString(a.add(f.SinceUS))
	if len(f.Actions) > 0 {
		q.WriteString(` AND action = ANY(` + a.add(f.Actions) + `)`)
	}
	if len(f.Results) > 0 {
		q.WriteString(` AND result = ANY(` + a.add(f.Results) + `)`)
	}
	q.WriteString(` ORDER BY at, id`)
	return collect(ctx, db, "read audit", q.String(), a, func(e *maildiag.AuditEntry) []any {
		return []any{&e.ID, &e.AtUS, &e.Run, &e.User, &e.Action, &e.Command, &e.Pattern, &e.Filters, &e.Address,
			&e.List, &e.SendingDomain, &e.BackupFile, &e.MessageID, &e.EventID, &e.OriginalTo, &e.ApprovedBy, &e.Result,
			&e.Error, &e.Detail}
	})
}
