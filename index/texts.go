package index

import (
	"database/sql/driver"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
)

// Kinds of texts (the texts table): what events are searched by, stored
// once each.
const (
	textSubject = 1
	textFrom    = 2
	textIP      = 3
	textTags    = 4
	textRoute   = 5
)

// textCacheLimit bounds the texts the writer keeps in memory (idCache),
// as recipients are; misses the filter of stored texts cannot rule out
// are looked up by hash. Streamed imports of 10M events, one run each,
// when two generations of maps held them: at 1<<21 the cache was half of
// a transactional import's live heap, which sat at the import's memory
// limit while the collector ran 5,124 times (17% of the CPU; peak memory
// 560 MB, 24.1k events/s); at 1<<20, 2,072 times (7%; 497 MB, 29.0k/s);
// at 1<<19, 799 times (3%; 466 MB, 27.9k/s), but a marketing import's
// last million fell from 35k to 30k events/s, its opens and clicks
// looking up subjects the cache had dropped (39k at 1<<20).
const textCacheLimit = 1 << 20

// textDict is the writer's side of the texts table. Like recipients, texts
// are held by two hashes of them, not as strings: a transactional sender
// has a subject for every few events (2.8M at 10M events), and a map of
// strings that size is memory the collector scans again and again (at 3M
// events, a quarter of the import's CPU went to collection).
type textDict struct {
	ids        idCache
	known      bloom // hashes of every stored text, when knownReady
	knownReady bool
	tried      bool
	seed       maphash.Seed
	next       int64 // id of the next new text; 0: not read yet
	added      []newText
	// recent holds, per kind, texts found lately, each in the slot its
	// hash picks: small enough to stay in the processor's cache, where a
	// look in the filter and then the cache missed it for each of an
	// event's five texts, most of which (senders, IPs, tags, routes)
	// repeat from event to event.
	recent [textRoute][recentTexts]recentText
}

const recentTexts = 1 << 10

type recentText struct {
	k  recipKey
	id int64
}

type newText struct {
	id, hash int64
	kind     uint8
	text     string
}

func (d *textDict) init() {
	d.ids = newIDCache(textCacheLimit)
	d.seed = maphash.MakeSeed()
}

func (d *textDict) forget() {
	d.ids.clear()
	d.known.reset()
	d.knownReady, d.tried = false, false
	d.next = 0
	d.added = d.added[:0]
	clear(d.recent[:])
}

// committed lets the cache drop the texts the transaction added.
func (d *textDict) committed() { d.ids.committed() }

// textHash is the key of a text in text_keys.
func textHash(kind uint8, text string) int64 {
	return finish63(fnv1a(fnv1a(fnvOffset, string(rune('0'+kind))), text))
}

// keyOf stands for a text in memory: its text_keys hash, which covers the
// kind, and an independent hash of the text.
func (d *textDict) keyOf(kind uint8, text string) recipKey {
	return recipKey{textHash(kind, text), maphash.String(d.seed, text)}
}

// load reads every text when there are few enough, and the hashes of all
// otherwise, so that a text the filter has not seen is new.
func (d *textDict) load(w *Writer) error {
	if d.tried {
		return nil
	}
	d.tried = true
	n, err := w.queryInt(`SELECT COUNT(*) FROM texts`)
	if err != nil || n > recipientFilterLimit {
		return err
	}
	return d.loadTexts(w, int(n), n <= textCacheLimit/2)
}

