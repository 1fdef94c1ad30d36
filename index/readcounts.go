package index

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// dayRange is the UTC days [from, until) touches, as inclusive day numbers;
// open ends reach every day.
func dayRange(from, until time.Time) (first, last int64) {
	first, last = math.MinInt32, math.MaxInt32
	if !from.IsZero() {
		first = dayOf(from.UnixMicro())
	}
	if !until.IsZero() {
		last = dayOf(until.UnixMicro() - 1)
	}
	return first, last
}

func dayTime(day int64) time.Time { return time.UnixMicro(day * usPerDay).UTC() }

// countNames reads the names a count query's rows need: the sending
// domains', and the recipient domains' when it groups by them.
func (db *DB) countNames(ctx context.Context, byRecipientDomain bool) (map[int64]string, error) {
	if byRecipientDomain {
		return db.domainNames(ctx)
	}
	sds, err := db.sendingDomainIDs(ctx)
	if err != nil {
		return nil, err
	}
	return db.domainNames(ctx, append(sds, 0)...)
}

// Counts sums the daily counts kept at ingest by the query's dimensions,
// type and outcome, in SQL.
func (db *DB) Counts(ctx context.Context, cq analyze.CountQuery) ([]analyze.Count, error) {
	col := func(flag int, name string) string {
		if cq.By&flag != 0 {
			return name
		}
		return "0"
	}
	dims := []string{col(analyze.CountByDay, "c.day * 86400000000"), col(analyze.CountBySendingDomain, "c.sending_domain_id"),
		col(analyze.CountByRecipientDomain, "c.recipient_domain_id")}
	first, last := dayRange(cq.From, cq.Until)
	q := `SELECT ` + strings.Join(dims, ", ") + `, t.name, c.outcome, SUM(c.n)
		FROM daily_counts c JOIN event_types t ON t.id = c.type_id WHERE c.day BETWEEN ? AND ?`
	args := []any{first, last}
	for _, f := range []struct {
		col   string
		names []string
	}{{"c.sending_domain_id", cq.SendingDomains}, {"c.recipient_domain_id", cq.RecipientDomains}} {
		ids, err := db.domainIDs(ctx, f.names)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			l, a := inList(ids)
			q += " AND " + f.col + " IN " + l
			args = append(args, a...)
		}
	}
	if len(cq.Types) > 0 {
		l, a := inList(cq.Types)
		q += " AND t.name IN " + l
		args = append(args, a...)
	}
	names, err := db.countNames(ctx, cq.By&analyze.CountByRecipientDomain != 0)
	if err != nil {
		return nil, err
	}
	rows, err := queryAll(ctx, db, "read counts", q+" GROUP BY 1, 2, 3, c.type_id, c.outcome", args, countDest)
	out := make([]analyze.Count, len(rows))
	for i, r := range rows {
		out[i] = r.count(names)
		if cq.By&analyze.CountByDay == 0 {
			out[i].Time = time.Time{}
		}
	}
	return out, err
}

// countRow is a counts row: the start of its day or hour in microseconds,
// the domains' ids, type and outcome.
type countRow struct {
	us, sd, rd int64
	typ        string
	outcome    maildiag.Outcome
	n          int64
}

func countDest(r *countRow) []any { return []any{&r.us, &r.sd, &r.rd, &r.typ, &r.outcome, &r.n} }

func (r *countRow) count(names map[int64]string) analyze.Count {
	return analyze.Count{Time: time.UnixMicro(r.us).UTC(), SendingDomain: names[r.sd], RecipientDomain: names[r.rd],
		Type: r.typ, Outcome: r.outcome, N: r.n}
}

// HourlyCounts returns the hourly counts kept at ingest for the hours of
// [from, until).
func (db *DB) HourlyCounts(ctx context.Context, from, until time.Time, sendingDomains []string) ([]analyze.Count, error) {
	q := `SELECT c.hour * 3600000000, c.sending_domain_id, 0, t.name, c.outcome, c.n
		FROM hourly_counts c JOIN event_types t ON t.id = c.type_id WHERE c.hour BETWEEN ? AND ?`
	args := []any{floorDiv(from.UnixMicro(), usPerHour), floorDiv(until.UnixMicro()-1, usPerHour)}
	sds, err := db.domainIDs(ctx, sendingDomains)
	if err != nil {
		return nil, err
	}
	if len(sds) > 0 {
		l, a := inList(sds)
		q += " AND c.sending_domain_id IN " + l
		args = append(args, a...)
	}
	names, err := db.countNames(ctx, false)
	if err != nil {
		return nil, err
	}
	rows, err := queryAll(ctx, db, "read counts", q, args, countDest)
	out := make([]analyze.Count, len(rows))
	for i, r := range rows {
		out[i] = r.count(names)
	}
	return out, err
}

