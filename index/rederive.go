package index

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/maildiag/maildiag/analyze"
)

// ForEachFailureJSON calls fn with every stored failure: its reference,
// its class as stored and its original JSON, in the order they were stored,
// reading each raw block once.
func (db *DB) ForEachFailureJSON(ctx context.Context, fn func(ref analyze.Ref, class string, raw []byte) error) error {
	type item struct {
		ref   analyze.Ref
		class string
		seq   int64
	}
	items, err := queryAll(ctx, db, "read failures", `SELECT day, recipient_id, id_hash, COALESCE(class, ''), seq FROM failures ORDER BY seq`, nil,
		func(it *item) []any { return []any{&it.ref[0], &it.ref[1], &it.ref[2], &it.class, &it.seq} })
	if err != nil {
		return err
	}
	const chunk = 4096
	for i := 0; i < len(items); i += chunk {
		part := items[i:min(i+chunk, len(items))]
		seqs := make([]int64, len(part))
		for j, it := range part {
			seqs[j] = it.seq
		}
		raws, err := db.rawEvents(ctx, seqs)
		if err != nil {
			return err
		}
		for _, it := range part {
			if err := fn(it.ref, it.class, raws[it.seq]); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetFailureClass replaces the derived fields of a stored failure, in the
// writer's open transaction.
func (w *Writer) SetFailureClass(ctx context.Context, ref analyze.Ref, class, rule, gateway string) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.exec(`UPDATE failures SET class = ?, rule = ?, gateway = ? WHERE day = ? AND recipient_id = ? AND id_hash = ?`,
		nullStr(class), nullStr(rule), nullStr(gateway), ref[0], ref[1], ref[2]); err != nil {
		return fmt.Errorf("store failure class: %w", err)
	}
	// The event's route (provider, gateway, MX host) holds the gateway too,
	// and --gateway searches by it: point the event at the route with the
	// new gateway, or events kept listing it under the old one.
	var provider, mx string
	err := w.each(`SELECT COALESCE(provider, ''), COALESCE(mx_host, '') FROM failures WHERE day = ? AND recipient_id = ? AND id_hash = ?`,
		[]any{ref[0], ref[1], ref[2]}, func(r []driver.Value) error {
			provider, mx = r[0].(string), r[1].(string)
			return nil
		})
	if err != nil {
		return fmt.Errorf("store failure class: %w", err)
	}
	var route int64
	if provider != "" || gateway != "" || mx != "" {
		if route, err = w.textID(textRoute, RouteText(provider, gateway, mx)); err != nil {
			return err
		}
	}
	if _, err := w.exec(`UPDATE events SET route_id = ? WHERE day = ? AND recipient_id = ? AND id_hash = ?`,
		nullID(route), ref[0], ref[1], ref[2]); err != nil {
		return fmt.Errorf("store failure class: %w", err)
	}
	return nil
}

// SetMeta sets a value of the meta table in the writer's open transaction.
func (w *Writer) SetMeta(ctx context.Context, key, value string) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.exec(`INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store meta: %w", err)
	}
	return nil
}
