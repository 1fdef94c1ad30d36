package index

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/maildiag/maildiag"
)

var eventColumns = []string{"id", "ts", "type_id", "event_id", "sending_domain_id", "recipient_id", "message_key"}

var failureColumns = []string{"id", "ts", "type_id", "sending_domain_id", "recipient_domain_id", "provider",
	"severity", "reason", "code", "enhanced", "reply", "description", "mx_host", "attempt", "retry_seconds",
	"bounce_type", "delayed_bounce", "subject", "from_addr"}

// AddEvents stores the events not stored before and returns how many were
// new. An event is the same as one stored before when it has the same
// Mailgun id (unique within a UTC day) at the same recipient within a
// millisecond: the Logs API gives times in milliseconds, the Events API and
// webhooks in microseconds.
func (w *Writer) AddEvents(ctx context.Context, evs []maildiag.Event, importID int64) (int, error) {
	if err := w.begin(ctx); err != nil {
		return 0, err
	}
	if w.block.importID != importID {
		if err := w.flushBlock(false); err != nil {
			return 0, err
		}
		w.block.importID = importID
	}
	added := 0
	for i := range evs {
		ev := &evs[i]
		if ev.Key == 0 {
			ev.DeriveKeys()
		}
		rcpt, err := w.recipientID(ev.Recipient)
		if err != nil {
			return added, err
		}
		if seen, err := w.stored(rcpt, ev); err != nil || seen {
			if err != nil {
				return added, err
			}
			continue
		}
		typ, err := w.typeID(ev.Type)
		if err != nil {
			return added, err
		}
		sd, err := w.domainID(ev.SendingDomain)
		if err != nil {
			return added, err
		}
		rd, err := w.domainID(ev.RecipientDomain)
		if err != nil {
			return added, err
		}
		id := w.nextID
		w.nextID++
		b := &w.events
		b.int(id)
		b.int(ev.TimeUS)
		b.int(typ)
		b.str(ev.ID)
		b.int(sd)
		b.int(rcpt)
		b.int(ev.MessageKey)
		if err := w.endRow(b); err != nil {
			return added, err
		}
		if typ == typeFailed || typ == typeRejected {
			f := &w.failures
			f.int(id)
			f.int(ev.TimeUS)
			f.int(typ)
			f.int(sd)
			f.int(rd)
			f.str(ev.Provider)
			f.str(ev.Severity)
			f.str(ev.Reason)
			f.int(int64(ev.Code))
			f.str(ev.EnhancedCode)
			f.str(ev.Reply)
			f.str(ev.Description)
			f.str(ev.MXHost)
			f.int(int64(ev.Attempt))
			f.int(int64(ev.RetrySeconds))
			f.str(ev.BounceType)
			f.int(boolInt(ev.DelayedBounce))
			f.str(ev.Subject)
			f.str(ev.From)
			if err := w.endRow(f); err != nil {
				return added, err
			}
		}
		added++
		w.block.add(ev.Raw)
		w.counts[countKey{maildiag.DayOf(ev.TimeUS), sd, rd, typ}]++
		if w.block.full() {
			if err := w.flushBlock(false); err != nil {
				return added, err
			}
		}
	}
	return added, nil
}

// findEvent lists the ids of events at a recipient within a time range.
const findEvent = `SELECT event_id FROM events
	WHERE ts / 86400000000 IN (?1 / 86400000000, ?2 / 86400000000) AND recipient_id IS ?3 AND ts BETWEEN ?1 AND ?2`

