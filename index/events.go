package index

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
)

// evRow is an events row.
type evRow struct {
	key                  evKey
	ts, typ, sd, mk, seq int64
	texts                eventTexts
}

// failRow is a failures row; its strings are copies, so that the input
// buffers they came from can be freed before the commit.
type failRow struct {
	evRow
	eventID, severity, reason, enhanced, class, rule, gateway, provider, mx string
	reply, description, bounceType, sendingIP, subject, from                string
	code, attempt, retry                                                    int64
	delayed                                                                 bool
	outcome                                                                 outcome
}

type msgKey struct{ day, mk, rcpt int64 }

type dailyKey struct {
	day, sd, rd, typ int64
	outcome          outcome
}

// splitKey is a split_counts key: text is a sending IP's or a tag set's
// texts id.
type splitKey struct {
	day, sd, text, typ int64
	outcome            outcome
}

type hourlyKey struct {
	hour, sd, typ int64
	outcome       outcome
}

// A counts key's columns: its integers, first column first, and its
// outcome. The upserts bind them and sort by them (upsertCounts).
func (k dailyKey) cols() ([4]int64, outcome)  { return [4]int64{k.day, k.sd, k.rd, k.typ}, k.outcome }
func (k splitKey) cols() ([4]int64, outcome)  { return [4]int64{k.day, k.sd, k.text, k.typ}, k.outcome }
func (k hourlyKey) cols() ([4]int64, outcome) { return [4]int64{k.hour, k.sd, k.typ}, k.outcome }

// countKey is a key of a counts table, whose key columns are the first of
// the integers cols returns (as many as the columns before the outcome),
// then the outcome.
type countKey interface {
	comparable
	cols() ([4]int64, outcome)
}

// txRows holds the rows collected for the open transaction.
type txRows struct {
	minTS, maxTS int64 // of the events, 0 when none
	// keys are the keys of all the transaction's events, for the dedup,
	// and events the rows not yet handed to a chunk: the rows of a whole
	// transaction took 27 MB of a 10M-event import's live heap, close to
	// its memory limit.
	keys     []evKey
	events   []evRow
	failures []failRow
	messages []msgKey // with repeats
	daily    map[dailyKey]int64
	hourly   map[hourlyKey]int64
	split    map[splitKey]int64
}

// txRowsHint is how many events a transaction is expected to hold, for
// room made once rather than by doubling.
const txRowsHint = 1 << 18

func (t *txRows) init() {
	t.keys = make([]evKey, 0, txRowsHint)
	t.events = make([]evRow, 0, chunkRows)
	t.messages = make([]msgKey, 0, txRowsHint)
	t.daily = make(map[dailyKey]int64, txRowsHint/4)
	t.hourly = map[hourlyKey]int64{}
	t.split = map[splitKey]int64{}
}

func (t *txRows) reset() {
	t.minTS, t.maxTS = 0, 0
	t.keys = t.keys[:0]
	t.events = t.events[:0]
	clear(t.failures)
	t.failures = t.failures[:0]
	t.messages = t.messages[:0]
	clear(t.daily)
	clear(t.hourly)
	clear(t.split)
}

// outcome is an outcome as a small number, in the order of outcomeNames.
type outcome uint8

const (
	noOutcome outcome = iota
	temporary
	permanent
	suppressed
)

// outcomeNames are the outcomes as the counts and failures tables hold
// them: only failed events have one there.
var outcomeNames = [...]maildiag.Outcome{"", maildiag.OutcomeTemporary, maildiag.OutcomePermanent, maildiag.OutcomeSuppressed}

// outcomeOf is the stored outcome of an event (maildiag.OutcomeOf).
func outcomeOf(ev *maildiag.Event) outcome {
	if ev.Type != maildiag.Failed {
		return noOutcome
	}
	switch ev.Outcome() {
	case maildiag.OutcomeSuppressed:
		return suppressed
	case maildiag.OutcomePermanent:
		return permanent
	}
	return temporary
}

