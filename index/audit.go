package index

import (
	"context"
	"errors"
	"fmt"
	"github.com/maildiag/maildiag"
)

// AddAudit records an action in the writer's open transaction, so that it
// commits together with the change of the index it goes with (a removal
// marked, entries restored).
func (w *Writer) AddAudit(ctx context.Context, e *maildiag.AuditEntry) error {
	if e.AtUS == 0 || e.Run == "" || e.User == "" || e.Action == "" || e.Command == "" || e.Result == "" {
		return errors.New("record audit: time, run, user, action, command and result are required")
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	res, err := w.exec(`INSERT INTO audit(at, run, os_user, action, command, pattern, filters, address, list, sending_domain,
		backup_file, message_id, event_id, original_to, approved_by, result, error, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.AtUS, e.Run, e.User, e.Action, e.Command, nullStr(e.Pattern), nullStr(e.Filters), nullStr(e.Address), nullStr(e.List),
		nullStr(e.SendingDomain), nullStr(e.BackupFile), nullStr(e.MessageID), nullStr(e.EventID), nullStr(e.OriginalTo),
		nullStr(e.ApprovedBy), e.Result, nullStr(e.Error), nullStr(e.Detail))
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	e.ID, _ = res.LastInsertId()
	return nil
}

// Audit returns the audit entries the filter selects, oldest first.
func (db *DB) Audit(ctx context.Context, f maildiag.AuditFilter) ([]maildiag.AuditEntry, error) {
	q := `SELECT id, at, run, os_user, action, command, COALESCE(pattern, ''), COALESCE(filters, ''), COALESCE(address, ''),
		COALESCE(list, ''), COALESCE(sending_domain, ''), COALESCE(backup_file, ''), COALESCE(message_id, ''), COALESCE(event_id, ''),
		COALESCE(original_to, ''), COALESCE(approved_by, ''), result, COALESCE(error, ''), COALESCE(detail, '')
		FROM audit WHERE at >= ?`
	args := []any{f.SinceUS}
	if len(f.Actions) > 0 {
		l, a := inList(f.Actions)
		q += " AND action IN " + l
		args = append(args, a...)
	}
	if len(f.Results) > 0 {
		l, a := inList(f.Results)
		q += " AND result IN " + l
		args = append(args, a...)
	}
	return queryAll(ctx, db, "read audit", q+" ORDER BY at, id", args, func(e *maildiag.AuditEntry) []any {
		return []any{&e.ID, &e.AtUS, &e.Run, &e.User, &e.Action, &e.Command, &e.Pattern, &e.Filters, &e.Address,
			&e.List, &e.SendingDomain, &e.BackupFile, &e.MessageID, &e.EventID, &e.OriginalTo, &e.ApprovedBy, &e.Result,
			&e.Error, &e.Detail}
	})
}
