package index

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
)

// EventRow is one stored event.
type EventRow struct {
	Day, RecipientID, IDHash, TS int64
	Type                         string
	SendingDomainID              int64
	MessageKey                   int64
	Seq                          int64 // locates the raw JSON (RawEvents)
}

// EventsOf returns the events of some recipients on some days (nil: every
// day with events), in time order.
func (db *DB) EventsOf(ctx context.Context, recipients, days []int64) ([]EventRow, error) {
	if len(recipients) == 0 {
		return nil, nil
	}
	if days == nil {
		var err error
		if days, err = db.Days(ctx); err != nil {
			return nil, err
		}
	}
	dl, args := dayList(days)
	rl, rargs := dayList(recipients)
	rows, err := db.sql.QueryContext(ctx, `SELECT e.day, e.recipient_id, e.id_hash, e.ts, t.name, e.sending_domain_id, e.message_key, e.seq
		FROM events e JOIN event_types t ON t.id = e.type_id
		WHERE e.day IN `+dl+` AND e.recipient_id IN `+rl+` ORDER BY e.ts, e.seq`, append(args, rargs...)...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []EventRow
	for rows.Next() {
		var e EventRow
		if err := rows.Scan(&e.Day, &e.RecipientID, &e.IDHash, &e.TS, &e.Type, &e.SendingDomainID, &e.MessageKey, &e.Seq); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecipientsOfMessage returns the recipients a message-id was sent to.
func (db *DB) RecipientsOfMessage(ctx context.Context, messageKey int64) ([]int64, error) {
	days, err := db.Days(ctx)
	if err != nil {
		return nil, err
	}
	dl, args := dayList(days)
	rows, err := db.sql.QueryContext(ctx, `SELECT DISTINCT recipient_id FROM messages WHERE day IN `+dl+` AND message_key = ?`,
		append(args, messageKey)...)
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FailureRow is one failed or rejected event with its delivery details.
type FailureRow struct {
	Day, RecipientID, IDHash, TS int64
	Type                         string // failed | rejected
	SendingDomainID              int64
	MessageKey, Seq              int64
	EventID                      string
	Outcome                      maildiag.Outcome // temporary, permanent or suppressed; '' for rejected
	Severity, Reason             string
	Code                         int
	Enhanced                     string
	Class, Rule, Gateway         string
	Provider, MXHost             string
	Reply, Description           string
	Attempt, RetrySeconds        int
	BounceType                   string
	DelayedBounce                bool
	SendingIP, Subject, From     string
}

// Text is what the receiving server or Mailgun said about the failure: the
// SMTP reply, else Mailgun's description, else its reason when that is a
// sentence (a rejected message has only that) rather than a short code.
func (r *FailureRow) Text() string {
	switch {
	case r.Reply != "":
		return r.Reply
	case r.Description != "":
		return r.Description
	case strings.Contains(r.Reason, " "):
		return r.Reason
	}
	return ""
}

// FailureFilter selects failures. Empty fields select everything; text
// filters compare case-insensitively.
type FailureFilter struct {
	FromUS, ToUS     int64   // time range [FromUS, ToUS); 0: open
	RecipientDomains []int64 // only failures to these domains
	Recipients       []int64 // only failures to these recipients
	SendingDomains   []int64
	Codes            []int
	Enhanced         []string // exact codes, or prefixes ending in '.' (5.7.)
	Classes          []string
	Severities       []string
	Gateways         []string // gateway or Mailgun's recipient-provider
	FromContains     string
	SubjectContains  string
	// Light reads only what breakdowns group and filter by: the type,
	// domains, time, outcome, severity, reason, codes, class, gateway,
	// provider and the delayed flag. Scans that need more of a few rows read
	// them with FailureDetails.
	Light bool
}

// likeEscape makes a string a literal inside a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func inList[T any](vals []T) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return "(?" + strings.Repeat(", ?", len(vals)-1) + ")", args
}

// where renders the filter's conditions but the recipient ones.
func (f *FailureFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.FromUS != 0 {
		add("f.ts >= ?", f.FromUS)
	}
	if f.ToUS != 0 {
		add("f.ts < ?", f.ToUS)
	}
	if len(f.SendingDomains) > 0 {
		l, a := inList(f.SendingDomains)
		add("f.sending_domain_id IN "+l, a...)
	}
	if len(f.Codes) > 0 {
		l, a := inList(f.Codes)
		add("f.code IN "+l, a...)
	}
	if len(f.Enhanced) > 0 {
		var ors []string
		for _, e := range f.Enhanced {
			if strings.HasSuffix(e, ".") {
				ors = append(ors, `f.enhanced LIKE ? ESCAPE '\'`)
				args = append(args, likeEscape(e)+"%")
			} else {
				ors = append(ors, "f.enhanced = ?")
				args = append(args, e)
			}
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if len(f.Classes) > 0 {
		l, a := inList(f.Classes)
		add("f.class IN "+l, a...)
	}
	if len(f.Severities) > 0 {
		l, a := inList(f.Severities)
		add("f.severity IN "+l, a...)
	}
	if len(f.Gateways) > 0 {
		lower := make([]string, len(f.Gateways))
		for i, g := range f.Gateways {
			lower[i] = strings.ToLower(g)
		}
		l, a := inList(lower)
		l2, a2 := inList(lower)
		add("(lower(f.gateway) IN "+l+" OR lower(f.provider) IN "+l2+")", append(a, a2...)...)
	}
	if f.FromContains != "" {
		add(`x.from_addr LIKE ? ESCAPE '\'`, "%"+likeEscape(f.FromContains)+"%")
	}
	if f.SubjectContains != "" {
		add(`x.subject LIKE ? ESCAPE '\'`, "%"+likeEscape(f.SubjectContains)+"%")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

const failureSelect = `SELECT f.day, f.recipient_id, f.id_hash, f.ts, t.name, f.sending_domain_id, f.message_key, f.seq,
	f.event_id, f.outcome, COALESCE(f.severity, ''), COALESCE(f.reason, ''), COALESCE(f.code, 0), COALESCE(f.enhanced, ''),
	COALESCE(f.class, ''), COALESCE(f.rule, ''), COALESCE(f.gateway, ''), COALESCE(f.provider, ''), COALESCE(f.mx_host, ''),
	COALESCE(x.reply, ''), COALESCE(x.description, ''), COALESCE(f.attempt, 0), COALESCE(f.retry_seconds, 0),
	COALESCE(f.bounce_type, ''), f.delayed_bounce, COALESCE(f.sending_ip, ''), COALESCE(x.subject, ''), COALESCE(x.from_addr, '')
	FROM failures f JOIN event_types t ON t.id = f.type_id` + joinTexts

// joinTexts adds a failure's long texts.
const joinTexts = `
	LEFT JOIN failure_texts x ON x.day = f.day AND x.recipient_id = f.recipient_id AND x.id_hash = f.id_hash`

// failureSelectLight reads what breakdowns group and filter by: no long
// texts, no per-attempt details; FailureDetails reads the rest of a row.
const failureSelectLight = `SELECT f.day, f.recipient_id, f.id_hash, f.ts, f.type_id, f.sending_domain_id, f.message_key,
	f.outcome, COALESCE(f.severity, ''), COALESCE(f.reason, ''), COALESCE(f.code, 0), COALESCE(f.enhanced, ''),
	COALESCE(f.class, ''), COALESCE(f.gateway, ''), COALESCE(f.provider, ''), f.delayed_bounce
	FROM failures f`

// Failures calls fn with every failure the filter selects. Rows come day
// by day; within a day, by recipient.
func (db *DB) Failures(ctx context.Context, f FailureFilter, fn func(*FailureRow) error) error {
	days, err := db.Days(ctx)
	if err != nil {
		return err
	}
	days = slices.DeleteFunc(days, func(d int64) bool {
		return f.FromUS != 0 && d < f.FromUS/usPerDay || f.ToUS != 0 && d > (f.ToUS-1)/usPerDay
	})
	if len(days) == 0 {
		return nil
	}
	cond, cargs := f.where()
	sel := failureSelect
	if f.Light {
		sel = failureSelectLight
		if f.FromContains != "" || f.SubjectContains != "" {
			sel += joinTexts
		}
	}
	run := func(q string, args ...any) error {
		rows, err := db.sql.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("read failures: %w", err)
		}
		defer rows.Close()
		var r FailureRow
		var delayed sql.NullInt64
		var typ int64
		for rows.Next() {
			var err error
			if f.Light {
				err = rows.Scan(&r.Day, &r.RecipientID, &r.IDHash, &r.TS, &typ, &r.SendingDomainID, &r.MessageKey,
					&r.Outcome, &r.Severity, &r.Reason, &r.Code, &r.Enhanced, &r.Class, &r.Gateway, &r.Provider, &delayed)
				r.Type = "failed"
				if typ == typeRejected {
					r.Type = "rejected"
				}
			} else {
				err = rows.Scan(&r.Day, &r.RecipientID, &r.IDHash, &r.TS, &r.Type, &r.SendingDomainID, &r.MessageKey, &r.Seq,
					&r.EventID, &r.Outcome, &r.Severity, &r.Reason, &r.Code, &r.Enhanced, &r.Class, &r.Rule, &r.Gateway, &r.Provider, &r.MXHost,
					&r.Reply, &r.Description, &r.Attempt, &r.RetrySeconds, &r.BounceType, &delayed, &r.SendingIP, &r.Subject, &r.From)
			}
			if err != nil {
				return fmt.Errorf("read failures: %w", err)
			}
			r.DelayedBounce = delayed.Int64 != 0
			if err := fn(&r); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	dl, dargs := dayList(days)
	switch {
	case len(f.Recipients) > 0:
		rl, rargs := inList(f.Recipients)
		return run(sel+` WHERE f.day IN `+dl+` AND f.recipient_id IN `+rl+cond, append(append(dargs, rargs...), cargs...)...)
	case len(f.RecipientDomains) > 0:
		// One range of recipient ids per domain, sought on each day.
		for _, d := range f.RecipientDomains {
			lo, hi := RecipientRange(d)
			if err := run(sel+` WHERE f.day IN `+dl+` AND f.recipient_id BETWEEN ? AND ?`+cond,
				append(append(append([]any{}, dargs...), lo, hi), cargs...)...); err != nil {
				return err
			}
		}
		return nil
	}
	return run(sel+` WHERE f.day IN `+dl+cond, append(dargs, cargs...)...)
}

// Key is the failure's identity.
func (r *FailureRow) Key() FailureKey { return FailureKey{r.Day, r.RecipientID, r.IDHash} }

// FailureDetails reads some failures whole, by key.
func (db *DB) FailureDetails(ctx context.Context, keys []FailureKey) (map[FailureKey]*FailureRow, error) {
	out := make(map[FailureKey]*FailureRow, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	st, err := db.sql.PrepareContext(ctx, failureSelect+` WHERE f.day = ? AND f.recipient_id = ? AND f.id_hash = ?`)
	if err != nil {
		return nil, fmt.Errorf("read failures: %w", err)
	}
	defer st.Close()
	for _, k := range keys {
		if _, ok := out[k]; ok {
			continue
		}
		var r FailureRow
		var delayed sql.NullInt64
		err := st.QueryRowContext(ctx, k.Day, k.RecipientID, k.IDHash).Scan(&r.Day, &r.RecipientID, &r.IDHash, &r.TS, &r.Type,
			&r.SendingDomainID, &r.MessageKey, &r.Seq, &r.EventID, &r.Outcome, &r.Severity, &r.Reason, &r.Code, &r.Enhanced,
			&r.Class, &r.Rule, &r.Gateway, &r.Provider, &r.MXHost, &r.Reply, &r.Description, &r.Attempt, &r.RetrySeconds,
			&r.BounceType, &delayed, &r.SendingIP, &r.Subject, &r.From)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read failures: %w", err)
		}
		r.DelayedBounce = delayed.Int64 != 0
		out[k] = &r
	}
	return out, nil
}

// RawEvents returns the original JSON of events by seq.
func (db *DB) RawEvents(ctx context.Context, seqs []int64) (map[int64][]byte, error) {
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	out := make(map[int64][]byte, len(seqs))
	for len(seqs) > 0 {
		first, count, err := db.rawBlockOf(ctx, seqs[0], func(first, count int64, data []byte) error {
			// The seqs in this block, as record numbers.
			var want []int
			for _, s := range seqs {
				if s >= first+count {
					break
				}
				if s >= first {
					want = append(want, int(s-first))
				}
			}
			recs, err := blockRecords(data, want)
			if err != nil {
				return fmt.Errorf("read raw JSON: %w", err)
			}
			for i, r := range recs {
				out[first+int64(want[i])] = r
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		// Past this block (or past a seq no block holds).
		next := max(first+count, seqs[0]+1)
		for len(seqs) > 0 && seqs[0] < next {
			seqs = seqs[1:]
		}
	}
	return out, nil
}

// rawBlockOf calls fn with the block holding seq, its compressed data read
// straight from SQLite's memory; first is -1 when no block holds it.
func (db *DB) rawBlockOf(ctx context.Context, seq int64, fn func(first, count int64, data []byte) error) (first, count int64, err error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT first_seq, count, data FROM raw_blocks WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1`, seq)
	if err != nil {
		return -1, 0, fmt.Errorf("read raw JSON: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return -1, 0, rows.Err()
	}
	var data sql.RawBytes
	if err := rows.Scan(&first, &count, &data); err != nil {
		return -1, 0, fmt.Errorf("read raw JSON: %w", err)
	}
	return first, count, fn(first, count, data)
}

// Count is a number of events of one type and outcome on one day from one
// sending domain to one recipient domain.
type Count struct {
	Day, SendingDomainID, RecipientDomainID int64
	Type                                    string
	Outcome                                 maildiag.Outcome
	N                                       int64
}

// Count dimensions a CountQuery groups by; type and outcome always.
const (
	CountByDay = 1 << iota
	CountBySendingDomain
	CountByRecipientDomain
)

// CountQuery selects and groups the daily counts kept at ingest.
type CountQuery struct {
	FromDay, ToDay   int64 // inclusive
	SendingDomains   []int64
	RecipientDomains []int64
	Types            []string // empty: all
	By               int      // CountBy* flags; the others are summed over and left 0
}

// DailyCounts returns the counts kept at ingest, summed by the query's
// dimensions in SQL.
func (db *DB) DailyCounts(ctx context.Context, cq CountQuery) ([]Count, error) {
	col := func(flag int, name string) string {
		if cq.By&flag != 0 {
			return name
		}
		return "0"
	}
	dims := []string{col(CountByDay, "c.day"), col(CountBySendingDomain, "c.sending_domain_id"), col(CountByRecipientDomain, "c.recipient_domain_id")}
	q := `SELECT ` + strings.Join(dims, ", ") + `, t.name, c.outcome, SUM(c.n)
		FROM daily_counts c JOIN event_types t ON t.id = c.type_id WHERE c.day BETWEEN ? AND ?`
	args := []any{cq.FromDay, cq.ToDay}
	if len(cq.SendingDomains) > 0 {
		l, a := inList(cq.SendingDomains)
		q += " AND c.sending_domain_id IN " + l
		args = append(args, a...)
	}
	if len(cq.RecipientDomains) > 0 {
		l, a := inList(cq.RecipientDomains)
		q += " AND c.recipient_domain_id IN " + l
		args = append(args, a...)
	}
	if len(cq.Types) > 0 {
		l, a := inList(cq.Types)
		q += " AND t.name IN " + l
		args = append(args, a...)
	}
	q += " GROUP BY 1, 2, 3, c.type_id, c.outcome"
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Day, &c.SendingDomainID, &c.RecipientDomainID, &c.Type, &c.Outcome, &c.N); err != nil {
			return nil, fmt.Errorf("read counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// HourCount is a number of events of one type and outcome in one UTC hour
// from one sending domain.
type HourCount struct {
	Hour, SendingDomainID int64
	Type                  string
	Outcome               maildiag.Outcome
	N                     int64
}

// HourlyCounts returns the hourly counts for the hours [fromHour, toHour].
func (db *DB) HourlyCounts(ctx context.Context, fromHour, toHour int64, sendingDomains []int64) ([]HourCount, error) {
	q := `SELECT c.hour, c.sending_domain_id, t.name, c.outcome, c.n
		FROM hourly_counts c JOIN event_types t ON t.id = c.type_id WHERE c.hour BETWEEN ? AND ?`
	args := []any{fromHour, toHour}
	if len(sendingDomains) > 0 {
		l, a := inList(sendingDomains)
		q += " AND c.sending_domain_id IN " + l
		args = append(args, a...)
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	defer rows.Close()
	var out []HourCount
	for rows.Next() {
		var c HourCount
		if err := rows.Scan(&c.Hour, &c.SendingDomainID, &c.Type, &c.Outcome, &c.N); err != nil {
			return nil, fmt.Errorf("read counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DelayCount is a number of deliveries on one day, from one sending domain
// through one gateway, whose accepted-to-delivered delay fell in the
// bucket ending at LeMS milliseconds (see DelayBuckets).
type DelayCount struct {
	Day, SendingDomainID int64
	Gateway              string
	LeMS, N              int64
}

// DelayCounts returns the delay buckets for the days [fromDay, toDay].
func (db *DB) DelayCounts(ctx context.Context, fromDay, toDay int64, sendingDomains []int64) ([]DelayCount, error) {
	q := `SELECT day, sending_domain_id, gateway, le_ms, n FROM delay_counts WHERE day BETWEEN ? AND ?`
	args := []any{fromDay, toDay}
	if len(sendingDomains) > 0 {
		l, a := inList(sendingDomains)
		q += " AND sending_domain_id IN " + l
		args = append(args, a...)
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read delays: %w", err)
	}
	defer rows.Close()
	var out []DelayCount
	for rows.Next() {
		var c DelayCount
		if err := rows.Scan(&c.Day, &c.SendingDomainID, &c.Gateway, &c.LeMS, &c.N); err != nil {
			return nil, fmt.Errorf("read delays: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PendingDelivery is a message accepted for a recipient with no final event
// in the index.
type PendingDelivery struct {
	MessageKey, RecipientID, AcceptedUS, SendingDomainID int64
}

// Pending returns the deliveries accepted in [fromUS, toUS) that have no
// final event, oldest first. The pending table can hold a delivery whose
// final event was stored before its accepted one (files imported newest
// first): those are checked against the events and left out.
func (db *DB) Pending(ctx context.Context, fromUS, toUS int64, limit int) ([]PendingDelivery, int, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT message_key, recipient_id, accepted_at, sending_domain_id FROM pending
		WHERE accepted_at >= ? AND accepted_at < ? ORDER BY accepted_at`, fromUS, toUS)
	if err != nil {
		return nil, 0, fmt.Errorf("read pending: %w", err)
	}
	var cands []PendingDelivery
	for rows.Next() {
		var p PendingDelivery
		if err := rows.Scan(&p.MessageKey, &p.RecipientID, &p.AcceptedUS, &p.SendingDomainID); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("read pending: %w", err)
		}
		cands = append(cands, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read pending: %w", err)
	}
	var out []PendingDelivery
	total := 0
	for _, p := range cands {
		var n int64
		d := p.AcceptedUS / usPerDay
		if err := db.sql.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM events WHERE day IN (?1, ?1 + 1, ?1 + 2) AND recipient_id = ?2 AND message_key = ?3 AND type_id = ?4)
			OR EXISTS (SELECT 1 FROM failures WHERE day IN (?1, ?1 + 1, ?1 + 2) AND recipient_id = ?2 AND message_key = ?3
				AND outcome IN ('permanent', 'suppressed'))`,
			d, p.RecipientID, p.MessageKey, typeDelivered).Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("read pending: %w", err)
		}
		if n > 0 {
			continue
		}
		total++
		if limit <= 0 || len(out) < limit {
			out = append(out, p)
		}
	}
	return out, total, nil
}

// DomainHourCounts counts the events to some recipient domains in [fromUS,
// toUS) by hour, type and outcome, reading the events themselves: the
// hourly counts kept at ingest have no recipient domain.
func (db *DB) DomainHourCounts(ctx context.Context, recipientDomains []int64, fromUS, toUS int64) ([]HourCount, error) {
	var days []int64
	for d := fromUS / usPerDay; d <= (toUS-1)/usPerDay; d++ {
		days = append(days, d)
	}
	dl, dargs := dayList(days)
	type key struct {
		hour, sd     int64
		typ, outcome string
	}
	acc := map[key]int64{}
	for _, rd := range recipientDomains {
		lo, hi := RecipientRange(rd)
		rows, err := db.sql.QueryContext(ctx, `SELECT e.ts / 3600000000, e.sending_domain_id, t.name,
				COALESCE((SELECT f.outcome FROM failures f WHERE f.day = e.day AND f.recipient_id = e.recipient_id AND f.id_hash = e.id_hash), ''),
				COUNT(*)
			FROM events e JOIN event_types t ON t.id = e.type_id
			WHERE e.day IN `+dl+` AND e.recipient_id BETWEEN ? AND ? AND e.ts >= ? AND e.ts < ?
			GROUP BY 1, 2, 3, 4`, append(append([]any{}, dargs...), lo, hi, fromUS, toUS)...)
		if err != nil {
			return nil, fmt.Errorf("count events: %w", err)
		}
		for rows.Next() {
			var k key
			var n int64
			if err := rows.Scan(&k.hour, &k.sd, &k.typ, &k.outcome, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count events: %w", err)
			}
			acc[k] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count events: %w", err)
		}
	}
	out := make([]HourCount, 0, len(acc))
	for k, n := range acc {
		out = append(out, HourCount{Hour: k.hour, SendingDomainID: k.sd, Type: k.typ, Outcome: maildiag.Outcome(k.outcome), N: n})
	}
	return out, nil
}

// EventsByID returns the events with a Mailgun event id, newest first. The
// index keys events by a hash of type and id, so each type's hash is
// looked for: it scans the events, for commands as rare as resend.
func (db *DB) EventsByID(ctx context.Context, id string) ([]EventRow, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT e.day, e.recipient_id, e.id_hash, e.ts, t.name, e.sending_domain_id, e.message_key, e.seq
		FROM events e JOIN event_types t ON t.id = e.type_id
		WHERE e.id_hash IN (SELECT event_hash(name, ?) FROM event_types) ORDER BY e.ts DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("find event %s: %w", id, err)
	}
	defer rows.Close()
	var out []EventRow
	for rows.Next() {
		var e EventRow
		if err := rows.Scan(&e.Day, &e.RecipientID, &e.IDHash, &e.TS, &e.Type, &e.SendingDomainID, &e.MessageKey, &e.Seq); err != nil {
			return nil, fmt.Errorf("find event %s: %w", id, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
