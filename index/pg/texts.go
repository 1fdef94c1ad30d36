package pg

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// The texts an event is searched by (migration 0008): subject, From,
// sending IP, tag set and route, stored once each in texts and referenced
// by id from events, as in the SQLite index (index/texts.go): a contains
// search reads the distinct texts, then the events by id, and no event's
// JSON is decompressed to test it.

// Kinds of texts, as the SQLite index's.
const (
	textSubject = 1
	textFrom    = 2
	textIP      = 3
	textTags    = 4
	textRoute   = 5
)

// eventTextCols are the events columns of the kinds, in kind order.
var eventTextCols = [5]string{"subject_id", "from_id", "ip_id", "tags_id", "route_id"}

// eventTexts are an event's texts, in kind order; "" for none.
type eventTexts [5]string

func textsOf(ev *maildiag.Event) eventTexts {
	t := eventTexts{ev.Subject, ev.From, ev.SendingIP}
	if len(ev.Tags) > 0 {
		t[3] = strings.Join(ev.Tags, "\n") + "\n"
	}
	if ev.Provider != "" || ev.Gateway != "" || ev.MXHost != "" {
		t[4] = routeText(ev.Provider, ev.Gateway, ev.MXHost)
	}
	return t
}

// routeText is a route as stored: provider, gateway and MX host, each
// followed by a line break (as the SQLite index's).
func routeText(provider, gateway, mx string) string {
	return provider + "\n" + gateway + "\n" + mx + "\n"
}

type textKey struct {
	kind int16
	text string
}

// textCacheLimit bounds the texts a writer keeps the ids of; the cache
// starts over when full. Events of one message come close together, so a
// batch finds most of its subjects among those of the batches before.
const textCacheLimit = 1 << 18

// resolveTexts finds (or adds) the texts of a batch: the ids of the
// texts not cached are read, and the new ones inserted, in one statement.
// Writers take turns (storeLock), so a text is inserted once; a statement
// that met a text another transaction was inserting runs again.
const resolveTexts = `
WITH v AS (SELECT * FROM unnest($1::smallint[], $2::text[]) AS v(kind, text)),
known AS (
	-- One lookup each: a probe before the insert and a join after it took
	-- two.
	SELECT x.id, x.kind, x.text FROM v
	CROSS JOIN LATERAL (SELECT t.id, t.kind, t.text FROM texts t
		WHERE t.kind = v.kind AND md5(t.text)::uuid = md5(v.text)::uuid AND t.text = v.text LIMIT 1) x
),
ins AS (
	INSERT INTO texts(kind, text)
	SELECT kind, text FROM v
	WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.kind = v.kind AND k.text = v.text)
	ORDER BY 1, 2
	ON CONFLICT DO NOTHING
	RETURNING id, kind, text
)
SELECT id, kind, text FROM ins
UNION ALL
SELECT id, kind, text FROM known`

