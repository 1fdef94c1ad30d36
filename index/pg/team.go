package pg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/maildiag/maildiag"
)

// The team server's tables (migration 0007), as the SQLite index keeps
// them: users, API tokens, sessions, log-in failures, leases and resend
// requests. Each call is its own statement on the pool, so any number of
// serve processes may share them; what must happen once (a lease's
// holder, a request's decision) is decided by one conditional statement.

// ErrUserExists is returned by AddUser for a name already taken.
var ErrUserExists = errors.New("user exists")

func userDest(u *maildiag.User) []any { return []any{&u.Name, &u.Role, &u.CreatedUS} }

// first is the first of a query's rows, or nil.
func first[T any](ctx context.Context, db *DB, what, q string, args []any, scan func(*T) []any) (*T, error) {
	vs, err := collect(ctx, db, what, q, args, scan)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return &vs[0], nil
}

// AddUser adds a user with a role.
func (db *DB) AddUser(ctx context.Context, u maildiag.User) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO users(name, role, created_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		u.Name, u.Role, u.CreatedUS)
	if err != nil {
		return fmt.Errorf("add user: %w", mayNotWrite(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("add user %s: %w", u.Name, ErrUserExists)
	}
	return nil
}

// SetUserRole changes a user's role; false when there is no such user.
func (db *DB) SetUserRole(ctx context.Context, name, role string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET role = $1 WHERE name = $2`, role, name)
	if err != nil {
		return false, fmt.Errorf("set role: %w", mayNotWrite(err))
	}
	return tag.RowsAffected() > 0, nil
}

// Users lists the users by name.
func (db *DB) Users(ctx context.Context) ([]maildiag.User, error) {
	return collect(ctx, db, "read users", `SELECT name, role, created_us FROM users ORDER BY name`, nil, userDest)
}

// User returns the named user, or nil.
func (db *DB) User(ctx context.Context, name string) (*maildiag.User, error) {
	return first(ctx, db, "read user", `SELECT name, role, created_us FROM users WHERE name = $1`, []any{name}, userDest)
}

// AddAPIToken stores the hash of a user's new API token.
func (db *DB) AddAPIToken(ctx context.Context, user string, hash []byte, label string, atUS int64) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO api_tokens(hash, user_name, label, created_us) VALUES ($1, $2, $3, $4)`,
		hash, user, label, atUS); err != nil {
		return fmt.Errorf("add token: %w", mayNotWrite(err))
	}
	return nil
}

// RevokeAPITokens revokes every token of a user; it returns how many.
func (db *DB) RevokeAPITokens(ctx context.Context, user string, atUS int64) (int, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE api_tokens SET revoked_us = $1 WHERE user_name = $2 AND revoked_us IS NULL`, atUS, user)
	if err != nil {
		return 0, fmt.Errorf("revoke tokens: %w", mayNotWrite(err))
	}
	return int(tag.RowsAffected()), nil
}

// UserByToken returns the user whose unrevoked token hashes to hash, or nil.
func (db *DB) UserByToken(ctx context.Context, hash []byte) (*maildiag.User, error) {
	return first(ctx, db, "read token", `SELECT u.name, u.role, u.created_us FROM api_tokens t JOIN users u ON u.name = t.user_name
		WHERE t.hash = $1 AND t.revoked_us IS NULL`, []any{hash}, userDest)
}

// AddSession stores a browser session under the hash of its cookie, and
// drops expired ones.
func (db *DB) AddSession(ctx context.Context, hash []byte, s maildiag.Session, nowUS int64) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM sessions WHERE expires_us < $1`, nowUS)
	b.Queue(`INSERT INTO sessions(hash, user_name, csrf, created_us, expires_us) VALUES ($1, $2, $3, $4, $5)`,
		hash, s.User, s.CSRF, nowUS, s.ExpiresUS)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("add session: %w", mayNotWrite(err))
	}
	return nil
}

// SessionByHash returns the unexpired session of a cookie's hash, or nil.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, nowUS int64) (*maildiag.Session, error) {
	return first(ctx, db, "read session", `SELECT user_name, csrf, expires_us FROM sessions WHERE hash = $1 AND expires_us >= $2`,
		[]any{hash, nowUS}, func(s *maildiag.Session) []any { return []any{&s.User, &s.CSRF, &s.ExpiresUS} })
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// LoginFailures counts a client's failed log-ins since sinceUS, and drops
// older ones.
func (db *DB) LoginFailures(ctx context.Context, client string, sinceUS int64) (int, error) {
	if _, err := db.pool.Exec(ctx, `DELETE FROM login_failures WHERE at_us < $1`, sinceUS); err != nil {
		return 0, fmt.Errorf("read log-in failures: %w", err)
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE client = $1 AND at_us >= $2`, client, sinceUS).Scan(&n); err != nil {
		return 0, fmt.Errorf("read log-in failures: %w", err)
	}
	return n, nil
}

// AddLoginFailure records a failed log-in of a client.
func (db *DB) AddLoginFailure(ctx context.Context, client string, atUS int64) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO login_failures(client, at_us) VALUES ($1, $2)`, client, atUS); err != nil {
		return fmt.Errorf("record log-in failure: %w", err)
	}
	return nil
}

