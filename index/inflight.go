package index

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
)

// delayBuckets are the upper bounds, in milliseconds, of the
// accepted-to-delivered delay buckets in delay_counts; the last one holds
// everything longer.
var delayBuckets = []int64{
	250, 500, 1_000, 2_000, 3_000, 5_000, 10_000, 20_000, 30_000, 60_000,
	120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
	14_400_000, 28_800_000, 86_400_000, 172_800_000, 1 << 62,
}

// delayBucket returns the bucket bound for a delay in microseconds.
func delayBucket(us int64) int64 {
	ms := us / 1000
	for _, b := range delayBuckets {
		if ms <= b {
			return b
		}
	}
	return delayBuckets[len(delayBuckets)-1]
}

type flightKey struct{ mk, rcpt int64 }

// openDelivery is an accepted message with no final event yet.
type openDelivery struct {
	accepted, sd int64
	stored       bool // in the pending table
}

// earlyFinal is a final event that came before its accepted event. A log
// of outcomes only (a transactional sender's) has one per message, so it
// holds no pointer: its gateway is a number (inFlight.gateway).
type earlyFinal struct {
	ts, sd    int64
	gateway   uint32
	delivered bool
}

type delayKey struct {
	day, sd int64
	gateway string
	le      int64
}

// openLimit bounds the deliveries followed in memory.
const openLimit = 1 << 21

// earlyLimit bounds the final events kept waiting for their accepted
// event; past it the oldest waiting one is dropped. In an input in either
// time order an accepted event comes within hours of its final one (262k
// events is 19 hours of a 10M-event month), and a log of outcomes only (a
// transactional sender's) has no accepted event to wait for: its waiting
// finals took 196 MB at 3M events with no bound but openLimit, 54 MB with
// 512k.
const earlyLimit = 1 << 18

// inFlight follows each message to each recipient from accepted to its
// final event: the time between is the delivery delay, and what stays open
// is kept in the pending table (in flight, retrying, or stuck).
type inFlight struct {
	loaded bool
	open   map[flightKey]openDelivery
	// The finals waiting for their accepted event, by key and by value: a
	// ring, oldest first from waitPos once full. A matched or superseded
	// one has the zero key.
	waitKeys []flightKey
	waitVals []earlyFinal
	waitPos  int
	// early finds a waiting final's slot by key once accepted events look
	// for them often; until then a look scans waitKeys. A log of outcomes
	// only (a transactional sender's) has next to no accepted events, and
	// keeping the map cost an insert and a delete per event (0.75 s of a
	// 1M-event import's 11 s writer) where its 112 scans cost milliseconds.
	early   map[flightKey]int32
	indexed bool
	waits   int               // finals waited for since forget
	scanned int               // slots scanned since forget
	gws     []string          // gateway names by number
	gwNums  map[string]uint32 // and their numbers
	added   []flightKey       // opened in this transaction
	closed  []flightKey       // closed in this transaction, and stored in pending
	delays  map[delayKey]int64
	skipped bool // openLimit reached: some deliveries are not followed
}

func (f *inFlight) init() {
	f.open = map[flightKey]openDelivery{}
	f.early = map[flightKey]int32{}
	f.gwNums = map[string]uint32{}
	f.delays = map[delayKey]int64{}
}

func (f *inFlight) forget() {
	f.loaded = false
	clear(f.open)
	clear(f.early)
	f.indexed, f.waits, f.scanned = false, 0, 0
	f.waitKeys, f.waitVals, f.waitPos = f.waitKeys[:0], f.waitVals[:0], 0
	f.added, f.closed = f.added[:0], f.closed[:0]
	clear(f.delays)
}