// DomainHourCounts counts the events to some recipient domains in [from,
// until) by hour, sending domain, type and outcome, reading the events
// themselves: the hourly counts kept at ingest have no recipient domain.
func (db *DB) DomainHourCounts(ctx context.Context, recipientDomains []string, from, until time.Time) ([]analyze.Count, error) {
	rds, err := db.domainIDs(ctx, recipientDomains)
	if err != nil || len(rds) == 0 {
		return nil, err
	}
	names, err := db.countNames(ctx, false)
	if err != nil {
		return nil, err
	}
	fromUS, untilUS := from.UnixMicro(), until.UnixMicro()
	var days []int64
	for d := dayOf(fromUS); d <= dayOf(untilUS-1); d++ {
		days = append(days, d)
	}
	dl, dargs := dayList(days)
	var out []analyze.Count
	for _, rd := range rds {
		lo, hi := RecipientRange(rd)
		rows, err := queryAll(ctx, db, "count events", `SELECT e.ts / 3600000000 * 3600000000, e.sending_domain_id, 0, t.name,
				COALESCE((SELECT f.outcome FROM failures f WHERE f.day = e.day AND f.recipient_id = e.recipient_id AND f.id_hash = e.id_hash), ''),
				COUNT(*)
			FROM events e JOIN event_types t ON t.id = e.type_id
			WHERE e.day IN `+dl+` AND e.recipient_id BETWEEN ? AND ? AND e.ts >= ? AND e.ts < ?
			GROUP BY 1, 2, 4, 5`, append(append([]any{}, dargs...), lo, hi, fromUS, untilUS), countDest)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, r.count(names))
		}
	}
	return out, nil
}

// Delays returns the delay buckets of the UTC days [from, until).
func (db *DB) Delays(ctx context.Context, from, until time.Time, sendingDomains []string) ([]analyze.DelayCount, error) {
	first, last := dayRange(from, until)
	q := `SELECT day, sending_domain_id, gateway, le_ms, n FROM delay_counts WHERE day BETWEEN ? AND ?`
	args := []any{first, last}
	sds, err := db.domainIDs(ctx, sendingDomains)
	if err != nil {
		return nil, err
	}
	if len(sds) > 0 {
		l, a := inList(sds)
		q += " AND sending_domain_id IN " + l
		args = append(args, a...)
	}
	names, err := db.countNames(ctx, false)
	if err != nil {
		return nil, err
	}
	type row struct {
		day, sd int64
		gateway string
		le, n   int64
	}
	rows, err := queryAll(ctx, db, "read delays", q, args, func(r *row) []any { return []any{&r.day, &r.sd, &r.gateway, &r.le, &r.n} })
	out := make([]analyze.DelayCount, len(rows))
	for i, r := range rows {
		out[i] = analyze.DelayCount{Day: dayTime(r.day), SendingDomain: names[r.sd], Gateway: r.gateway, Le: time.Duration(math.MaxInt64), N: r.n}
		if r.le < math.MaxInt64/int64(time.Millisecond) {
			out[i].Le = time.Duration(r.le) * time.Millisecond
		}
	}
	return out, err
}

// Pending returns the deliveries accepted in [from, until) that have no
// final event, oldest first. The pending table can hold a delivery whose
// final event was stored before its accepted one (files imported newest
// first): those are checked against the events and left out.
func (db *DB) Pending(ctx context.Context, from, until time.Time, limit int) ([]analyze.Pending, int, error) {
	type cand struct{ mk, rcpt, at, sd int64 }
	cands, err := queryAll(ctx, db, "read pending", `SELECT message_key, recipient_id, accepted_at, sending_domain_id FROM pending
		WHERE accepted_at >= ? AND accepted_at < ? ORDER BY accepted_at`, []any{from.UnixMicro(), until.UnixMicro()},
		func(c *cand) []any { return []any{&c.mk, &c.rcpt, &c.at, &c.sd} })
	if err != nil {
		return nil, 0, err
	}
	names, err := db.domainNames(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []analyze.Pending
	total := 0
	for _, c := range cands {
		var n int64
		if err := db.sql.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM events WHERE day IN (?1, ?1 + 1, ?1 + 2) AND recipient_id = ?2 AND message_key = ?3 AND type_id = ?4)
			OR EXISTS (SELECT 1 FROM failures WHERE day IN (?1, ?1 + 1, ?1 + 2) AND recipient_id = ?2 AND message_key = ?3
				AND outcome IN ('permanent', 'suppressed'))`,
			dayOf(c.at), c.rcpt, c.mk, typeDelivered).Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("read pending: %w", err)
		}
		if n > 0 {
			continue
		}
		total++
		if limit <= 0 || len(out) < limit {
			out = append(out, analyze.Pending{Recipient: analyze.RecipientID(c.rcpt), RecipientDomain: names[c.rcpt>>domainShift],
				SendingDomain: names[c.sd], Accepted: time.UnixMicro(c.at).UTC()})
		}
	}
	return out, total, nil
}
