package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is an open PostgreSQL index.
type DB struct {
	pool *pgxpool.Pool
	url  string // with its password: never shown (Redact)

	blocks blockCache // the events' JSON blocks read last (rawblock.go)
}

// IsURL tells whether a --db value names a PostgreSQL server rather than
// a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the index at a postgres:// URL and brings its schema
// up to date (Migrate), which needs a role that may change the schema
// when it is behind; a role that may not is told to run maildiag migrate.
func Open(ctx context.Context, u string) (*DB, error) {
	db, err := Connect(ctx, u)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ErrNoIndex is returned by OpenExisting for a database no maildiag has
// stored anything in.
var ErrNoIndex = errors.New("no index")

// OpenExisting is Open for a command that acts on what the index holds:
// a database never migrated is ErrNoIndex, not a new empty index.
func OpenExisting(ctx context.Context, u string) (*DB, error) {
	db, err := Connect(ctx, u)
	if err != nil {
		return nil, err
	}
	v, err := db.version(ctx)
	if err == nil && v == 0 {
		err = fmt.Errorf("%w at %s: import or sync something first", ErrNoIndex, Redact(u))
	}
	if err == nil {
		err = db.Migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenReadOnly connects for reading: every transaction is read-only, and
// a schema older than this build's is an error, not migrated.
func OpenReadOnly(ctx context.Context, u string) (*DB, error) {
	db, err := connectWith(ctx, u, map[string]string{"default_transaction_read_only": "on"})
	if err != nil {
		return nil, err
	}
	v, err := db.version(ctx)
	var missing []int
	if err == nil {
		missing, err = db.missing(ctx)
	}
	if err == nil && len(missing) > 0 {
		err = fmt.Errorf("the index's schema (version %d) lacks migration %d of this build's %d: run maildiag migrate (as the database's owner)", v, missing[0], SchemaVersion())
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Connect connects to the index at a postgres:// URL without migrating it
// (maildiag migrate does that itself, to say what it applied).
func Connect(ctx context.Context, u string) (*DB, error) { return connectWith(ctx, u, nil) }

func connectWith(ctx context.Context, u string, params map[string]string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		// pgx quotes the string it could not parse: say so without it.
		return nil, fmt.Errorf("open index %s: not a valid postgres:// URL", Redact(u))
	}
	for k, v := range params {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "maildiag"
	// As the writer's session: reports group about a million rows, which
	// spilled to disk with the server's 4 MB; and compiling the plans took
	// longer than it saved. A URL that sets them keeps its own.
	for k, v := range map[string]string{"work_mem": "64MB", "jit": "off"} {
		if _, ok := cfg.ConnConfig.RuntimeParams[k]; !ok {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", Redact(u), redactErr(err, u))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open index %s: %w", Redact(u), redactErr(oneLine(err), u))
	}
	return &DB{pool: pool, url: u}, nil
}

// Close closes the connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Where is the index's URL without its password, to show.
func (db *DB) Where() string { return Redact(db.url) }

// Redacted stands for a password in anything shown.
const Redacted = "[redacted]"

// Redact returns a connection URL with its password (in the user info or a
// password= parameter) replaced by Redacted.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return passwordParam.ReplaceAllString(userInfoPassword.ReplaceAllString(u, "${1}"+Redacted+"@"), "${1}"+Redacted)
	}
	if pw, ok := p.User.Password(); ok && pw != "" {
		p.User = url.UserPassword(p.User.Username(), "REDACTEDPASSWORD")
	}
	q := p.Query()
	if q.Has("password") {
		q.Set("password", "REDACTEDPASSWORD")
		p.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(p.String(), "REDACTEDPASSWORD", Redacted)
}

var (
	userInfoPassword = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*:)[^@]*@`)
	passwordParam    = regexp.MustCompile(`(?i)(password=)[^&\s]*`)
)

// passwords returns the password a URL holds, in the forms it may appear in
// an error: as given, and URL-decoded.
func passwords(u string) []string {
	var out []string
	if p, err := url.Parse(u); err == nil {
		if pw, ok := p.User.Password(); ok && pw != "" {
			out = append(out, pw, url.PathEscape(pw), url.QueryEscape(pw))
		}
		if pw := p.Query().Get("password"); pw != "" {
			out = append(out, pw, url.QueryEscape(pw))
		}
	}
	return out
}

// redactErr is err with the URL's password, in any form, taken out of
// its text (pgx's connect errors name the server and user; a password must
// never follow).
func redactErr(err error, u string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, pw := range passwords(u) {
		if len(pw) > 0 {
			clean = strings.ReplaceAll(clean, pw, Redacted)
		}
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError keeps the error for errors.Is and As, with a cleaned text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// oneLine makes a failure to connect one line: pgx lists each address it
// tried on a line of its own; the last says what happened.
func oneLine(err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	return &redactedError{msg: "cannot connect: " + strings.TrimSpace(lines[len(lines)-1]), err: err}
}

// ConnectError reports whether err is a failure to reach the server.
func ConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// ConnectionLost reports whether err is the server going away while a
// command ran: the connection closed or reset under it, or the server
// shutting down or restarting (SQLSTATE classes 57P, operator
// intervention, and 08, connection exception). An HTTP client's error
// (a *url.Error: the Mailgun API's connection) is not the server's.
func ConnectionLost(err error) bool {
	if err == nil {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08")
	}
	var oe *net.OpError
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) || errors.As(err, &oe)
}

// version is the newest migration applied, 0 for an empty database.
func (db *DB) version(ctx context.Context) (int, error) {
	var v int
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: never migrated
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Meta returns a value of the meta table, "" when it has none.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read index meta: %w", err)
	}
	return v, nil
}
