package index

import (
	"database/sql/driver"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
)

// Names are stored once, in dictionary tables, and referenced by id. The
// writer keeps them in memory: event types and domains always whole,
// recipients as the ones used lately, with a filter that tells most new
// addresses from stored ones without a lookup.

// Event type ids fixed by the first migration.
const (
	typeAccepted  = 1
	typeRejected  = 2
	typeDelivered = 3
	typeFailed    = 4
)

// recipientCacheLimit bounds the recipients kept in memory (idCache).
// Misses are looked up, each a random page of the keys table. A marketing
// account mails its 2.3M addresses of 10M events again and again: streamed
// whole, one run each, 1<<20 took 126.5 s (the last million at 73% of the
// first's rate) and 1<<21 106.4 s (83%), peak 490 and 486 MB, the heap held
// under the import's memory limit either way; a transactional one, whose
// 7.7M addresses no cache holds, took 165.3 and 163.7 s.
const recipientCacheLimit = 1 << 21

// recipientFilterLimit bounds the stored recipients whose hashes are read
// into the filter when a writer starts (12 bits each); past it, every
// address not in the cache is looked up.
const recipientFilterLimit = 1 << 25

// domainShift places a recipient's domain id in the high bits of its id.
const domainShift = 32

// RecipientRange returns the first and last recipient id a domain's
// addresses can have.
func RecipientRange(domainID int64) (lo, hi int64) {
	return domainID << domainShift, domainID<<domainShift | (1<<domainShift - 1)
}

type dictionary struct {
	types map[string]int64
	// domains holds every domain's id by its key (keyOf of its name): a
	// map of strings cost a transactional import a hash and a comparison
	// of the name in memory elsewhere for every new address.
	domains map[recipKey]int64
	loaded  bool // types and domains read

	recips     idCache
	known      bloom // hashes of every stored recipient, when knownReady
	knownReady bool
	// recent holds the hashes of the addresses in recipients_recent, and
	// of those merged into the base tables in the open transaction, when
	// knownReady: an address looked up that it has not seen is read from
	// the base tables alone. Past a few million addresses, nearly every
	// lookup is of one the cache dropped long ago, in the base tables;
	// reading the recent ones too, a page each, took a quarter of the time.
	recent      bloom
	merged      bool // the open transaction merged the recent tables (the flusher's, until the commit)
	recipsTried bool
	// Addresses in recipients_base and recipients_recent, when recipsTried.
	baseRecips, recentRecips int64
	recentMin                int64 // minRecentRecipients, but in tests
	seed                     maphash.Seed
	nextRecip                map[int64]int64 // domain id -> id of its next new recipient
	// lastRecip holds, by domain id, the number of the last address the
	// transaction stored (chunk.go: the flusher's, until the commit).
	lastRecip map[int64]int64
	newRecips []newRecipient

	attrs   map[int64]*domainAttrs
	sending map[int64]bool // domains known to be marked as sending domains
	// The sending domain last asked for, and its id: events come in runs
	// of one sending domain, and two map lookups an event took 2% of a
	// 1M-event import's writer.
	lastSending   string
	lastSendingID int64
}

type newRecipient struct {
	id, hash int64 // hash: hash63(address)
	address  string
}

// recipKey stands for an address in memory: two independent hashes of it,
// so that no address string is kept (nor scanned by the collector). Two
// addresses share a key with a chance of about 2^-127.
type recipKey struct {
	h int64 // hash63, as stored in recipient_keys
	m uint64
}

func (d *dictionary) keyOf(addr string) recipKey {
	return recipKey{hash63(addr), maphash.String(d.seed, addr)}
}

// domainAttrs is what the latest delivery attempt said about a recipient
// domain.
type domainAttrs struct {
	route                 int64 // the id of the route text of the three
	provider, gateway, mx string
	ts                    int64
	dirty                 bool
}

func (d *dictionary) init() {
	d.types = map[string]int64{}
	d.domains = map[recipKey]int64{}
	d.recips = newIDCache(recipientCacheLimit)
	d.seed = maphash.MakeSeed()
	d.recentMin = minRecentRecipients
	d.nextRecip = map[int64]int64{}
	d.lastRecip = map[int64]int64{}
	d.attrs = map[int64]*domainAttrs{}
	d.sending = map[int64]bool{}
}

// forget drops what may no longer match the index: after a rollback, or a
// write by another connection.
func (d *dictionary) forget() {
	clear(d.types)
	clear(d.domains)
	d.loaded = false
	d.recips.clear()
	d.known.reset()
	d.recent.reset()
	d.knownReady, d.recipsTried, d.merged = false, false, false
	clear(d.nextRecip)
	clear(d.lastRecip)
	d.newRecips = d.newRecips[:0]
	clear(d.attrs)
	clear(d.sending)
	d.lastSending, d.lastSendingID = "", 0
}