const usPerHour = 3600 * 1_000_000

// AddEvents stores the events not stored before and returns how many were
// new. An event is the same as one stored before when it has the same
// Mailgun id (unique within a UTC day) at the same recipient on the same day.
func (w *Writer) AddEvents(ctx context.Context, evs []maildiag.Event, importID int64) (int, error) {
	return w.addEvents(ctx, evs, nil, importID)
}

// AddPreparedEvents is AddEvents for events prepared by PrepareEvents.
func (w *Writer) AddPreparedEvents(ctx context.Context, evs []maildiag.Event, prepared any, importID int64) (int, error) {
	ps, _ := prepared.([]preparedEvent)
	if len(ps) != len(evs) {
		ps = nil
	}
	n, err := w.addEvents(ctx, evs, ps, importID)
	if ps != nil {
		clear(ps)
		w.spare.keep(ps)
	}
	return n, err
}

// addEvents stores events, with what PrepareEvents made of them, or nil.
func (w *Writer) addEvents(ctx context.Context, evs []maildiag.Event, ps []preparedEvent, importID int64) (int, error) {
	if err := w.begin(ctx); err != nil {
		return 0, err
	}
	if err := w.blocks.setImport(w, importID); err != nil {
		return 0, err
	}
	added := 0
	t := &w.tx
	var own preparedEvent
	for i := range evs {
		ev := &evs[i]
		p := &own
		if ps != nil {
			p = &ps[i]
		} else {
			w.prepare(ev, p)
		}
		var rcpt int64
		if ev.Recipient != "" {
			var err error
			if rcpt, err = w.recipientIDByKey(ev.Recipient, p.rcpt, p.rcptDomain); err != nil {
				return added, err
			}
		}
		mk := p.mk
		k := evKey{dayOf(ev.TimeUS), rcpt, p.idHash}
		if dup, err := w.seen(k, ev.TimeUS); err != nil || dup {
			if err != nil {
				return added, err
			}
			continue
		}
		typ, err := w.typeID(ev.Type)
		if err != nil {
			return added, err
		}
		sd, err := w.sendingDomainID(ev.SendingDomain)
		if err != nil {
			return added, err
		}
		rd := rcpt >> domainShift
		if rcpt == 0 {
			if rd, err = w.domainID(ev.RecipientDomain); err != nil {
				return added, err
			}
		}
		texts, err := w.preparedTextIDs(ev, p)
		if err != nil {
			return added, err
		}
		seq, err := w.blocks.add(w, ev.Raw)
		if err != nil {
			return added, err
		}
		row := evRow{key: k, ts: ev.TimeUS, typ: typ, sd: sd, mk: mk, seq: seq, texts: texts}
		if len(t.keys) == 0 {
			t.minTS, t.maxTS = ev.TimeUS, ev.TimeUS
		}
		t.minTS, t.maxTS = min(t.minTS, ev.TimeUS), max(t.maxTS, ev.TimeUS)
		t.events = append(t.events, row)
		t.keys = append(t.keys, k)
		w.dedup.remember(t.keys, len(t.keys)-1)
		outcome := outcomeOf(ev)
		t.daily[dailyKey{k.day, sd, rd, typ, outcome}]++
		t.hourly[hourlyKey{floorDiv(ev.TimeUS, usPerHour), sd, typ, outcome}]++
		if texts.ip != 0 {
			t.split[splitKey{k.day, sd, texts.ip, typ, outcome}]++
		}
		if texts.tags != 0 {
			t.split[splitKey{k.day, sd, texts.tags, typ, outcome}]++
		}
		switch typ {
		case typeFailed, typeRejected:
			f := newFailRow(row, ev)
			f.outcome = outcome
			t.failures = append(t.failures, f)
		}
		// A message's recipients come from its accepted (or rejected)
		// events; delivered and failed ones count when their accepted
		// event is not known to this writer.
		if mk != 0 {
			switch typ {
			case typeAccepted, typeRejected:
				t.messages = append(t.messages, msgKey{k.day, mk, rcpt})
			case typeDelivered, typeFailed:
				if !w.flight.accepted(mk, rcpt) {
					t.messages = append(t.messages, msgKey{k.day, mk, rcpt})
				}
			}
		}
		if rd != 0 && ev.MXHost != "" && (typ == typeDelivered || typ == typeFailed) {
			w.dict.noteDomain(rd, texts.route, ev)
		}
		w.flight.note(ev, typ, rcpt, sd, mk)
		added++
	}
	return added, w.handOff()
}

