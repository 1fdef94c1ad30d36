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
	// days: a filter of 12 bits an event, where a map took 10-18 bytes (160
	// MB at 10M events). A "maybe" is checked exactly.
	fresh *bloom
	// tx holds the keys collected in the open transaction once one was
	// needed; until then, it is off.
	tx txKeys
}

// txKeys is a set of the transaction's event keys, by their positions in
// txRows.keys: an open-addressing table of one word a key (its hash's
// high half and its position), where a map of the keys took 0.6 s of a
// 1M-event import, most of it cache misses on its 24-byte keys.
type txKeys struct {
	on    bool
	slots []uint64 // hash>>32<<32 | position+1; 0: empty
	n     int
}

// build starts the set with keys.
func (s *txKeys) build(keys []evKey) {
	s.on = true
	s.n = 0
	if want := tableSize(len(keys)); len(s.slots) < want {
		s.slots = make([]uint64, want)
	} else {
		clear(s.slots)
	}
	for i := range keys {
		s.add(keys, i)
	}
}

// tableSize is the slot count for n keys at most half full, from 2^16.
func tableSize(n int) int {
	size := 1 << 16
	for size < 2*(n+1) {
		size *= 2
	}
	return size
}

// add puts keys[pos] in the set.
func (s *txKeys) add(keys []evKey, pos int) {
	if 2*(s.n+1) > len(s.slots) {
		s.build(keys[:pos]) // twice the room
	}
	h := keys[pos].hash()
	mask := uint64(len(s.slots) - 1)
	i := h & mask
	for s.slots[i] != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = h>>32<<32 | uint64(pos+1)
	s.n++
}

// has tells whether k is one of keys in the set.
func (s *txKeys) has(keys []evKey, k evKey) bool {
	h := k.hash()
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; s.slots[i] != 0; i = (i + 1) & mask {
		if v := s.slots[i]; v>>32 == h>>32 && keys[v&(1<<32-1)-1] == k {
			return true
		}
	}
	return false
}

func (s *txKeys) off() { s.on = false }

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

func (d *dedup) forgetTx() { d.tx.off() }

func (d *dedup) committed() { d.tx.off() }

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
	if !d.tx.on {
		d.tx.build(w.tx.keys)
	}
	if d.tx.has(w.tx.keys, k) {
		return true, nil
	}
	n, err := w.queryInt(`SELECT COUNT(*) FROM events WHERE day = ? AND recipient_id = ? AND id_hash = ?`, k.day, k.rcpt, k.idHash)
	if err != nil {
		return false, fmt.Errorf("look up event: %w", err)
	}
	return n > 0, nil
}

// remember records that the event with key keys[pos] is stored in this
// transaction.
func (d *dedup) remember(keys []evKey, pos int) {
	k := keys[pos]
	if d.tx.on {
		d.tx.add(keys, pos)
	}
	if d.fresh != nil {
		d.fresh.add(int64(k.hash()))
	}
}
