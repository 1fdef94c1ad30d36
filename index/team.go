package index

import (
	"context"
	"errors"
	"fmt"

	"github.com/maildiag/maildiag"
)

// The team server's tables (migration 0008): users, API tokens, sessions,
// log-in failures, leases and resend requests. Each call is its own short
// transaction on the pool, beside the event writer's connection.

// ErrUserExists is returned by AddUser for a name already taken.
var ErrUserExists = errors.New("user exists")

// AddUser adds a user with a role.
func (db *DB) AddUser(ctx context.Context, u maildiag.User) error {
	res, err := db.sql.ExecContext(ctx, `INSERT INTO users(name, role, created_us) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING`,
		u.Name, u.Role, u.CreatedUS)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("add user %s: %w", u.Name, ErrUserExists)
	}
	return nil
}

// SetUserRole changes a user's role; false when there is no such user.
func (db *DB) SetUserRole(ctx context.Context, name, role string) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `UPDATE users SET role = ? WHERE name = ?`, role, name)
	if err != nil {
		return false, fmt.Errorf("set role: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Users lists the users by name.
func (db *DB) Users(ctx context.Context) ([]maildiag.User, error) {
	return queryAll(ctx, db, "read users", `SELECT name, role, created_us FROM users ORDER BY name`, nil,
		func(u *maildiag.User) []any { return []any{&u.Name, &u.Role, &u.CreatedUS} })
}

// User returns the named user, or nil.
func (db *DB) User(ctx context.Context, name string) (*maildiag.User, error) {
	us, err := queryAll(ctx, db, "read user", `SELECT name, role, created_us FROM users WHERE name = ?`, []any{name},
		func(u *maildiag.User) []any { return []any{&u.Name, &u.Role, &u.CreatedUS} })
	if err != nil || len(us) == 0 {
		return nil, err
	}
	return &us[0], nil
}

// AddAPIToken stores the hash of a user's new API token.
func (db *DB) AddAPIToken(ctx context.Context, user string, hash []byte, label string, atUS int64) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO api_tokens(hash, user, label, created_us) VALUES (?, ?, ?, ?)`, hash, user, label, atUS)
	if err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	return nil
}

// RevokeAPITokens revokes every token of a user; it returns how many.
func (db *DB) RevokeAPITokens(ctx context.Context, user string, atUS int64) (int, error) {
	res, err := db.sql.ExecContext(ctx, `UPDATE api_tokens SET revoked_us = ? WHERE user = ? AND revoked_us IS NULL`, atUS, user)
	if err != nil {
		return 0, fmt.Errorf("revoke tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// UserByToken returns the user whose unrevoked token hashes to hash, or nil.
func (db *DB) UserByToken(ctx context.Context, hash []byte) (*maildiag.User, error) {
	us, err := queryAll(ctx, db, "read token", `SELECT u.name, u.role, u.created_us FROM api_tokens t JOIN users u ON u.name = t.user
		WHERE t.hash = ? AND t.revoked_us IS NULL`, []any{hash},
		func(u *maildiag.User) []any { return []any{&u.Name, &u.Role, &u.CreatedUS} })
	if err != nil || len(us) == 0 {
		return nil, err
	}
	return &us[0], nil
}

// AddSession stores a browser session under the hash of its cookie, and
// drops expired ones.
func (db *DB) AddSession(ctx context.Context, hash []byte, s maildiag.Session, nowUS int64) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE expires_us < ?`, nowUS); err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	_, err := db.sql.ExecContext(ctx, `INSERT INTO sessions(hash, user, csrf, created_us, expires_us) VALUES (?, ?, ?, ?, ?)`,
		hash, s.User, s.CSRF, nowUS, s.ExpiresUS)
	if err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	return nil
}

// SessionByHash returns the unexpired session of a cookie's hash, or nil.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, nowUS int64) (*maildiag.Session, error) {
	ss, err := queryAll(ctx, db, "read session", `SELECT user, csrf, expires_us FROM sessions WHERE hash = ? AND expires_us >= ?`,
		[]any{hash, nowUS}, func(s *maildiag.Session) []any { return []any{&s.User, &s.CSRF, &s.ExpiresUS} })
	if err != nil || len(ss) == 0 {
		return nil, err
	}
	return &ss[0], nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// LoginFailures counts a client's failed log-ins since sinceUS, and drops
// older ones.
func (db *DB) LoginFailures(ctx context.Context, client string, sinceUS int64) (int, error) {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM login_failures WHERE at_us < ?`, sinceUS); err != nil {
		return 0, fmt.Errorf("read log-in failures: %w", err)
	}
	var n int
	err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_failures WHERE client = ? AND at_us >= ?`, client, sinceUS).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read log-in failures: %w", err)
	}
	return n, nil
}

