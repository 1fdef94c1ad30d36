package index

import (
	"context"
	"errors"
	"testing"
)

func TestFirstStatement(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want int
	}{
		{"SELECT 1", -1},
		{"SELECT 1;", -1},
		{"SELECT 1 ;; \n", -1},
		{"SELECT 1; -- the end", -1},
		{"SELECT 1; /* the end */ ", -1},
		{"SELECT ';' AS x", -1},
		{`SELECT "a;b", [c;d], ` + "`e;f`" + ` FROM t`, -1},
		{"SELECT 'it''s; fine'", -1},
		{"SELECT 1 -- a; comment\n", -1},
		{"SELECT /* ; */ 1", -1},
		{"SELECT 1; SELECT 2", 10},
		{"SELECT 1;SELECT 2", 9},
		{"SELECT 1; -- c\nSELECT 2", 15},
		{"SELECT ';'; 'x'", 12},
		{"SELECT 1; /*/ x */ SELECT 2", 19},
		{"SELECT 'unterminated; SELECT 2", -1},
	} {
		if _, got := firstStatement(tt.q); got != tt.want {
			t.Errorf("firstStatement(%q): second at %d, want %d", tt.q, got, tt.want)
		}
	}
}

// TestQueryOneStatement: query ran several statements and printed the last
// one's rows. A second statement is refused before anything runs.
func TestQueryOneStatement(t *testing.T) {
	_, path := mustOpen(t)
	db, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Query(context.Background(), "SELECT 1; SELECT 2"); !errors.Is(err, ErrManyStatements) {
		t.Errorf("two statements: %v, want ErrManyStatements", err)
	}
	rows, err := db.Query(context.Background(), "SELECT 1 AS one; -- done")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if r, err := rows.Next(); err != nil || len(r) != 1 || r[0] != int64(1) {
		t.Errorf("one statement: %v, %v", r, err)
	}
}