// loadTexts fills the filter with the n stored texts, and the cache too
// with all.
func (d *textDict) loadTexts(w *Writer, n int, all bool) error {
	d.known.reserve(n)
	var err error
	if all {
		err = w.each(`SELECT kind, text, id FROM texts`, nil, func(r []driver.Value) error {
			k := d.keyOf(uint8(r[0].(int64)), r[1].(string))
			d.ids.put(k, r[2].(int64))
			d.known.add(k.h)
			return nil
		})
	} else {
		err = w.each(`SELECT hash FROM text_keys`, nil, func(r []driver.Value) error {
			d.known.add(r[0].(int64))
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("read texts: %w", err)
	}
	d.knownReady = true
	return nil
}

// textID returns the id of a text, adding it when new; 0 for "".
func (w *Writer) textID(kind uint8, text string) (int64, error) {
	if text == "" {
		return 0, nil
	}
	return w.textIDByKey(kind, text, w.texts.keyOf(kind, text))
}

// textIDByKey is textID with the text's key (textDict.keyOf) known.
func (w *Writer) textIDByKey(kind uint8, text string, k recipKey) (int64, error) {
	r := &w.texts.recent[kind-1][k.m%recentTexts]
	if r.k == k {
		return r.id, nil
	}
	id, err := w.findText(kind, text, k)
	if err == nil {
		*r = recentText{k, id}
	}
	return id, err
}

// findText is textIDByKey past the recent texts.
func (w *Writer) findText(kind uint8, text string, k recipKey) (int64, error) {
	d := &w.texts
	// The filter first, as for recipients: every cached text is in it.
	if !d.knownReady || d.known.mayHave(k.h) {
		if id, ok := d.ids.get(k); ok {
			return id, nil
		}
		id, err := w.findByKey(`SELECT id, hash2 FROM text_keys WHERE hash = ?`, k.h, hash2(kind, text),
			func(id int64) (bool, error) {
				var same bool
				err := w.each(`SELECT kind, text FROM texts WHERE id = ?`, []any{id}, func(r []driver.Value) error {
					same = r[0].(int64) == int64(kind) && r[1].(string) == text
					return nil
				})
				return same, err
			})
		if err != nil {
			return 0, fmt.Errorf("look up text: %w", err)
		}
		if id != 0 {
			d.ids.put(k, id)
			return id, nil
		}
	}
	if d.next == 0 {
		last, err := w.queryInt(`SELECT MAX(id) FROM texts`)
		if err != nil {
			return 0, fmt.Errorf("store text: %w", err)
		}
		d.next = last + 1
	}
	id := d.next
	d.next++
	d.ids.add(k, id)
	if d.knownReady { // past recipientFilterLimit the filter is not used
		d.known.add(k.h)
	}
	d.added = append(d.added, newText{id: id, hash: k.h, kind: kind, text: strings.Clone(text)})
	return id, nil
}

// eventTexts are the text ids an events row refers to.
type eventTexts struct {
	subject, from, ip, tags, route int64
}

// eventTextIDs finds (or adds) the texts of an event.
func (w *Writer) eventTextIDs(ev *maildiag.Event) (eventTexts, error) {
	var p preparedEvent
	w.prepareTexts(ev, &p)
	return w.preparedTextIDs(ev, &p)
}

// preparedTextIDs finds (or adds) the texts of an event, their keys
// known.
func (w *Writer) preparedTextIDs(ev *maildiag.Event, p *preparedEvent) (eventTexts, error) {
	var t eventTexts
	var err error
	for i, id := range [...]*int64{&t.subject, &t.from, &t.ip, &t.tags, &t.route} {
		if p.texts[i] == (recipKey{}) {
			continue
		}
		if *id, err = w.textIDByKey(uint8(i+1), p.text(ev, i), p.texts[i]); err != nil {
			return t, err
		}
	}
	return t, nil
}

// tagsText is a tag set as stored: one tag per line.
func tagsText(tags []string) string { return strings.Join(tags, "\n") + "\n" }

// RouteText is a route as stored: provider, gateway and MX host, each
// followed by a line break.
func RouteText(provider, gateway, mx string) string {
	return provider + "\n" + gateway + "\n" + mx + "\n"
}

// flush inserts the new texts in id order, then their keys in hash order.
// flush inserts new texts and clears added; as flushRecipients, it runs
// on the flusher.
func (d *textDict) flush(w *Writer, added []newText) error {
	if len(added) == 0 {
		return nil
	}
	b := newRowBatch("INSERT OR FAIL", "texts", []string{"id", "kind", "text"}, "")
	for _, t := range added {
		b.always(t.id)
		b.always(int64(t.kind))
		b.text(t.text)
		if err := b.end(w); err != nil {
			return err
		}
	}
	if err := b.flush(w); err != nil {
		return err
	}
	slices.SortFunc(added, func(a, b newText) int {
		if c := cmpInt(a.hash, b.hash); c != 0 {
			return c
		}
		return cmpInt(a.id, b.id)
	})
	kb := newRowBatch("INSERT OR FAIL", "text_keys", []string{"hash", "id", "hash2"}, "")
	for _, t := range added {
		kb.always(t.hash)
		kb.always(t.id)
		kb.always(hash2(t.kind, t.text))
		if err := kb.end(w); err != nil {
			return err
		}
	}
	if err := kb.flush(w); err != nil {
		return err
	}
	clear(added) // the texts go
	return nil
}
