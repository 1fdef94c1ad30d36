package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Each test's database is its own and empty, and takes writes.
func TestURLGivesFreshDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := URL(t), URL(t)
	if a == b {
		t.Fatalf("two databases with one URL %s", a)
	}
	for _, u := range []string{a, b} {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var tables int
		if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("%s: %d tables in a new database, want 0", u, tables)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Errorf("%s: %v", u, err)
		}
		conn.Close(ctx)
	}
}

// The throwaway cluster runs as postgres when the tests run as root, and
// pg_trgm (postgresql-contrib) is there.
func TestServer(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION pg_trgm`); err != nil {
		t.Fatalf("pg_trgm: %v", err)
	}
	var sim float64
	if err := conn.QueryRow(ctx, `SELECT similarity('acme.com', 'acme.co')`).Scan(&sim); err != nil || sim <= 0.5 {
		t.Errorf("similarity = %v, %v; want > 0.5", sim, err)
	}
}

// Restart cuts every session off and brings the server back with what
// was committed.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	u := URL(t)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE t (x int); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	Restart(t)
	if _, err := conn.Exec(ctx, `SELECT 1`); err == nil {
		t.Error("a session of before the restart still works")
	}
	again, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	defer again.Close(ctx)
	var n int
	if err := again.QueryRow(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Errorf("after the restart: %d rows, %v; want the committed one", n, err)
	}
}
