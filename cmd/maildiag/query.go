package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
)

// maxTableRows bounds a query shown as a terminal table; CSV and JSON stream all rows.
const maxTableRows = 1000

func newQueryCmd(s *streams, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "query SQL",
		Short: "Run read-only SQL over the index",
		Long: `Query runs one SQL statement over the index, read-only: the connection itself
refuses any statement that would change the index, and SQL holding a second
statement is refused before anything runs (exit 2). The schema is documented in
the README: events_full and failures_full are the events and failures tables
with names joined in, and event_json gives each event's original JSON.

Exit status: 0 when it ran (with or without rows), 2 on usage errors, 3 when
the SQL fails (a syntax error, an unknown column, a write refused).`,
		Example: `  maildiag query "SELECT type, SUM(n) FROM daily_counts JOIN event_types t ON t.id = type_id GROUP BY 1"
  maildiag query "SELECT recipient, code, enhanced, class, reply FROM failures_full WHERE code = 550 LIMIT 20"
  maildiag query --output json "SELECT json FROM event_json WHERE id_hash = event_hash('delivered', 'hK7mQVt1QtqRiOfQXta4sw')"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := g.output
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return queryRun(cmd.Context(), s, t, format, args[0])
		},
	}
}

func queryRun(ctx context.Context, s *streams, to target, format, q string) error {
	rows, done, err := openQuery(ctx, to, q)
	if errors.Is(err, index.ErrManyStatements) || errors.Is(err, pg.ErrManyStatements) {
		return usageErrorf("query: %v; maildiag query runs one statement", err)
	}
	if err != nil {
		return failure(fmt.Errorf("query: %w", err))
	}
	defer done()
	switch format {
	case "json":
		// Streamed: an array of objects, one per row.
		fmt.Fprint(s.out, "[")
		n := 0
		for {
			r, err := rows.Next()
			if err != nil {
				return failure(fmt.Errorf("query: %w", err))
			}
			if r == nil {
				break
			}
			b, err := json.Marshal(jsonRow{rows.Columns, r})
			if err != nil {
				return failure(err)
			}
			if n > 0 {
				fmt.Fprint(s.out, ",")
			}
			fmt.Fprintf(s.out, "\n  %s", b)
			n++
		}
		if n > 0 {
			fmt.Fprintln(s.out)
		}
		fmt.Fprintln(s.out, "]")
		return nil
	case "csv":
		cw := csv.NewWriter(s.out)
		cw.Write(rows.Columns)
		for {
			r, err := rows.Next()
			if err != nil {
				cw.Flush()
				return failure(fmt.Errorf("query: %w", err))
			}
			if r == nil {
				break
			}
			rec := make([]string, len(r))
			for i, c := range r {
				rec[i] = cellText(c)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	}
	t := &table{columns: rows.Columns}
	more := false
	for {
		r, err := rows.Next()
		if err != nil {
			return failure(fmt.Errorf("query: %w", err))
		}
		if r == nil {
			break
		}
		if len(t.rows) == maxTableRows && isTerminal(s.out) {
			more = true
			break
		}
		t.add(r...)
	}
	if err := render(s.out, "table", nil, t); err != nil {
		return err
	}
	if more {
		fmt.Fprintf(s.err, "(first %d rows shown; use --output csv or json for all)\n", maxTableRows)
	}
	return nil
}

// resultRows are a query's rows, from either engine.
type resultRows interface {
	Next() ([]any, error)
}

// queryResult is a query's columns and rows.
type queryResult struct {
	Columns []string
	resultRows
}

// openQuery runs q read-only on the index; done closes the rows and the index.
func openQuery(ctx context.Context, t target, q string) (*queryResult, func(), error) {
	if t.pgURL != "" {
		db, err := pg.OpenReadOnly(ctx, t.pgURL)
		if err != nil {
			return nil, nil, err
		}
		rows, err := db.Query(ctx, q)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return &queryResult{rows.Columns, rows}, func() { rows.Close(); db.Close() }, nil
	}
	db, err := index.OpenReadOnly(ctx, t.path)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.Query(ctx, q)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return &queryResult{rows.Columns, rows}, func() { rows.Close(); db.Close() }, nil
}

// jsonRow is a JSON object whose keys keep the query's column order.
type jsonRow struct {
	cols []string
	vals []any
}

func (o jsonRow) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range o.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}