// AcquireLease takes or renews the lease name for holder until untilUS:
// true when holder has it, false when another holds it unexpired. One
// statement decides: two processes asking at once for a free lease both
// insert, one waits for the other's row and then updates only if that
// holder's lease has expired, so exactly one gets it.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, nowUS, untilUS int64) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO leases AS l (name, holder, until_us) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_us = excluded.until_us
		WHERE l.holder = excluded.holder OR l.until_us < $4`, name, holder, untilUS, nowUS)
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, mayNotWrite(err))
	}
	return tag.RowsAffected() > 0, nil
}

// ReleaseLease gives the lease up, if holder has it, keeping its note.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE leases SET until_us = 0 WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// SetLeaseNote records what the lease's job last said.
func (db *DB) SetLeaseNote(ctx context.Context, name, holder, note string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE leases SET note = $1 WHERE name = $2 AND holder = $3`, note, name, holder); err != nil {
		return fmt.Errorf("note lease %s: %w", name, err)
	}
	return nil
}

// Lease returns the lease name, or nil when it was never taken.
func (db *DB) Lease(ctx context.Context, name string) (*maildiag.Lease, error) {
	return first(ctx, db, "read lease", `SELECT name, holder, until_us, note FROM leases WHERE name = $1`, []any{name},
		func(l *maildiag.Lease) []any { return []any{&l.Name, &l.Holder, &l.UntilUS, &l.Note} })
}

// AddResendRequest stores a pending resend request and sets its id.
func (db *DB) AddResendRequest(ctx context.Context, r *maildiag.ResendRequest) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO resend_requests(query, to_addr, reason, requested_by, requested_us, status)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, r.Query, r.To, r.Reason, r.RequestedBy, r.RequestedUS, maildiag.ResendPending).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("add resend request: %w", mayNotWrite(err))
	}
	r.Status = maildiag.ResendPending
	return nil
}

const resendCols = `SELECT id, query, to_addr, reason, requested_by, requested_us, COALESCE(decided_by, ''), COALESCE(decided_us, 0), status, result FROM resend_requests`

func resendDest(r *maildiag.ResendRequest) []any {
	return []any{&r.ID, &r.Query, &r.To, &r.Reason, &r.RequestedBy, &r.RequestedUS, &r.DecidedBy, &r.DecidedUS, &r.Status, &r.Result}
}

// ResendRequest returns one request, or nil.
func (db *DB) ResendRequest(ctx context.Context, id int64) (*maildiag.ResendRequest, error) {
	return first(ctx, db, "read resend request", resendCols+` WHERE id = $1`, []any{id}, resendDest)
}

// ResendRequests lists requests, newest first: those of a status, or all
// when status is "".
func (db *DB) ResendRequests(ctx context.Context, status string, limit int) ([]maildiag.ResendRequest, error) {
	return collect(ctx, db, "read resend requests", resendCols+` WHERE ($1 = '' OR status = $1) ORDER BY id DESC LIMIT $2`,
		[]any{status, limit}, resendDest)
}

// DecideResendRequest moves a pending request to status, decided by who
// at atUS: false when it was no longer pending (another lead was first,
// perhaps through another server process).
func (db *DB) DecideResendRequest(ctx context.Context, id int64, status, by string, atUS int64) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE resend_requests SET status = $1, decided_by = $2, decided_us = $3
		WHERE id = $4 AND status = 'pending'`, status, by, atUS, id)
	if err != nil {
		return false, fmt.Errorf("decide resend request: %w", mayNotWrite(err))
	}
	return tag.RowsAffected() > 0, nil
}

// FinishResendRequest records what became of an approved request.
func (db *DB) FinishResendRequest(ctx context.Context, id int64, status, result string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE resend_requests SET status = $1, result = $2 WHERE id = $3`, status, result, id); err != nil {
		return fmt.Errorf("finish resend request: %w", err)
	}
	return nil
}

// FirstWebhookToken records a webhook's token in the writer's open
// transaction: false when the index has seen it before (a replay), also
// from another server process sharing the index. The transaction takes
// the store lock first: a token another process's open transaction has
// just recorded makes this insert wait for that transaction, which may
// itself wait for the store lock; taking the lock first orders them.
func (w *Writer) FirstWebhookToken(ctx context.Context, token string, atUS int64) (bool, error) {
	if err := w.beginStore(ctx); err != nil {
		return false, err
	}
	tag, err := w.tx.Exec(ctx, `INSERT INTO webhook_tokens(token, seen_us) VALUES ($1, $2) ON CONFLICT (token) DO NOTHING`, token, atUS)
	if err != nil {
		return false, fmt.Errorf("record webhook token: %w", mayNotWrite(err))
	}
	return tag.RowsAffected() > 0, nil
}

// ForgetWebhookTokens drops tokens seen before beforeUS: a webhook that
// old is refused by its timestamp anyway.
func (w *Writer) ForgetWebhookTokens(ctx context.Context, beforeUS int64) error {
	if err := w.beginStore(ctx); err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `DELETE FROM webhook_tokens WHERE seen_us < $1`, beforeUS); err != nil {
		return fmt.Errorf("forget webhook tokens: %w", err)
	}
	return nil
}