func newFailRow(row evRow, ev *maildiag.Event) failRow {
	c := strings.Clone
	return failRow{evRow: row,
		eventID: c(ev.ID), severity: c(ev.Severity), reason: c(ev.Reason), enhanced: c(ev.EnhancedCode),
		class: c(ev.Class), rule: c(ev.Rule), gateway: c(ev.Gateway), provider: c(ev.Provider), mx: c(ev.MXHost),
		reply: c(ev.Reply), description: c(ev.Description), bounceType: c(ev.BounceType), sendingIP: c(ev.SendingIP),
		subject: c(ev.Subject), from: c(ev.From),
		code: int64(ev.Code), attempt: int64(ev.Attempt), retry: int64(ev.RetrySeconds), delayed: ev.DelayedBounce}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func cmpKey(a, b evKey) int {
	if c := cmpInt(a.day, b.day); c != 0 {
		return c
	}
	if c := cmpInt(a.rcpt, b.rcpt); c != 0 {
		return c
	}
	return cmpInt(a.idHash, b.idHash)
}

var eventColumns = []string{"day", "recipient_id", "id_hash", "ts", "type_id", "sending_domain_id", "message_key", "seq",
	"subject_id", "from_id", "ip_id", "tags_id", "route_id"}

var failureColumns = []string{"day", "recipient_id", "id_hash", "ts", "type_id", "sending_domain_id", "message_key", "seq",
	"event_id", "outcome", "severity", "reason", "code", "enhanced", "class", "rule", "gateway", "provider", "mx_host",
	"attempt", "retry_seconds", "bounce_type", "delayed_bounce", "sending_ip", "tags_id"}

var failureTextColumns = []string{"day", "recipient_id", "id_hash", "reply", "description", "subject", "from_addr"}

// flush inserts the transaction's rows: the chunks' (chunk.go), then the
// counts.
func (t *txRows) flush(w *Writer) error {
	if err := w.flushChunks(); err != nil {
		return err
	}
	if err := t.flushCounts(w); err != nil {
		return err
	}
	if len(t.keys) > 0 {
		if _, err := w.exec(`INSERT INTO meta(key, value) VALUES ('first_ts', ?1), ('last_ts', ?2)
			ON CONFLICT DO UPDATE SET value = CASE key WHEN 'first_ts' THEN MIN(CAST(value AS INTEGER), ?1) ELSE MAX(CAST(value AS INTEGER), ?2) END`,
			t.minTS, t.maxTS); err != nil {
			return fmt.Errorf("store index span: %w", err)
		}
	}
	t.reset()
	return nil
}

// flushFailures inserts failures rows and their texts, in key order.
func flushFailures(w *Writer, fails []failRow) error {
	slices.SortFunc(fails, func(a, b failRow) int { return cmpKey(a.key, b.key) })
	fb := newRowBatch("INSERT OR FAIL", "failures", failureColumns, "")
	xb := newRowBatch("INSERT OR FAIL", "failure_texts", failureTextColumns, "")
	for i := range fails {
		f := &fails[i]
		f.bindKey(&fb)
		fb.text(f.eventID)
		fb.text(string(outcomeNames[f.outcome]))
		fb.str(f.severity)
		fb.str(f.reason)
		fb.int(f.code)
		fb.str(f.enhanced)
		fb.str(f.class)
		fb.str(f.rule)
		fb.str(f.gateway)
		fb.str(f.provider)
		fb.str(f.mx)
		fb.int(f.attempt)
		fb.int(f.retry)
		fb.str(f.bounceType)
		fb.always(boolInt(f.delayed))
		fb.str(f.sendingIP)
		fb.int(f.texts.tags)
		if err := fb.end(w); err != nil {
			return err
		}
		xb.always(f.key.day)
		xb.always(f.key.rcpt)
		xb.always(f.key.idHash)
		xb.str(f.reply)
		xb.str(f.description)
		xb.str(f.subject)
		xb.str(f.from)
		if err := xb.end(w); err != nil {
			return err
		}
	}
	if err := fb.flush(w); err != nil {
		return err
	}
	return xb.flush(w)
}

func (r *evRow) bindKey(b *rowBatch) {
	b.always(r.key.day)
	b.always(r.key.rcpt)
	b.always(r.key.idHash)
	b.always(r.ts)
	b.always(r.typ)
	b.always(r.sd)
	b.always(r.mk)
	b.always(r.seq)
}

// flushMessages inserts a message's recipients, once each.
func flushMessages(w *Writer, keys []msgKey) error {
	slices.SortFunc(keys, func(a, b msgKey) int {
		if c := cmpInt(a.day, b.day); c != 0 {
			return c
		}
		if c := cmpInt(a.mk, b.mk); c != 0 {
			return c
		}
		return cmpInt(a.rcpt, b.rcpt)
	})
	keys = slices.Compact(keys)
	b := newRowBatch("INSERT OR IGNORE", "messages", []string{"day", "message_key", "recipient_id"}, "")
	for _, k := range keys {
		b.always(k.day)
		b.always(k.mk)
		b.always(k.rcpt)
		if err := b.end(w); err != nil {
			return err
		}
	}
	return b.flush(w)
}

func (t *txRows) flushCounts(w *Writer) error {
	err := upsertCounts(w, "daily_counts", []string{"day", "sending_domain_id", "recipient_domain_id", "type_id", "outcome"}, t.daily)
	if err == nil {
		err = upsertCounts(w, "hourly_counts", []string{"hour", "sending_domain_id", "type_id", "outcome"}, t.hourly)
	}
	if err == nil {
		err = upsertCounts(w, "split_counts", []string{"day", "sending_domain_id", "text_id", "type_id", "outcome"}, t.split)
	}
	return err
}

// upsertCounts adds a transaction's counts to a counts table, whose key
// columns are the key's cols, in key order: the order their upserts touch
// the table's pages in.
func upsertCounts[K countKey](w *Writer, table string, keyColumns []string, m map[K]int64) error {
	type counted struct {
		ints    [4]int64
		outcome outcome
		n       int64
	}
	rows := make([]counted, 0, len(m))
	for k, n := range m {
		ints, o := k.cols()
		rows = append(rows, counted{ints, o, n})
	}
	ints := len(keyColumns) - 1
	slices.SortFunc(rows, func(a, b counted) int {
		for i := range ints {
			if c := cmpInt(a.ints[i], b.ints[i]); c != 0 {
				return c
			}
		}
		return cmpInt(int64(a.outcome), int64(b.outcome))
	})
	b := newRowBatch("INSERT", table, append(keyColumns, "n"), "ON CONFLICT DO UPDATE SET n = n + excluded.n")
	for _, r := range rows {
		for _, v := range r.ints[:ints] {
			b.always(v)
		}
		b.text(string(outcomeNames[r.outcome]))
		b.always(r.n)
		if err := b.end(w); err != nil {
			return fmt.Errorf("store counts: %w", err)
		}
	}
	return b.flush(w)
}
