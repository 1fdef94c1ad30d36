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
	loaded  bool
	open    map[flightKey]openDelivery
	early   map[flightKey]earlyFinal
	waiting []flightKey // keys of early, oldest first from waitPos, as a ring
	waitPos int
	gws     []string          // gateway names by number
	gwNums  map[string]uint32 // and their numbers
	added   []flightKey       // opened in this transaction
	closed  []flightKey       // closed in this transaction, and stored in pending
	delays  map[delayKey]int64
	skipped bool // openLimit reached: some deliveries are not followed
}

func (f *inFlight) init() {
	f.open = map[flightKey]openDelivery{}
	f.early = map[flightKey]earlyFinal{}
	f.gwNums = map[string]uint32{}
	f.delays = map[delayKey]int64{}
}

func (f *inFlight) forget() {
	f.loaded = false
	clear(f.open)
	clear(f.early)
	f.waiting, f.waitPos = f.waiting[:0], 0
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
		if e, ok := f.early[k]; ok {
			delete(f.early, k)
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
// one that has waited longest when earlyLimit are waiting.
func (f *inFlight) wait(k flightKey, e earlyFinal) {
	if len(f.waiting) < earlyLimit {
		f.waiting = append(f.waiting, k)
	} else {
		// The key may have been matched (deleted) or waited for again
		// since: deleting it is then a no-op or drops a newer entry early.
		delete(f.early, f.waiting[f.waitPos])
		f.waiting[f.waitPos] = k
		f.waitPos = (f.waitPos + 1) % earlyLimit
	}
	f.early[k] = e
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
