package pg_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/pgtest"
)

var roleSeq atomic.Int64

// roles creates the group roles under a prefix of the test's own (roles are
// the server's, not the database's), and a login member of each.
func roles(t *testing.T, db *pg.DB, u string) (writerURL, readerURL string) {
	t.Helper()
	ctx := context.Background()
	prefix := fmt.Sprintf("mdt%d_%d", roleSeq.Add(1), pgtest.Unique())
	r := pg.RolesFor(prefix)
	if err := db.CreateRoles(ctx, r); err != nil {
		t.Fatal(err)
	}
	// Twice is the same as once.
	if err := db.CreateRoles(ctx, r); err != nil {
		t.Fatalf("second time: %v", err)
	}
	admin := pgtest.Conn(t, u)
	for _, s := range []string{
		`CREATE ROLE ` + prefix + `_w LOGIN IN ROLE ` + r.Writer,
		`CREATE ROLE ` + prefix + `_r LOGIN IN ROLE ` + r.Reader,
	} {
		if _, err := admin.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, role := range []string{prefix + "_w", prefix + "_r", r.Writer, r.Reader} {
			admin.Exec(ctx, `DROP OWNED BY `+role)
			admin.Exec(ctx, `DROP ROLE `+role)
		}
	})
	return pgtest.WithUser(u, prefix+"_w", ""), pgtest.WithUser(u, prefix+"_r", "")
}

// The writer role imports (making the partitions of new months through
// maildiag_partitions) but cannot change the schema; the reader role reads
// and cannot write, not even outside maildiag's read-only transactions.
func TestRoles(t *testing.T) {
	ctx := context.Background()
	db, u := open(t)
	wu, ru := roles(t, db, u)

	wdb, err := pg.Open(ctx, wu)
	if err != nil {
		t.Fatalf("open as writer: %v", err)
	}
	defer wdb.Close()
	imps := importFiles(t, wdb, filepath.Join(samples, "events.jsonl"))
	if imps[0].EventsNew == 0 {
		t.Fatal("the writer stored no events")
	}
	wconn := pgtest.Conn(t, wu)
	if _, err := wconn.Exec(ctx, `CREATE TABLE mine (x int)`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("writer CREATE TABLE: %v, want permission denied", err)
	}

	rdb, err := pg.OpenReadOnly(ctx, ru)
	if err != nil {
		t.Fatalf("open as reader: %v", err)
	}
	defer rdb.Close()
	st, err := rdb.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != int64(imps[0].EventsNew) {
		t.Errorf("reader's status: %d events, want %d", st.Events, imps[0].EventsNew)
	}
	rconn := pgtest.Conn(t, ru)
	for _, q := range []string{`DELETE FROM events`, `INSERT INTO meta VALUES ('x', 'y')`, `SELECT maildiag_partitions(ARRAY[0])`} {
		if _, err := rconn.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("reader %s: %v, want permission denied", q, err)
		}
	}
}

// query runs in a read-only transaction even for a role that may write,
// and one statement only.
func TestQueryReadOnly(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t)
	importFiles(t, db, filepath.Join(samples, "events.jsonl"))
	rows, err := db.Query(ctx, `SELECT t.name, SUM(n) AS n FROM daily_counts c JOIN event_types t ON t.id = c.type_id GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows.Columns, ",") != "name,n" {
		t.Errorf("columns %v", rows.Columns)
	}
	var total int64
	for {
		r, err := rows.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			break
		}
		n, ok := r[1].(int64)
		if !ok {
			t.Fatalf("SUM came as %T, want int64", r[1])
		}
		total += n
	}
	rows.Close()
	if total == 0 {
		t.Error("no counts read")
	}
	for _, q := range []string{`DELETE FROM events`, `CREATE TABLE x (y int)`, `WITH d AS (DELETE FROM meta RETURNING 1) SELECT * FROM d`} {
		rows, err := db.Query(ctx, q)
		if err == nil {
			rows.Close()
			t.Errorf("%s ran", q)
		} else if !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: %v, want a read-only refusal", q, err)
		}
	}
	if _, err := db.Query(ctx, `SELECT 1; DELETE FROM events`); err != pg.ErrManyStatements {
		t.Errorf("two statements: %v, want ErrManyStatements", err)
	}
	rows, err = db.Query(ctx, `SELECT 1 WHERE false`)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := rows.Next(); r != nil || err != nil {
		t.Errorf("no rows: got %v, %v", r, err)
	}
	rows.Close()
}
