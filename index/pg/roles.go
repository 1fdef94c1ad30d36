package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Roles are the group roles CreateRoles sets up; people and services log in
// as roles that are members of one (GRANT maildiag_reader TO alice).
type Roles struct {
	Writer string `json:"writer"` // sync and import: reads and writes rows, makes partitions through maildiag_partitions
	Reader string `json:"reader"` // every other command: SELECT only
}

// RolesFor names the roles of a prefix: prefix_writer and prefix_reader.
func RolesFor(prefix string) Roles {
	return Roles{Writer: prefix + "_writer", Reader: prefix + "_reader"}
}

// CreateRoles creates the writer and reader roles when missing (NOLOGIN:
// group roles) and grants them their rights on this database's tables,
// present and future. It runs as the schema's owner, after Migrate.
func (db *DB) CreateRoles(ctx context.Context, r Roles) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return redactErr(err, db.url)
	}
	defer tx.Rollback(context.Background())
	var dbname string
	if err := tx.QueryRow(ctx, `SELECT current_database()`).Scan(&dbname); err != nil {
		return err
	}
	w, rd, d := pgx.Identifier{r.Writer}.Sanitize(), pgx.Identifier{r.Reader}.Sanitize(), pgx.Identifier{dbname}.Sanitize()
	for _, name := range []string{r.Writer, r.Reader} {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, name).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, `CREATE ROLE `+pgx.Identifier{name}.Sanitize()+` NOLOGIN`); err != nil {
				return fmt.Errorf("create role %s: %w", name, err)
			}
		}
	}
	grants := []string{
		`GRANT CONNECT ON DATABASE ` + d + ` TO ` + rd + `, ` + w,
		`GRANT USAGE ON SCHEMA public TO ` + rd + `, ` + w,
		`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ` + rd + `, ` + w,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ` + rd + `, ` + w,
		`GRANT TEMPORARY ON DATABASE ` + d + ` TO ` + w, // the staging table
		`GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + w,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT, UPDATE, DELETE ON TABLES TO ` + w,
		`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ` + w,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ` + w,
		`GRANT EXECUTE ON FUNCTION maildiag_partitions(integer[]) TO ` + w,
	}
	for _, g := range grants {
		if _, err := tx.Exec(ctx, g); err != nil {
			return fmt.Errorf("grant: %w", err)
		}
	}
	return tx.Commit(ctx)
}
