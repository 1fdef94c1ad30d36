// Package index is maildiag's SQLite store: the schema as embedded versioned
// migrations, batched idempotent writes, and the read queries the analyses
// need. Every SQL dialect detail lives here. It knows nothing of HTTP or HTML.
package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

const (
	driverName   = "maildiag_sqlite3"
	driverNameRO = "maildiag_sqlite3_ro"
	driverNameRW = "maildiag_sqlite3_rw"
)

var registerOnce sync.Once

// drv makes connections that know raw_event() and raw_block_cached(), the
// SQL functions that read an event's original JSON out of its raw block
// (rawEvents).
var drv = &sqlite3.SQLiteDriver{ConnectHook: registerFuncs}

// registerFuncs adds maildiag's SQL functions to a connection.
func registerFuncs(c *sqlite3.SQLiteConn) error {
	// Neither is pure: raw_block_cached answers from state, and
	// raw_event(first_seq, slot, NULL) reads it.
	raw := &rawEvents{}
	if err := c.RegisterFunc("raw_event", raw.event, false); err != nil {
		return err
	}
	if err := c.RegisterFunc("raw_block_cached", raw.cached, false); err != nil {
		return err
	}
	if err := c.RegisterFunc("message_key", messageKey, true); err != nil {
		return err
	}
	if err := c.RegisterFunc("event_hash", eventHash, true); err != nil {
		return err
	}
	return c.RegisterFunc("addr_hash", hash63, true)
}

// drvRO is drv for read-only connections: with no database attachable, a
// query cannot create or write another file either.
var drvRO = &sqlite3.SQLiteDriver{
	ConnectHook: func(c *sqlite3.SQLiteConn) error {
		c.SetLimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
		// Reads map the file instead of copying each 64 KiB page out of
		// the page cache: a trace seeks into many pages for a few rows.
		if _, err := c.Exec(fmt.Sprintf("PRAGMA mmap_size = %d", mmapSize), nil); err != nil {
			return err
		}
		return registerFuncs(c)
	},
}

// mmapSize is how much of the index read-only connections map: as much as
// this SQLite build maps at all (its SQLITE_MAX_MMAP_SIZE; a larger value is
// silently capped). Measured on the 1M-event index, median of 31 alternating
// runs: trace 36.9 ms mapped, 46.0 ms not; suppressed 31.6 ms, 38.4 ms.
const mmapSize = 0x7fff0000

// drvRW is drv for the pooled connections of a read-write DB (Open): they
// read as the read-only ones do, mapped, and the server reads through
// them while it writes (the writers' own connections are drv's).
var drvRW = &sqlite3.SQLiteDriver{
	ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if _, err := c.Exec(fmt.Sprintf("PRAGMA mmap_size = %d", mmapSize), nil); err != nil {
			return err
		}
		return registerFuncs(c)
	},
}

func register() {
	registerOnce.Do(func() {
		sql.Register(driverName, drv)
		sql.Register(driverNameRO, drvRO)
		sql.Register(driverNameRW, drvRW)
	})
}

// maxIdleConns is how many pooled connections stay open between uses.
// database/sql keeps 2, and under the server's concurrent requests every
// other query opened a connection (its pragmas, its functions, an empty
// page cache) and closed it again: 7% of the server's CPU on the API bench.
const maxIdleConns = 32

// pool sizes a DB's connection pool.
func pool(s *sql.DB) {
	s.SetMaxIdleConns(maxIdleConns)
	s.SetConnMaxIdleTime(5 * time.Minute) // the memory of a burst's connections goes back
}

// openConn opens a connection of its own, outside database/sql's pool: the
// writer's hot path binds values straight to the driver.
func openConn(dsn string) (*sqlite3.SQLiteConn, error) {
	c, err := drv.Open(dsn)
	if err != nil {
		return nil, err
	}
	return c.(*sqlite3.SQLiteConn), nil
}

// EnvDB names the environment variable that overrides the default index path.
const EnvDB = "MAILDIAG_DB"