// load reads event types and domains, every recipient when there are few
// enough, and the hashes of all when there are not too many, so that an
// address the filter has not seen is new.
func (d *dictionary) load(w *Writer) error {
	if d.loaded {
		return nil
	}
	err := w.each(`SELECT name, id FROM event_types`, nil, func(r []driver.Value) error {
		d.types[r[0].(string)] = r[1].(int64)
		return nil
	})
	if err == nil {
		err = w.each(`SELECT name, id FROM domains`, nil, func(r []driver.Value) error {
			d.domains[d.keyOf(r[0].(string))] = r[1].(int64)
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("read dictionary: %w", err)
	}
	d.loaded = true
	if d.recipsTried {
		return nil
	}
	d.recipsTried = true
	if err := d.countRecipients(w); err != nil {
		return err
	}
	n := d.baseRecips + d.recentRecips
	if n > recipientFilterLimit {
		return nil
	}
	return d.loadRecipients(w, int(n), n <= recipientCacheLimit/2)
}

// countRecipients reads how many addresses each half of the recipients
// holds.
func (d *dictionary) countRecipients(w *Writer) error {
	var err error
	if d.baseRecips, err = w.queryInt(`SELECT COUNT(*) FROM recipients_base`); err == nil {
		d.recentRecips, err = w.queryInt(`SELECT COUNT(*) FROM recipients_recent`)
	}
	if err != nil {
		return fmt.Errorf("count recipients: %w", err)
	}
	return nil
}

// loadRecipients fills the filters with the n stored recipients, and the
// cache too with all.
func (d *dictionary) loadRecipients(w *Writer, n int, all bool) error {
	d.known.reserve(n)
	d.recent.reserve(int(d.recentRecips))
	for _, half := range []string{"base", "recent"} {
		recent := half == "recent"
		var err error
		if all {
			err = w.each(`SELECT address, id FROM recipients_`+half, nil, func(r []driver.Value) error {
				k := d.keyOf(r[0].(string))
				d.recips.put(k, r[1].(int64))
				d.known.add(k.h)
				if recent {
					d.recent.add(k.h)
				}
				return nil
			})
		} else {
			err = w.each(`SELECT hash FROM recipient_keys_`+half, nil, func(r []driver.Value) error {
				d.known.add(r[0].(int64))
				if recent {
					d.recent.add(r[0].(int64))
				}
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("read recipients: %w", err)
		}
	}
	d.knownReady = true
	return nil
}

// settleRecent refills the filter of the recent addresses once a merge has
// emptied their tables, with those stored since, on the writer's goroutine
// once no chunk is in flight. Until then it also holds the merged ones,
// which costs lookups only.
func (d *dictionary) settleRecent(w *Writer) error {
	if !d.merged {
		return nil
	}
	d.merged = false
	if !d.knownReady {
		return nil
	}
	d.recent.reset()
	d.recent.reserve(int(d.recentRecips))
	err := w.each(`SELECT hash FROM recipient_keys_recent`, nil, func(r []driver.Value) error {
		d.recent.add(r[0].(int64))
		return nil
	})
	if err != nil {
		return fmt.Errorf("read recipients: %w", err)
	}
	return nil
}

func (w *Writer) typeID(name string) (int64, error) {
	d := &w.dict
	if id, ok := d.types[name]; ok {
		return id, nil
	}
	if _, err := w.exec(`INSERT OR IGNORE INTO event_types(name) VALUES (?)`, name); err != nil {
		return 0, fmt.Errorf("store event type: %w", err)
	}
	id, err := w.queryInt(`SELECT id FROM event_types WHERE name = ?`, name)
	if err != nil {
		return 0, fmt.Errorf("store event type: %w", err)
	}
	d.types[strings.Clone(name)] = id
	return id, nil
}

// sendingDomainID is domainID for a sending domain: it marks the domain
// as one.
func (w *Writer) sendingDomainID(name string) (int64, error) {
	d := &w.dict
	if name == d.lastSending && d.lastSendingID != 0 {
		return d.lastSendingID, nil
	}
	id, err := w.domainID(name)
	if err != nil || id == 0 {
		return id, err
	}
	if !d.sending[id] {
		if _, err := w.exec(`UPDATE domains SET sending = 1 WHERE id = ? AND sending = 0`, id); err != nil {
			return 0, fmt.Errorf("store domain: %w", err)
		}
		d.sending[id] = true
	}
	d.lastSending, d.lastSendingID = strings.Clone(name), id
	return id, nil
}

func (w *Writer) domainID(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	return w.domainIDByKey(name, w.dict.keyOf(name))
}

// domainIDByKey is domainID with the name's key (keyOf) known.
func (w *Writer) domainIDByKey(name string, k recipKey) (int64, error) {
	d := &w.dict
	if id, ok := d.domains[k]; ok {
		return id, nil
	}
	res, err := w.exec(`INSERT OR IGNORE INTO domains(name, rname) VALUES (?, ?)`, name, Reverse(name))
	if err != nil {
		return 0, fmt.Errorf("store domain: %w", err)
	}
	// A domain this writer adds has no addresses yet: its first recipient
	// needs no lookup of the domain's last id. A transactional sender
	// reaches 25,000 domains in 1M events.
	var id int64
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		if id, err = res.LastInsertId(); err != nil {
			return 0, fmt.Errorf("store domain: %w", err)
		}
		lo, _ := RecipientRange(id)
		d.nextRecip[id] = lo + 1
	} else if id, err = w.queryInt(`SELECT id FROM domains WHERE name = ?`, name); err != nil {
		return 0, fmt.Errorf("store domain: %w", err)
	}
	d.domains[k] = id
	return id, nil
}

// recipientIDByKey returns the id of an address, adding it when new, by
// its key (keyOf) and its domain's, or zero to compute that if needed.
func (w *Writer) recipientIDByKey(addr string, k, dk recipKey) (int64, error) {
	d := &w.dict
	// The filter first: every cached address is in it, and most addresses
	// of a transactional sender are new, each of which cost two misses of
	// the cache's large maps (7% of a 3M-event import's CPU).
	if !d.knownReady || d.known.mayHave(k.h) {
		if id, ok := d.recips.get(k); ok {
			return id, nil
		}
		id, err := w.findRecipient(addr)
		if err != nil {
			return 0, err
		}
		if id != 0 {
			d.recips.put(k, id)
			return id, nil
		}
	}
	var did int64
	var err error
	if dom := maildiag.DomainOf(addr); dom != "" {
		if dk == (recipKey{}) {
			dk = d.keyOf(dom)
		}
		did, err = w.domainIDByKey(dom, dk)
	}
	if err != nil {
		return 0, err
	}
	id, ok := d.nextRecip[did]
	if !ok {
		lo, hi := RecipientRange(did)
		last, err := w.queryInt(`SELECT MAX(COALESCE((SELECT MAX(id) FROM recipients_base WHERE id BETWEEN ?1 AND ?2), 0),
			COALESCE((SELECT MAX(id) FROM recipients_recent WHERE id BETWEEN ?1 AND ?2), 0))`, lo, hi)
		if err != nil {
			return 0, fmt.Errorf("store recipient: %w", err)
		}
		id = max(last+1, lo+1)
	}
	d.nextRecip[did] = id + 1
	d.recips.add(k, id)
	if d.knownReady { // past recipientFilterLimit the filters are not used
		d.known.add(k.h)
		d.recent.add(k.h)
	}
	d.newRecips = append(d.newRecips, newRecipient{id: id, hash: k.h, address: strings.Clone(addr)})
	return id, nil
}

// findRecipient looks an address up in the index; 0 when it is not there.
func (w *Writer) findRecipient(addr string) (int64, error) {
	h := hash63(addr)
	keys := `SELECT id, hash2 FROM recipient_keys_base WHERE hash = ?1
		UNION ALL SELECT id, hash2 FROM recipient_keys_recent WHERE hash = ?1`
	if d := &w.dict; d.knownReady && !d.recent.mayHave(h) {
		keys = `SELECT id, hash2 FROM recipient_keys_base WHERE hash = ?1`
	}
	id, err := w.findByKey(keys, h, hash2(0, addr),
		func(id int64) (bool, error) {
			a, err := queryOne[string](w, `SELECT address FROM recipients_base WHERE id = ?1
				UNION ALL SELECT address FROM recipients_recent WHERE id = ?1`, id)
			return a == addr, err
		})
	if err != nil {
		return 0, fmt.Errorf("look up recipient: %w", err)
	}
	return id, nil
}

// flushRecipients inserts new recipients, in id order and then their
// keys in hash order, and clears recips. It runs on the flusher while the
// writer collects more (chunk.go).
func (d *dictionary) flushRecipients(w *Writer, recips []newRecipient) error {
	if len(recips) == 0 {
		return nil
	}
	slices.SortFunc(recips, func(a, b newRecipient) int { return cmpInt(a.id, b.id) })
	b := newRowBatch("INSERT OR FAIL", "recipients_recent", []string{"id", "address"}, "")
	for _, r := range recips {
		b.always(r.id)
		b.text(r.address)
		if err := b.end(w); err != nil {
			return err
		}
	}
	if err := b.flush(w); err != nil {
		return err
	}
	keys := make([][3]int64, len(recips))
	for i, r := range recips {
		keys[i] = [3]int64{r.hash, r.id, hash2(0, r.address)}
	}
	slices.SortFunc(keys, func(a, b [3]int64) int {
		if c := cmpInt(a[0], b[0]); c != 0 {
			return c
		}
		return cmpInt(a[1], b[1])
	})
	kb := newRowBatch("INSERT OR FAIL", "recipient_keys_recent", []string{"hash", "id", "hash2"}, "")
	for _, k := range keys {
		kb.always(k[0])
		kb.always(k[1])
		kb.always(k[2])
		if err := kb.end(w); err != nil {
			return err
		}
	}
	if err := kb.flush(w); err != nil {
		return err
	}
	// Each domain's count of addresses, its last id's number, is stored
	// at the commit: once a chunk, its updates took 3% of a 1M-event
	// transactional import's CPU.
	for _, r := range recips {
		did := r.id >> domainShift
		d.lastRecip[did] = max(d.lastRecip[did], r.id&(1<<domainShift-1))
	}
	d.recentRecips += int64(len(recips))
	clear(recips) // the addresses go
	return d.mergeRecipients(w)
}

// minRecentRecipients is how many addresses the recent tables hold at
// least before they are merged into the base tables; past a quarter of
// the base, they are merged when they hold that quarter. A merge rewrites
// the base tables once; the recent ones, all of whose pages a commit of
// new addresses rewrites, stay small.
const minRecentRecipients = 1 << 20

// mergeRecipients moves the recent recipients into the base tables when
// there are enough of them, in the open transaction.
func (d *dictionary) mergeRecipients(w *Writer) error {
	if d.recentRecips < max(d.recentMin, d.baseRecips/4) {
		return nil
	}
	// One step for the writer's lookups, which read both halves. OR FAIL:
	// no statement journal of the base tables' pages (rowbatch.go).
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, q := range []string{
		`INSERT OR FAIL INTO recipients_base(id, address) SELECT id, address FROM recipients_recent ORDER BY id`,
		`INSERT OR FAIL INTO recipient_keys_base(hash, id, hash2) SELECT hash, id, hash2 FROM recipient_keys_recent ORDER BY hash, id`,
		`DELETE FROM recipients_recent`,
		`DELETE FROM recipient_keys_recent`,
	} {
		if _, err := w.conn.Exec(q, nil); err != nil {
			return fmt.Errorf("merge recipients: %w", err)
		}
	}
	d.baseRecips += d.recentRecips
	d.recentRecips = 0
	d.merged = true
	return nil
}

// committed lets the cache drop the recipients the transaction added.
func (d *dictionary) committed() {
	d.recips.committed()
}

// noteDomain remembers what a delivery attempt said about its recipient
// domain, when it is the latest word on it. route is the id of the
// attempt's route text (RouteText): one id stands for its provider, gateway
// and MX host, where comparing the three strings cost a transactional
// import a cache miss on each (1% of its CPU).
func (d *dictionary) noteDomain(did, route int64, ev *maildiag.Event) {
	a := d.attrs[did]
	if a == nil {
		a = &domainAttrs{}
		d.attrs[did] = a
	} else if a.ts > ev.TimeUS {
		return
	}
	if a.route == route {
		a.ts = ev.TimeUS
		return
	}
	*a = domainAttrs{route: route, provider: strings.Clone(ev.Provider), gateway: strings.Clone(ev.Gateway),
		mx: strings.Clone(ev.MXHost), ts: ev.TimeUS, dirty: true}
}

// flushAttrs writes the domains' counts of addresses that grew, and the
// domain attributes that changed, unless the index already holds a later
// word.
func (d *dictionary) flushAttrs(w *Writer) error {
	dids := make([]int64, 0, len(d.lastRecip))
	for did := range d.lastRecip {
		dids = append(dids, did)
	}
	slices.Sort(dids)
	for _, did := range dids {
		if _, err := w.exec(`UPDATE domains SET recipients = MAX(recipients, ?) WHERE id = ?`, d.lastRecip[did], did); err != nil {
			return fmt.Errorf("store recipient count: %w", err)
		}
	}
	clear(d.lastRecip)
	for id, a := range d.attrs {
		if !a.dirty {
			continue
		}
		if _, err := w.exec(`UPDATE domains SET provider = ?, gateway = ?, mx_host = ?, seen_at = ?
			WHERE id = ? AND (seen_at IS NULL OR seen_at <= ?)`,
			nullStr(a.provider), nullStr(a.gateway), nullStr(a.mx), a.ts, id, a.ts); err != nil {
			return fmt.Errorf("store domain details: %w", err)
		}
		a.dirty = false
	}
	return nil
}

// Reverse returns s reversed byte by byte: the domains.rname form.
func Reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
