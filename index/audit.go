package index

import (
	"context"
	"errors"
	"fmt"
)

// Actions recorded in the audit table.
const (
	AuditRemove  = "remove"  // a suppression removed from a list (or a dry run of it)
	AuditRestore = "restore" // a suppression put back from a backup
	AuditResend  = "resend"  // a stored message sent again
)

// Results recorded in the audit table.
const (
	AuditDryRun   = "dry-run"   // shown, not done
	AuditRemoved  = "removed"   // deleted from the list
	AuditNotFound = "not-found" // the list no longer had it: already removed
	AuditFailed   = "failed"    // the API call failed; Error says why
	AuditRestored = "restored"  // added back to the list
	AuditSent     = "sent"      // resent; Detail is Mailgun's id of the new message
	AuditRefused  = "refused"   // not done: maildiag refused it (Error says why)
	AuditGone     = "gone"      // the stored message has expired at Mailgun
)

// AuditEntry is one action maildiag took on the Mailgun account.
type AuditEntry struct {
	ID            int64  `json:"id"`
	AtUS          int64  `json:"at_us"`
	Run           string `json:"run"` // one invocation of a command
	User          string `json:"os_user"`
	Action        string `json:"action"`
	Command       string `json:"command"`
	Pattern       string `json:"pattern,omitempty"`
	Filters       string `json:"filters,omitempty"` // JSON
	Address       string `json:"address,omitempty"`
	List          string `json:"list,omitempty"`
	SendingDomain string `json:"sending_domain,omitempty"`
	BackupFile    string `json:"backup_file,omitempty"`
	MessageID     string `json:"message_id,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	OriginalTo    string `json:"original_to,omitempty"`
	ApprovedBy    string `json:"approved_by,omitempty"`
	Result        string `json:"result"`
	Error         string `json:"error,omitempty"`
	Detail        string `json:"detail,omitempty"`
}

// AddAudit records an action in the writer's open transaction, so that it
// commits together with the change of the index it goes with (a removal
// marked, entries restored).
func (w *Writer) AddAudit(ctx context.Context, e *AuditEntry) error {
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

// AuditFilter selects audit entries. Empty fields select everything.
type AuditFilter struct {
	SinceUS int64 // entries at or after; 0: all
	Actions []string
	Results []string
}

// Audit returns the audit entries the filter selects, oldest first.
func (db *DB) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
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
	rows, err := db.sql.QueryContext(ctx, q+" ORDER BY at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.AtUS, &e.Run, &e.User, &e.Action, &e.Command, &e.Pattern, &e.Filters, &e.Address,
			&e.List, &e.SendingDomain, &e.BackupFile, &e.MessageID, &e.EventID, &e.OriginalTo, &e.ApprovedBy, &e.Result,
			&e.Error, &e.Detail); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	return out, nil
}