func (f *inFlight) load(w *Writer) error {
	if f.loaded {
		return nil
	}
	err := w.each(`SELECT message_key, recipient_id, accepted_at, sending_domain_id FROM pending`, nil, func(r []driver.Value) error {
		f.open[flightKey{r[0].(int64), r[1].(int64)}] = openDelivery{accepted: r[2].(int64), sd: r[3].(int64), stored: true}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read pending deliveries: %w", err)
	}
	f.loaded = true
	return nil
}

// final tells whether an event ends a delivery: delivered, or failed for
// good (including suppression drops and messages too old to retry).
func final(ev *maildiag.Event, typ int64) bool {
	switch typ {
	case typeDelivered:
		return true
	case typeFailed:
		return outcomeOf(ev) != temporary
	}
	return false
}

// accepted tells whether the accepted event of a delivery is known to be
// stored and its delivery still open.
func (f *inFlight) accepted(mk, rcpt int64) bool {
	_, ok := f.open[flightKey{mk, rcpt}]
	return ok
}

// note follows a stored event.
func (f *inFlight) note(ev *maildiag.Event, typ, rcpt, sd, mk int64) {
	if rcpt == 0 || mk == 0 {
		return
	}
	k := flightKey{mk, rcpt}
	switch {
	case typ == typeAccepted:
		if e, ok := f.takeEarly(k); ok {
			if e.delivered {
				f.delay(e.ts, ev.TimeUS, e.sd, f.gws[e.gateway])
			}
			return
		}
		if _, ok := f.open[k]; ok {
			return
		}
		if len(f.open) >= openLimit {
			f.skipped = true
			return
		}
		f.open[k] = openDelivery{accepted: ev.TimeUS, sd: sd}
		f.added = append(f.added, k)
	case final(ev, typ):
		o, ok := f.open[k]
		if !ok {
			f.wait(k, earlyFinal{ts: ev.TimeUS, sd: sd, delivered: typ == typeDelivered, gateway: f.gateway(ev.Gateway)})
			return
		}
		if typ == typeDelivered {
			f.delay(ev.TimeUS, o.accepted, sd, ev.Gateway)
		}
		if o.stored {
			f.closed = append(f.closed, k)
		}
		delete(f.open, k)
	}
}

// wait keeps a final event until its accepted event comes, dropping the
// one that has waited longest when earlyLimit are waiting. A later final
// of the same delivery supersedes an earlier one.
func (f *inFlight) wait(k flightKey, e earlyFinal) {
	f.waits++
	slot := len(f.waitKeys)
	if slot < earlyLimit {
		f.waitKeys = append(f.waitKeys, k)
		f.waitVals = append(f.waitVals, e)
	} else {
		slot = f.waitPos
		f.waitPos = (f.waitPos + 1) % earlyLimit
		if old := f.waitKeys[slot]; f.indexed && old != (flightKey{}) {
			delete(f.early, old)
		}
		f.waitKeys[slot], f.waitVals[slot] = k, e
	}
	if f.indexed {
		f.index(k, slot)
	}
}

// index points early at the slot of k's latest final, superseding any
// earlier one.
func (f *inFlight) index(k flightKey, slot int) {
	if s, ok := f.early[k]; ok {
		f.waitKeys[s] = flightKey{}
	}
	f.early[k] = int32(slot)
}

// scanBudget is how many slots looks may scan per final waited for
// before the waiting finals are indexed: a slot scanned costs about a
// thousandth of keeping one in the map.
const scanBudget = 16

// takeEarly removes and returns the final waiting for the accepted event
// of k.
func (f *inFlight) takeEarly(k flightKey) (earlyFinal, bool) {
	n := len(f.waitKeys)
	if n == 0 {
		return earlyFinal{}, false
	}
	if !f.indexed && f.scanned+n > scanBudget*f.waits {
		f.indexed = true
		for i := range n {
			slot := (f.waitPos + i) % n // oldest first
			if wk := f.waitKeys[slot]; wk != (flightKey{}) {
				f.index(wk, slot)
			}
		}
	}
	if f.indexed {
		s, ok := f.early[k]
		if !ok {
			return earlyFinal{}, false
		}
		delete(f.early, k)
		f.waitKeys[s] = flightKey{}
		return f.waitVals[s], true
	}
	// The latest final of k is the one waiting; earlier ones are
	// superseded.
	f.scanned += n
	newest, age := -1, -1
	for i, wk := range f.waitKeys {
		if wk != k {
			continue
		}
		f.waitKeys[i] = flightKey{}
		if a := (i - f.waitPos + n) % n; a > age {
			newest, age = i, a
		}
	}
	if newest < 0 {
		return earlyFinal{}, false
	}
	return f.waitVals[newest], true
}

// gateway returns the number of a gateway name.
func (f *inFlight) gateway(name string) uint32 {
	n, ok := f.gwNums[name]
	if !ok {
		n = uint32(len(f.gws))
		name = strings.Clone(name)
		f.gws = append(f.gws, name)
		f.gwNums[name] = n
	}
	return n
}

func (f *inFlight) delay(delivered, accepted, sd int64, gateway string) {
	if delivered < accepted {
		return
	}
	f.delays[delayKey{dayOf(delivered), sd, gateway, delayBucket(delivered - accepted)}]++
}

func cmpFlight(a, b flightKey) int {
	if c := cmpInt(a.mk, b.mk); c != 0 {
		return c
	}
	return cmpInt(a.rcpt, b.rcpt)
}

// flush stores the transaction's changes to the pending table and the delays.
func (f *inFlight) flush(w *Writer) error {
	slices.SortFunc(f.closed, cmpFlight)
	for _, k := range f.closed {
		if _, err := w.exec(`DELETE FROM pending WHERE message_key = ? AND recipient_id = ?`, k.mk, k.rcpt); err != nil {
			return fmt.Errorf("store pending deliveries: %w", err)
		}
	}
	slices.SortFunc(f.added, cmpFlight)
	b := newRowBatch("INSERT OR REPLACE", "pending", []string{"message_key", "recipient_id", "accepted_at", "sending_domain_id"}, "")
	for _, k := range f.added {
		o, ok := f.open[k]
		if !ok {
			continue
		}
		o.stored = true
		f.open[k] = o
		b.always(k.mk)
		b.always(k.rcpt)
		b.always(o.accepted)
		b.always(o.sd)
		if err := b.end(w); err != nil {
			return err
		}
	}
	if err := b.flush(w); err != nil {
		return err
	}
	keys := make([]delayKey, 0, len(f.delays))
	for k := range f.delays {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b delayKey) int {
		if c := cmpInt(a.day, b.day); c != 0 {
			return c
		}
		if c := cmpInt(a.sd, b.sd); c != 0 {
			return c
		}
		if c := strings.Compare(a.gateway, b.gateway); c != 0 {
			return c
		}
		return cmpInt(a.le, b.le)
	})
	db := newRowBatch("INSERT", "delay_counts", []string{"day", "sending_domain_id", "gateway", "le_ms", "n"},
		"ON CONFLICT DO UPDATE SET n = n + excluded.n")
	for _, k := range keys {
		db.always(k.day)
		db.always(k.sd)
		db.text(k.gateway)
		db.always(k.le)
		db.always(f.delays[k])
		if err := db.end(w); err != nil {
			return err
		}
	}
	return db.flush(w)
}

// committed clears what the transaction stored.
func (f *inFlight) committed() {
	f.added, f.closed = f.added[:0], f.closed[:0]
	clear(f.delays)
}