// DefaultPath is where the index lives unless --db or MAILDIAG_DB says
// otherwise: $XDG_DATA_HOME/maildiag/index.db, else ~/.local/share/maildiag.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvDB); p != "" {
		return p, nil
	}
	dir, err := DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "index.db"), nil
}

// DataDir is the directory maildiag keeps its files in by default (the
// index, and the backups of removals from an index that is not a file):
// $XDG_DATA_HOME/maildiag, else ~/.local/share/maildiag (on macOS,
// ~/Library/Application Support/maildiag).
func DataDir() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home directory: %w (use --db or %s)", err, EnvDB)
		}
		dir = filepath.Join(home, ".local", "share")
		if runtime.GOOS == "darwin" {
			dir = filepath.Join(home, "Library", "Application Support")
		}
	}
	return filepath.Join(dir, "maildiag"), nil
}

// DB is an open index.
type DB struct {
	Path string
	dsn  string
	sql  *sql.DB

	readOnly bool
	daysMu   sync.Mutex
	days     []int64 // Days, once read on a read-only DB
	namesMu  sync.Mutex
	names    map[int64]string // every domain's name by id, once read on a read-only DB
	ids      map[string]int64 // and the other way
	tagsMu   sync.Mutex
	tagSets  map[int64][]string // tag sets by texts id, as read (tagSet)

	stmtCache stmtCache // kept read statements (stmts.go)
}

// ErrNoIndex is returned when opening read-only an index that does not exist.
var ErrNoIndex = errors.New("no index")

// Open opens the index at path for reading and writing, creating it (mode
// 0600: it holds email addresses) and applying migrations as needed.
func Open(ctx context.Context, path string) (*DB, error) {
	register()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create index directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	if fi.Size() == 0 {
		if err := create(path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	// 64 MiB, the writer's too, from its first transaction: scattered
	// inserts (addresses, texts, failures) dirty pages all over their
	// tables, and what the cache cannot hold goes to the WAL early, is read
	// again and written again. A 1M transactional import took 10.5 s with
	// it against 10.8 s with the 16-29 MiB the writer's cache grew through
	// before (means of 5 alternating), 1.9 s of system time against 2.5 s,
	// for 50 MB more at its peak (442 MB).
	q.Set("_cache_size", "-65536")
	q.Set("_foreign_keys", "0")
	dsn := "file:" + pathURI(path) + "?" + q.Encode()
	s, err := sql.Open(driverNameRW, dsn)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	pool(s)
	db := &DB{Path: path, dsn: dsn, sql: s}
	if err := db.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return db, nil
}

// pageSize is the index's page size, fixed when it is created. Large pages
// make fewer, larger writes: a bulk import runs a third faster with 64 KiB
// pages than with SQLite's default 4 KiB.
const pageSize = 65536

// create sets up a new, empty index file: the page size must be chosen
// before anything is written, and WAL mode fixes it.
func create(path string) error {
	c, err := drv.Open("file:" + pathURI(path))
	if err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	defer c.Close()
	for _, q := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := c.(*sqlite3.SQLiteConn).Exec(q, nil); err != nil {
			return fmt.Errorf("create index: %w", err)
		}
	}
	return nil
}

// OpenReadOnly opens an existing index so that no statement can change it:
// the connection itself is read-only, whatever SQL it is given.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	register()
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: import or sync something first", ErrNoIndex, path)
		}
		return nil, fmt.Errorf("open index: %w", err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_query_only", "1")
	q.Set("_busy_timeout", "10000")
	dsn := "file:" + pathURI(path) + "?" + q.Encode()
	s, err := sql.Open(driverNameRO, dsn)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	pool(s)
	db := &DB{Path: path, dsn: dsn, sql: s, readOnly: true}
	if err := db.checkVersion(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return db, nil
}

// pathURI escapes a file path for a SQLite URI filename.
func pathURI(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// Close closes the index.
func (db *DB) Close() error {
	db.closeStmts()
	return db.sql.Close()
}