// AddLoginFailure records a failed log-in of a client.
func (db *DB) AddLoginFailure(ctx context.Context, client string, atUS int64) error {
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO login_failures(client, at_us) VALUES (?, ?)`, client, atUS); err != nil {
		return fmt.Errorf("record log-in failure: %w", err)
	}
	return nil
}

// AcquireLease takes or renews the lease name for holder until untilUS:
// true when holder has it, false when another holds it unexpired.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, nowUS, untilUS int64) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `INSERT INTO leases(name, holder, until_us) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until_us = excluded.until_us
		WHERE leases.holder = excluded.holder OR leases.until_us < ?`, name, holder, untilUS, nowUS)
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ReleaseLease gives the lease up, if holder has it, keeping its note.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := db.sql.ExecContext(ctx, `UPDATE leases SET until_us = 0 WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// SetLeaseNote records what the lease's job last said.
func (db *DB) SetLeaseNote(ctx context.Context, name, holder, note string) error {
	if _, err := db.sql.ExecContext(ctx, `UPDATE leases SET note = ? WHERE name = ? AND holder = ?`, note, name, holder); err != nil {
		return fmt.Errorf("note lease %s: %w", name, err)
	}
	return nil
}

// Lease returns the lease name, or nil when it was never taken.
func (db *DB) Lease(ctx context.Context, name string) (*maildiag.Lease, error) {
	ls, err := queryAll(ctx, db, "read lease", `SELECT name, holder, until_us, note FROM leases WHERE name = ?`, []any{name},
		func(l *maildiag.Lease) []any { return []any{&l.Name, &l.Holder, &l.UntilUS, &l.Note} })
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	return &ls[0], nil
}

// AddResendRequest stores a pending resend request and sets its id.
func (db *DB) AddResendRequest(ctx context.Context, r *maildiag.ResendRequest) error {
	res, err := db.sql.ExecContext(ctx, `INSERT INTO resend_requests(query, to_addr, reason, requested_by, requested_us, status)
		VALUES (?, ?, ?, ?, ?, ?)`, r.Query, r.To, r.Reason, r.RequestedBy, r.RequestedUS, maildiag.ResendPending)
	if err != nil {
		return fmt.Errorf("add resend request: %w", err)
	}
	r.ID, _ = res.LastInsertId()
	r.Status = maildiag.ResendPending
	return nil
}

const resendCols = `SELECT id, query, to_addr, reason, requested_by, requested_us, COALESCE(decided_by, ''), COALESCE(decided_us, 0), status, result FROM resend_requests`

func resendDest(r *maildiag.ResendRequest) []any {
	return []any{&r.ID, &r.Query, &r.To, &r.Reason, &r.RequestedBy, &r.RequestedUS, &r.DecidedBy, &r.DecidedUS, &r.Status, &r.Result}
}

// ResendRequest returns one request, or nil.
func (db *DB) ResendRequest(ctx context.Context, id int64) (*maildiag.ResendRequest, error) {
	rs, err := queryAll(ctx, db, "read resend request", resendCols+` WHERE id = ?`, []any{id}, resendDest)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return &rs[0], nil
}

// ResendRequests lists requests, newest first: those of a status, or all
// when status is "".
func (db *DB) ResendRequests(ctx context.Context, status string, limit int) ([]maildiag.ResendRequest, error) {
	q, args := resendCols, []any{}
	if status != "" {
		q += ` WHERE status = ?`
		args = append(args, status)
	}
	return queryAll(ctx, db, "read resend requests", q+` ORDER BY id DESC LIMIT ?`, append(args, limit), resendDest)
}

// DecideResendRequest moves a pending request to status, decided by who
// at atUS: false when it was no longer pending (another lead was first).
func (db *DB) DecideResendRequest(ctx context.Context, id int64, status, by string, atUS int64) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `UPDATE resend_requests SET status = ?, decided_by = ?, decided_us = ?
		WHERE id = ? AND status = 'pending'`, status, by, atUS, id)
	if err != nil {
		return false, fmt.Errorf("decide resend request: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// FinishResendRequest records what became of an approved request.
func (db *DB) FinishResendRequest(ctx context.Context, id int64, status, result string) error {
	if _, err := db.sql.ExecContext(ctx, `UPDATE resend_requests SET status = ?, result = ? WHERE id = ?`, status, result, id); err != nil {
		return fmt.Errorf("finish resend request: %w", err)
	}
	return nil
}

// FirstWebhookToken records a webhook's token in the writer's open
// transaction: false when the index has seen it before (a replay), also
// from another server process sharing the index.
func (w *Writer) FirstWebhookToken(ctx context.Context, token string, atUS int64) (bool, error) {
	if err := w.begin(ctx); err != nil {
		return false, err
	}
	res, err := w.exec(`INSERT INTO webhook_tokens(token, seen_us) VALUES (?, ?) ON CONFLICT(token) DO NOTHING`, token, atUS)
	if err != nil {
		return false, fmt.Errorf("record webhook token: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ForgetWebhookTokens drops tokens seen before beforeUS: a webhook that
// old is refused by its timestamp anyway.
func (w *Writer) ForgetWebhookTokens(ctx context.Context, beforeUS int64) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.exec(`DELETE FROM webhook_tokens WHERE seen_us < ?`, beforeUS); err != nil {
		return fmt.Errorf("forget webhook tokens: %w", err)
	}
	return nil
}
