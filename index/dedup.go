package index

import (
	"database/sql/driver"
	"fmt"
)

// evKey is an event's identity in the index: its UTC day, recipient and
// Mailgun id (by hash).
type evKey struct {
	day, rcpt, idHash int64
}

func (k evKey) hash() uint64 {
	h := uint64(k.idHash) ^ uint64(k.rcpt)*0x9E3779B97F4A7C15 ^ uint64(k.day)*0xC2B2AE3D27D4EB4F
	h ^= h >> 31
	return h
}

// dedup decides whether an event is stored already. Days that had no events
// when the writer started are checked against what this writer stored, so
// a first import does no lookups at all; other days, and every day once
// another connection has written, are looked up in the index.
type dedup struct {
	loaded  bool
	oldDays map[int64]bool
	// fresh holds the key hashes of events this writer stored on other
	// days: a filter of 10 bits an event, where a map took 10-18 bytes (160
	// MB at 10M events). A "maybe" is checked exactly.
	fresh *bloom
	// tx holds the keys collected in the open transaction once one was
	// needed; until then, nil.
	tx map[evKey]struct{}
}

func (d *dedup) load(w *Writer) error {
	if w.others {
		d.fresh = nil
	}
	if d.loaded {
		return nil
	}
	d.oldDays = map[int64]bool{}
	err := w.each(`SELECT DISTINCT day FROM daily_counts`, nil, func(r []driver.Value) error {
		d.oldDays[r[0].(int64)] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("read index days: %w", err)
	}
	d.fresh = &bloom{}
	d.loaded = true
	return nil
}

func (d *dedup) forgetTx() { d.tx = nil }

func (d *dedup) committed() { d.tx = nil }

const usPerDay = 86400 * 1_000_000

// seen tells whether the event with key k at time ts is stored already, or
// collected in this transaction. The Logs API gives times in milliseconds,
// the Events API in microseconds: an event within a millisecond of midnight
// is looked for on the neighbouring day too.
func (w *Writer) seen(k evKey, ts int64) (bool, error) {
	into := ts - k.day*usPerDay
	if dup, err := w.seenOn(k); dup || err != nil {
		return dup, err
	}
	if into < 1000 {
		return w.seenOn(evKey{k.day - 1, k.rcpt, k.idHash})
	}
	if into >= usPerDay-1000 {
		return w.seenOn(evKey{k.day + 1, k.rcpt, k.idHash})
	}
	return false, nil
}

func (w *Writer) seenOn(k evKey) (bool, error) {
	d := &w.dedup
	if d.fresh != nil && !d.oldDays[k.day] {
		if !d.fresh.mayHave(int64(k.hash())) {
			return false, nil
		}
	}
	// A repeat, or the first lookup on a day stored before: the
	// transaction's own keys are needed from now on.
	if d.tx == nil {
		d.tx = make(map[evKey]struct{}, len(w.tx.events))
		for i := range w.tx.events {
			d.tx[w.tx.events[i].key] = struct{}{}
		}
	}
	if _, ok := d.tx[k]; ok {
		return true, nil
	}
	n, err := w.queryInt(`SELECT COUNT(*) FROM events WHERE day = ? AND recipient_id = ? AND id_hash = ?`, k.day, k.rcpt, k.idHash)
	if err != nil {
		return false, fmt.Errorf("look up event: %w", err)
	}
	return n > 0, nil
}

// remember records that the event with key k is stored in this transaction.
func (d *dedup) remember(k evKey) {
	if d.tx != nil {
		d.tx[k] = struct{}{}
	}
	if d.fresh != nil {
		d.fresh.add(int64(k.hash()))
	}
}