// textIDs returns the ids of the texts of events (0 for none), in the open
// transaction.
func (w *Writer) textIDs(ctx context.Context, ts []eventTexts) ([][5]int32, error) {
	if len(w.texts) > textCacheLimit {
		clear(w.texts)
	}
	var kinds []int16
	var texts []string
	want := map[textKey]bool{}
	for _, t := range ts {
		for k, s := range t {
			key := textKey{int16(k + 1), s}
			if s == "" || want[key] {
				continue
			}
			if _, ok := w.texts[key]; !ok {
				want[key] = true
				kinds, texts = append(kinds, key.kind), append(texts, s)
			}
		}
	}
	for try := 0; len(want) > 0; try++ {
		if try == 3 {
			return nil, fmt.Errorf("store texts: %d not found after inserting them", len(want))
		}
		rows, err := w.tx.Query(ctx, resolveTexts, kinds, texts)
		if err != nil {
			return nil, fmt.Errorf("store texts: %w", mayNotWrite(err))
		}
		var id int32
		var key textKey
		_, err = pgx.ForEachRow(rows, []any{&id, &key.kind, &key.text}, func() error {
			w.texts[textKey{key.kind, strings.Clone(key.text)}] = id
			delete(want, key)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("store texts: %w", err)
		}
		kinds, texts = kinds[:0], texts[:0]
		for key := range want {
			kinds, texts = append(kinds, key.kind), append(texts, key.text)
		}
	}
	out := make([][5]int32, len(ts))
	for i, t := range ts {
		for k, s := range t {
			if s != "" {
				out[i][k] = w.texts[textKey{int16(k + 1), s}]
			}
		}
	}
	return out, nil
}

// metaTextsBackfill is the meta key saying events stored before migration
// 0008 still lack their text ids (the SQLite index's key).
const metaTextsBackfill = "texts_backfill"

// TextsPending tells whether events of the index still lack their text
// ids (see ForEachEventWithoutTexts).
func (db *DB) TextsPending(ctx context.Context) (bool, error) {
	v, err := db.Meta(ctx, metaTextsBackfill)
	return v == "pending", err
}

// ForEachEventWithoutTexts calls fn with every event stored before
// migration 0008 that has no text ids yet, with its original JSON, a day
// at a time and in the order of its blocks within it (each block
// decompressed once).
func (db *DB) ForEachEventWithoutTexts(ctx context.Context, fn func(ref analyze.Ref, raw []byte) error) error {
	days, err := collect(ctx, db, "read days", `SELECT DISTINCT day FROM daily_counts ORDER BY 1`, nil,
		func(d *int32) []any { return []any{d} })
	if err != nil {
		return err
	}
	for _, d := range days {
		rows, err := collect(ctx, db, "read events", `SELECT day, recipient_id, seq, raw, COALESCE(raw_block, 0), COALESCE(raw_at, 0)
			FROM events WHERE day = $1 AND subject_id IS NULL ORDER BY raw_block, raw_at`, []any{d},
			func(e *eventRow) []any { return []any{&e.day, &e.rcpt, &e.seq, &e.raw, &e.block, &e.at} })
		if err != nil {
			return err
		}
		for len(rows) > 0 {
			part := rows[:min(len(rows), searchChunk)]
			rows = rows[len(part):]
			if err := db.fillRows(ctx, part); err != nil {
				return err
			}
			for i := range part {
				if err := fn(part[i].ref(), part[i].raw); err != nil {
					return err
				}
				part[i].raw = nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// textFill is an event whose text ids the backfill found.
type textFill struct {
	ref   analyze.Ref
	texts eventTexts
}

// fillBatch is how many events' text ids are written in one statement.
const fillBatch = 20000

// SetEventTexts gives a stored event the ids of its texts (adding the
// texts new to the index), in the open transaction: the events are kept
// and written together (a statement per event took most of the backfill's
// time) when enough wait, or at Flush.
func (w *Writer) SetEventTexts(ctx context.Context, ref analyze.Ref, ev *maildiag.Event) error {
	if err := w.beginStore(ctx); err != nil {
		return err
	}
	t := textsOf(ev)
	for k, s := range t {
		t[k] = strings.Clone(s)
	}
	w.fill = append(w.fill, textFill{ref, t})
	if len(w.fill) >= fillBatch {
		return w.flushFill(ctx)
	}
	return nil
}

// flushFill writes the text ids SetEventTexts kept.
func (w *Writer) flushFill(ctx context.Context) error {
	if len(w.fill) == 0 {
		return nil
	}
	ts := make([]eventTexts, len(w.fill))
	for i, f := range w.fill {
		ts[i] = f.texts
	}
	ids, err := w.textIDs(ctx, ts)
	if err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS text_fill (
		day integer, recipient_id bigint, seq bigint, subject_id integer, from_id integer, ip_id integer, tags_id integer, route_id integer)`); err != nil {
		return fmt.Errorf("store event texts: %w", err)
	}
	rows := make([][]any, len(w.fill))
	for i, f := range w.fill {
		t := ids[i]
		rows[i] = []any{int32(f.ref[0]), f.ref[1], f.ref[2], t[0], t[1], t[2], t[3], t[4]}
	}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{"text_fill"}, append([]string{"day", "recipient_id", "seq"}, eventTextCols[:]...),
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("store event texts: %w", err)
	}
	// The key's first columns find an event's few rows of its day; the
	// statistics say the batch is small, or the join read whole partitions.
	if _, err := w.tx.Exec(ctx, `ANALYZE text_fill`); err != nil {
		return fmt.Errorf("store event texts: %w", err)
	}
	if _, err := w.tx.Exec(ctx, `UPDATE events e SET subject_id = f.subject_id, from_id = f.from_id, ip_id = f.ip_id,
			tags_id = f.tags_id, route_id = f.route_id
		FROM text_fill f WHERE e.day = f.day AND e.recipient_id = f.recipient_id AND e.seq = f.seq`); err != nil {
		return fmt.Errorf("store event texts: %w", err)
	}
	if _, err := w.tx.Exec(ctx, `TRUNCATE text_fill`); err != nil {
		return fmt.Errorf("store event texts: %w", err)
	}
	w.fill = w.fill[:0]
	return nil
}

// TextsBackfilled records that no event lacks its text ids any more, in
// the open transaction.
func (w *Writer) TextsBackfilled(ctx context.Context) error {
	if err := w.flushFill(ctx); err != nil {
		return err
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `DELETE FROM meta WHERE key = $1`, metaTextsBackfill); err != nil {
		return fmt.Errorf("store meta: %w", err)
	}
	return nil
}

// setRoute points a failure's event at the route with its gateway (set
// by reclassify): --gateway searches by the route, as in the SQLite index.
func (w *Writer) setRoute(ctx context.Context, ref analyze.Ref, gateway string) error {
	var provider, mx string
	err := w.tx.QueryRow(ctx, `SELECT COALESCE(provider, ''), COALESCE(mx_host, '') FROM failures WHERE day = $1 AND recipient_id = $2 AND seq = $3`,
		int32(ref[0]), ref[1], ref[2]).Scan(&provider, &mx)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store failure class: %w", err)
	}
	var t eventTexts
	if provider != "" || gateway != "" || mx != "" {
		t[4] = routeText(provider, gateway, mx)
	}
	ids, err := w.textIDs(ctx, []eventTexts{t})
	if err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `UPDATE events SET route_id = $1 WHERE day = $2 AND recipient_id = $3 AND seq = $4`,
		ids[0][4], int32(ref[0]), ref[1], ref[2]); err != nil {
		return fmt.Errorf("store failure class: %w", err)
	}
	return nil
}

// textsWhere returns the ids of the texts of a kind that a condition and
// a test (nil: none) accept.
func (db *DB) textsWhere(ctx context.Context, kind int, cond string, a []any, keep func(string) bool) ([]int32, error) {
	type idText struct {
		id   int32
		text string
	}
	q := fmt.Sprintf(`SELECT id, text FROM texts WHERE kind = %d`, kind)
	if cond != "" {
		q += ` AND ` + cond
	}
	rows, err := collect(ctx, db, "read texts", q, a, func(t *idText) []any { return []any{&t.id, &t.text} })
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, r := range rows {
		if keep == nil || keep(r.text) {
			ids = append(ids, r.id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
