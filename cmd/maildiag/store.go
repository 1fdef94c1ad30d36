package main

import (
	"os"
	"regexp"

	"github.com/maildiag/maildiag/index"
)

// dbPath resolves --db, else $MAILDIAG_DB, else the default location, to
// the SQLite file a command opens. A value with a URL scheme names a store
// engine by it, never a file: this build has SQLite files only, so any
// scheme (postgres://, or a typo of it) is a usage error rather than a
// SQLite file named like the URL. The PostgreSQL store, when it comes, is
// chosen here by its scheme. The error is typed: exit 2 for a scheme, 3
// when there is no home directory to put the default in.
func (g *globals) dbPath() (string, error) {
	value, from := g.db, "--db"
	if value == "" {
		value, from = os.Getenv(index.EnvDB), "$"+index.EnvDB
	}
	if value == "" {
		p, err := index.DefaultPath()
		if err != nil {
			return "", failure(err)
		}
		return p, nil
	}
	if m := urlScheme.FindStringSubmatch(value); m != nil {
		return "", usageErrorf("%s names a %s:// store, and this build keeps the index in SQLite files only: give a file path", from, m[1])
	}
	return value, nil
}

// urlScheme matches a value that starts with a URL scheme and "//"
// (RFC 3986), capturing the scheme; a Windows drive (C:\) or a file
// name with a colon does not match.
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