// stored tells whether the event is in the index already. Days that had no
// events when the writer started are checked against the keys of the events
// this writer stored, and go to the index only when a key matches, so a
// first import does no lookups at all.
func (w *Writer) stored(rcpt int64, ev *maildiag.Event) (bool, error) {
	if w.fresh != nil {
		_, oldLo := w.oldDays[maildiag.DayOf(ev.TimeUS-1000)]
		_, oldHi := w.oldDays[maildiag.DayOf(ev.TimeUS+1000)]
		if !oldLo && !oldHi {
			if _, ok := w.fresh[ev.Key]; !ok {
				w.fresh[ev.Key] = struct{}{}
				return false, nil
			}
		}
	}
	// The lookup must see the rows still waiting in the batch.
	if err := w.flushRows(); err != nil {
		return false, err
	}
	a := append(w.args[:0], driver.NamedValue{Ordinal: 1, Value: ev.TimeUS - 1000},
		driver.NamedValue{Ordinal: 2, Value: ev.TimeUS + 1000}, driver.NamedValue{Ordinal: 3, Value: nullID(rcpt)})
	rows, err := w.query(findEvent, a)
	if err != nil {
		return false, fmt.Errorf("look up event %s: %w", ev.ID, err)
	}
	defer rows.Close()
	dest := w.dest[:1]
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, fmt.Errorf("look up event %s: %w", ev.ID, err)
		}
		if id, _ := dest[0].(string); id == ev.ID {
			return true, nil
		}
	}
}

// batchRows is how many rows one INSERT statement carries: one statement per
// row costs about as much again as the row itself.
const batchRows = 32

// rowBatch collects rows for multi-row INSERTs. Only values present are
// bound; the others stay NULL.
type rowBatch struct {
	table   string
	columns []string
	vals    []driver.NamedValue
	rows    int
	col     int
	sql     map[int]string
}

func (b *rowBatch) int(v int64) {
	if v != 0 {
		b.vals = append(b.vals, driver.NamedValue{Ordinal: b.rows*len(b.columns) + b.col + 1, Value: v})
	}
	b.col++
}

// always binds v, zero or not.
func (b *rowBatch) always(v int64) {
	b.vals = append(b.vals, driver.NamedValue{Ordinal: b.rows*len(b.columns) + b.col + 1, Value: v})
	b.col++
}

func (b *rowBatch) str(v string) {
	if v != "" {
		b.vals = append(b.vals, driver.NamedValue{Ordinal: b.rows*len(b.columns) + b.col + 1, Value: v})
	}
	b.col++
}

func (b *rowBatch) reset() {
	b.vals, b.rows, b.col = b.vals[:0], 0, 0
}

// insert returns the INSERT statement for n rows.
func (b *rowBatch) insert(n int) string {
	if s, ok := b.sql[n]; ok {
		return s
	}
	row := "(?" + strings.Repeat(", ?", len(b.columns)-1) + ")"
	s := "INSERT INTO " + b.table + "(" + strings.Join(b.columns, ", ") + ") VALUES " +
		row + strings.Repeat(", "+row, n-1)
	if b.sql == nil {
		b.sql = map[int]string{}
	}
	b.sql[n] = s
	return s
}

// endRow closes the row being added and inserts the batch when it is full.
func (w *Writer) endRow(b *rowBatch) error {
	b.rows++
	b.col = 0
	if b.rows == batchRows {
		return w.flushBatch(b)
	}
	return nil
}

func (w *Writer) flushBatch(b *rowBatch) error {
	if b.rows == 0 {
		return nil
	}
	_, err := w.execArgs(b.insert(b.rows), b.vals)
	b.reset()
	if err != nil {
		return fmt.Errorf("store %s: %w", b.table, err)
	}
	return nil
}

// flushRows inserts the rows still waiting in the batches.
func (w *Writer) flushRows() error {
	for _, b := range []*rowBatch{&w.newRecips, &w.events, &w.failures} {
		if err := w.flushBatch(b); err != nil {
			return err
		}
	}
	return nil
}

type countKey struct {
	day, sending, recipient, typ int64
}

func (w *Writer) flushCounts() error {
	for k, n := range w.counts {
		if _, err := w.exec(`INSERT INTO event_counts(day, sending_domain_id, recipient_domain_id, type_id, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET n = n + excluded.n`, k.day, k.sending, k.recipient, k.typ, n); err != nil {
			return fmt.Errorf("store counts: %w", err)
		}
	}
	clear(w.counts)
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return int64(n)
}

func nullID(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func tagsJSON(tags []string) any {
	if len(tags) == 0 {
		return nil
	}
	b, _ := json.Marshal(tags)
	return string(b)
}
