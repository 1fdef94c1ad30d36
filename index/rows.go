package index

import (
	"context"
	"fmt"
)

// queryAll runs a read and returns its rows, each scanned into a T through
// the pointers dest gives; what names the read in errors.
func queryAll[T any](ctx context.Context, db *DB, what, query string, args []any, dest func(*T) []any) ([]T, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(dest(&v)...); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
