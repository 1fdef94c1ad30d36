package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/reclassify"
)

type migrateOptions struct {
	createRoles bool
	rolePrefix  string
}

// migrateResult is what migrate did; its JSON is the contract.
type migrateResult struct {
	Engine        string   `json:"engine"` // sqlite | postgres
	Index         string   `json:"index"`  // the file, or the URL without its password
	SchemaVersion int      `json:"schema_version"`
	Applied       []string `json:"applied"` // migrations applied by this run
	// TextsBackfilled counts the events stored before their index had
	// text ids (SQLite: schema version 4; PostgreSQL: 8) that this run gave
	// them (subject, From, ...).
	TextsBackfilled int       `json:"texts_backfilled"`
	Roles           *pg.Roles `json:"roles,omitempty"`
}

func newMigrateCmd(s *streams, g *globals) *cobra.Command {
	o := &migrateOptions{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the index's schema up to date; on PostgreSQL, set up the roles",
		Long: `Migrate applies the schema migrations this build knows and the index has not
had yet, each in a transaction of its own. Every command that writes does this
when it opens the index; migrate does only that, so that a database's owner can
run it before people and services with fewer rights use the index.

On PostgreSQL, --create-roles also creates two group roles (NOLOGIN) and
grants them their rights on the index's tables, present and future:
  PREFIX_writer  for the commands that write: sync, import, copy (into the
                 index), suppressions remove and restore, resend (which
                 record what they did in the audit) and reclassify; reads
                 and writes rows, and makes the monthly partitions of new
                 months through a function; no DDL
  PREFIX_reader  for every other command (trace, suppressed, failures,
                 events, show, report, audit, status, query, copy from
                 the index): SELECT only
People and services log in as roles that are members of one of them
(CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE maildiag_reader). Running it
again changes nothing.`,
		Example: `  maildiag --db postgres://owner@db.example.com/maildiag migrate --create-roles
  maildiag --db postgres://owner@db.example.com/maildiag migrate --create-roles --role-prefix support
  maildiag --db ~/mail/index.db migrate --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			if t.pgURL == "" && (o.createRoles || cmd.Flags().Changed("role-prefix")) {
				return usageErrorf("--create-roles and --role-prefix are for a PostgreSQL index (--db postgres://...): a SQLite file has no roles")
			}
			if !validRolePrefix(o.rolePrefix) {
				return usageErrorf("--role-prefix %q: use lower-case letters, digits and _, starting with a letter", o.rolePrefix)
			}
			return migrateRun(cmd.Context(), s, t, g.output, o)
		},
	}
	cmd.Flags().BoolVar(&o.createRoles, "create-roles", false, "PostgreSQL: create the writer and reader roles and grant their rights")
	cmd.Flags().StringVar(&o.rolePrefix, "role-prefix", "maildiag", "PostgreSQL: the roles are PREFIX_writer and PREFIX_reader")
	return cmd
}

func validRolePrefix(p string) bool {
	if p == "" || len(p) > 40 || p[0] < 'a' || p[0] > 'z' {
		return false
	}
	return strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

func migrateRun(ctx context.Context, s *streams, t target, format string, o *migrateOptions) error {
	res := &migrateResult{Applied: []string{}}
	if t.pgURL == "" {
		// Opening a SQLite index migrates it; events stored before their
		// texts were are then given them.
		db, err := index.Open(ctx, t.path)
		if err != nil {
			return failure(err)
		}
		n, err := backfillTexts(ctx, s, db, db)
		db.Close()
		if err != nil {
			return failure(err)
		}
		res.TextsBackfilled = n
		res.Engine, res.Index, res.SchemaVersion = "sqlite", t.path, index.SchemaVersion()
	} else {
		db, err := pg.Connect(ctx, t.pgURL)
		if err != nil {
			return failure(err)
		}
		defer db.Close()
		applied, err := db.MigrateReport(ctx)
		if err != nil {
			return failure(err)
		}
		res.Applied = append(res.Applied, applied...)
		res.Engine, res.Index, res.SchemaVersion = "postgres", db.Where(), pg.SchemaVersion()
		if res.TextsBackfilled, err = backfillTexts(ctx, s, db, db); err != nil {
			return failure(err)
		}
		if o.createRoles {
			r := pg.RolesFor(o.rolePrefix)
			if err := db.CreateRoles(ctx, r); err != nil {
				return failure(err)
			}
			res.Roles = &r
		}
	}
	tb := &table{columns: []string{"engine", "index", "schema_version", "applied", "texts_backfilled", "writer_role", "reader_role"}}
	w, r := "", ""
	if res.Roles != nil {
		w, r = res.Roles.Writer, res.Roles.Reader
	}
	tb.add(res.Engine, res.Index, res.SchemaVersion, strings.Join(res.Applied, " "), res.TextsBackfilled, w, r)
	return render(s.out, format, res, tb)
}

// backfillTexts gives the events an older maildiag stored their text ids
// (reclassify.BackfillTexts), with a count on a terminal; it returns how
// many it read.
func backfillTexts[W interface {
	reclassify.TextWriter
	Close() error
}](ctx context.Context, s *streams, st reclassify.TextStore, db interface {
	NewWriter(ctx context.Context) (W, error)
}) (int, error) {
	if pending, err := st.TextsPending(ctx); err != nil || !pending {
		return 0, err
	}
	w, err := db.NewWriter(ctx)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	bar := newBar(s, -1, "giving stored events their texts (subject, From, ...)")
	defer bar.clear()
	return reclassify.BackfillTexts(ctx, st, w, func(n int) { bar.set(int64(n)) })
}
