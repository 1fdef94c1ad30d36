package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/importer"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/reclassify"
	"github.com/maildiag/maildiag/remedy"
)

// target is the index a command opens: a SQLite file, or a PostgreSQL
// server when pgURL is set (its password is never shown: pg.Redact).
type target struct {
	path  string
	pgURL string
}

// dbValue is --db, else $MAILDIAG_DB, with where it came from.
func (g *globals) dbValue() (value, from string) {
	value, from = g.db, "--db"
	if value == "" {
		value, from = os.Getenv(index.EnvDB), "$"+index.EnvDB
	}
	return value, from
}

// dbTarget resolves --db, else $MAILDIAG_DB, else the default location, for
// a command that works on both engines: a postgres:// (or postgresql://)
// URL names a PostgreSQL index; any other URL scheme is a usage error
// rather than a SQLite file named like the URL. The error is typed: exit 2
// for a scheme, 3 when there is no home directory to put the default in.
func (g *globals) dbTarget() (target, error) {
	value, from := g.dbValue()
	if value == "" {
		p, err := index.DefaultPath()
		if err != nil {
			return target{}, failure(err)
		}
		return target{path: p}, nil
	}
	return parseTarget(value, from)
}

// parseTarget reads an index named by from (--db, --to, ...): a
// postgres:// URL, else a SQLite file; another URL scheme is a usage error.
func parseTarget(value, from string) (target, error) {
	if pg.IsURL(value) {
		return target{pgURL: value}, nil
	}
	if m := urlScheme.FindStringSubmatch(value); m != nil {
		return target{}, usageErrorf("%s names a %s:// store; maildiag keeps the index in a SQLite file or on PostgreSQL (postgres://)", from, m[1])
	}
	if value == "" {
		return target{}, usageErrorf("%s is empty: give a SQLite file or a postgres:// URL", from)
	}
	return target{path: value}, nil
}

// urlScheme matches a value that starts with a URL scheme and "//"
// (RFC 3986), capturing the scheme; a Windows drive (C:\) or a file
// name with a colon does not match.
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// writeStore is an index opened for writing, of either engine.
type writeStore interface {
	reclassify.Store
	Close() error
}

// storeWriter is a writer of either engine.
type storeWriter interface {
	importer.Writer
	Close() error
}

// openWriter opens the index and its writer.
func openWriter(ctx context.Context, t target) (writeStore, storeWriter, error) {
	if t.pgURL != "" {
		db, err := pg.Open(ctx, t.pgURL)
		if err != nil {
			return nil, nil, err
		}
		w, err := db.NewWriter(ctx)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return db, w, nil
	}
	db, err := index.Open(ctx, t.path)
	if err != nil {
		return nil, nil, err
	}
	w, err := db.NewWriter(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, w, nil
}

// readStore is an index opened for reading, of either engine: what the
// analyses, the log search and show read.
type readStore interface {
	analyze.Store
	SearchEvents(ctx context.Context, f analyze.EventFilter, fn func(ev *maildiag.Event) error) (next string, err error)
	KeptMessage(ctx context.Context, messageID string) (doc []byte, at time.Time, err error)
	Meta(ctx context.Context, key string) (string, error)
	TextsPending(ctx context.Context) (bool, error)
	Close() error
}

// openReader opens the index read-only: a SQLite file, or PostgreSQL in
// read-only transactions (a member of the reader role is enough).
func openReader(ctx context.Context, t target) (readStore, error) {
	if t.pgURL != "" {
		return pg.OpenReadOnly(ctx, t.pgURL)
	}
	return index.OpenReadOnly(ctx, t.path)
}

// keeper stores messages fetched for show --keep.
type keeper interface {
	KeepMessage(ctx context.Context, messageID, storageKey string, doc []byte, at time.Time) error
	Close() error
}

// openKeeper opens the index to keep a fetched message in.
func openKeeper(ctx context.Context, t target) (keeper, error) {
	if t.pgURL != "" {
		return pg.Open(ctx, t.pgURL)
	}
	return index.Open(ctx, t.path)
}

// actStore is an index a command that acts on the Mailgun account reads:
// what it diagnoses from, and the audit of what was done before.
type actStore interface {
	analyze.Store
	remedy.AuditLog
	Close() error
}

// actWriter records what such a command did (remedy.Writer).
type actWriter interface {
	remedy.Writer
	Close() error
}

// acting is an index opened for suppressions remove and restore and
// resend, of either engine.
type acting struct {
	actStore
	newWriter func(ctx context.Context) (actWriter, error)
}

// openActing opens the index for a command that acts on the Mailgun
// account. When existing is set, an index that was never made is an error
// (exit 3) rather than a new, empty one in which nothing is found.
func openActing(ctx context.Context, t target, existing bool) (*acting, error) {
	if t.pgURL != "" {
		open := pg.Open
		if existing {
			open = pg.OpenExisting
		}
		db, err := open(ctx, t.pgURL)
		if err != nil {
			return nil, failure(err)
		}
		return &acting{db, func(ctx context.Context) (actWriter, error) { return db.NewWriter(ctx) }}, nil
	}
	var db *index.DB
	var err error
	if existing {
		db, err = openExisting(ctx, t.path)
	} else if db, err = index.Open(ctx, t.path); err != nil {
		err = failure(err)
	}
	if err != nil {
		return nil, err
	}
	return &acting{db, func(ctx context.Context) (actWriter, error) { return db.NewWriter(ctx) }}, nil
}

// auditLog is the audit of an index opened read-only.
type auditLog interface {
	remedy.AuditLog
	Close() error
}

// openAuditLog opens the index read-only to read its audit (a member of
// PostgreSQL's reader role is enough).
func openAuditLog(ctx context.Context, t target) (auditLog, error) {
	if t.pgURL != "" {
		return pg.OpenReadOnly(ctx, t.pgURL)
	}
	return index.OpenReadOnly(ctx, t.path)
}

// defaultBackupDir is where removals write their CSV backups unless told:
// beside the index file, or, for an index on PostgreSQL, in maildiag's
// data directory (index.DataDir: ~/.local/share/maildiag/backups) of the
// machine that runs the removal.
func defaultBackupDir(t target) (string, error) {
	if t.pgURL == "" {
		return filepath.Join(filepath.Dir(t.path), "backups"), nil
	}
	dir, err := index.DataDir()
	if err != nil {
		return "", failure(err)
	}
	return filepath.Join(dir, "backups"), nil
}
