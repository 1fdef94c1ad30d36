package pg

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/inorder"
)

// failureWhere renders a filter's conditions but the recipient ones; sds
// are its sending domains' ids.
func failureWhere(f *analyze.FailureFilter, sds []int64, a *args) string {
	var conds []string
	if !f.From.IsZero() {
		conds = append(conds, "f.ts >= "+a.add(f.From.UnixMicro()))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "f.ts < "+a.add(f.Until.UnixMicro()))
	}
	if sds != nil {
		conds = append(conds, "f.sending_domain_id = ANY("+a.add(sds)+")")
	}
	if len(f.Codes) > 0 {
		codes := make([]int32, len(f.Codes))
		for i, c := range f.Codes {
			codes[i] = int32(c)
		}
		conds = append(conds, "f.code = ANY("+a.add(codes)+")")
	}
	if len(f.Enhanced) > 0 {
		var ors []string
		for _, e := range f.Enhanced {
			if strings.HasSuffix(e, ".") {
				ors = append(ors, `f.enhanced LIKE `+a.add(likeEscape(e)+"%")+` ESCAPE '\'`)
			} else {
				ors = append(ors, "f.enhanced = "+a.add(e))
			}
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if len(f.Classes) > 0 {
		conds = append(conds, "f.class = ANY("+a.add(f.Classes)+")")
	}
	if len(f.Severities) > 0 {
		conds = append(conds, "f.severity = ANY("+a.add(f.Severities)+")")
	}
	if f.SuppressionCauses {
		conds = append(conds, "(f.reason = ANY("+a.add(append(analyze.SuppressionDropReasons(), maildiag.ReasonBounce))+") OR f.severity = "+
			a.add(maildiag.SeverityPermanent)+" AND NOT COALESCE(f.delayed_bounce, false))")
	}
	if len(f.Gateways) > 0 {
		lower := make([]string, len(f.Gateways))
		for i, g := range f.Gateways {
			lower[i] = strings.ToLower(g)
		}
		l := a.add(lower)
		conds = append(conds, "(lower(f.gateway) = ANY("+l+") OR lower(f.provider) = ANY("+l+"))")
	}
	if f.FromContains != "" {
		conds = append(conds, `f.from_addr ILIKE `+a.add("%"+likeEscape(f.FromContains)+"%")+` ESCAPE '\'`)
	}
	if f.SubjectContains != "" {
		conds = append(conds, `f.subject ILIKE `+a.add("%"+likeEscape(f.SubjectContains)+"%")+` ESCAPE '\'`)
	}
	if len(conds) == 0 {
		return ""
	}
	return " AND " + strings.Join(conds, " AND ")
}

// failureLight are the columns breakdowns group and filter by.
const failureLight = `SELECT f.day, f.recipient_id, f.seq, f.ts, f.type_id, COALESCE(sdn.name, ''), f.message_key,
	COALESCE(rdn.name, ''), f.outcome, COALESCE(f.severity, ''), COALESCE(f.reason, ''), COALESCE(f.code, 0),
	COALESCE(f.enhanced, ''), COALESCE(f.class, ''), COALESCE(f.gateway, ''), COALESCE(f.provider, ''), f.delayed_bounce,
	COALESCE(f.sending_ip, ''), COALESCE(f.mx_host, ''), f.tags`

// failureWhole adds the others: a failure read whole.
const failureWhole = failureLight + `, f.event_id, COALESCE(f.rule, ''), COALESCE(f.attempt, 0), COALESCE(f.retry_seconds, 0),
	COALESCE(f.bounce_type, ''), COALESCE(f.reply, ''), COALESCE(f.description, ''), COALESCE(f.subject, ''), COALESCE(f.from_addr, '')`

// failureNames joins the domains' names: reading every domain's name for a
// few failures took longer than the failures (30k domains on 10M events).
const failureNames = ` LEFT JOIN domains sdn ON sdn.id = f.sending_domain_id
	LEFT JOIN domains rdn ON rdn.id = f.recipient_domain_id AND f.recipient_id <> 0`

const failureFrom = ` FROM failures f` + failureNames

// failureScan turns failures rows into analyze.Failures.
type failureScan struct {
	day       int32
	typ       int16
	sd, rd    string
	mk, ts    int64
	code      int32
	attempt   int32
	retry     int32
	delayed   *bool
	f         analyze.Failure
	outcome   string
	recipient int64
	tags      *string
	sets      tagSets
}

func (s *failureScan) light() []any {
	f := &s.f
	return []any{&s.day, &s.recipient, &f.Ref[2], &s.ts, &s.typ, &s.sd, &s.mk, &s.rd, &s.outcome, &f.Severity, &f.Reason,
		&s.code, &f.Enhanced, &f.Class, &f.Gateway, &f.Provider, &s.delayed, &f.SendingIP, &f.MXHost, &s.tags}
}

func (s *failureScan) whole() []any {
	f := &s.f
	return append(s.light(), &f.EventID, &f.Rule, &s.attempt, &s.retry, &f.BounceType, &f.Reply, &f.Description, &f.Subject, &f.From)
}

// done completes the failure just scanned.
func (s *failureScan) done() *analyze.Failure {
	f := &s.f
	f.Ref[0], f.Ref[1] = int64(s.day), s.recipient
	f.Recipient, f.Message = analyze.RecipientID(s.recipient), analyze.MessageRef(s.mk)
	f.Time = time.UnixMicro(s.ts).UTC()
	f.Type = maildiag.Failed
	if s.typ == typeRejected {
		f.Type = maildiag.Rejected
	}
	f.Outcome = maildiag.Outcome(s.outcome)
	f.SendingDomain, f.RecipientDomain = s.sd, s.rd
	f.Code, f.Attempt, f.RetrySeconds = int(s.code), int(s.attempt), int(s.retry)
	f.DelayedBounce = s.delayed != nil && *s.delayed
	if s.sets == nil {
		s.sets = tagSets{}
	}
	f.Tags = s.sets.of(s.tags)
	return f
}

const (
	typeAccepted  = 1
	typeRejected  = 2
	typeDelivered = 3
	typeFailed    = 4
)

// Failures calls fn with every failure the filter selects, with what
// breakdowns group and filter by: not its texts, rule, event id or
// per-attempt details (FailureDetails reads those).
func (db *DB) Failures(ctx context.Context, f analyze.FailureFilter, fn func(*analyze.Failure) error) error {
	sds, err := db.domainIDs(ctx, f.SendingDomains)
	if err != nil {
		return err
	}
	rds, err := db.domainIDs(ctx, f.RecipientDomains)
	if err != nil {
		return err
	}
	sc := &failureScan{}
	var a args
	first, last := dayRange(f.From, f.Until)
	q := failureLight + failureFrom + ` WHERE f.day BETWEEN ` + a.add(first) + ` AND ` + a.add(last)
	if len(f.Recipients) > 0 {
		ids := make([]int64, len(f.Recipients))
		for i, r := range f.Recipients {
			ids[i] = int64(r)
		}
		q += ` AND f.recipient_id = ANY(` + a.add(ids) + `)`
	}
	if rds != nil {
		q += ` AND f.recipient_domain_id = ANY(` + a.add(rds) + `) AND f.recipient_id <> 0`
	}
	q += failureWhere(&f, sds, &a)
	// Rows are decoded on a goroutine of their own while fn works on the
	// ones before: each took about half of the client's time.
	return inorder.Read(ctx, 1, 1, func(ctx context.Context, _ int, emit func(*analyze.Failure) error) error {
		return scanFailures(ctx, db, sc, q, a, emit)
	}, fn)
}

// scanFailures runs a failures query of failureLight's columns and calls fn
// with each failure.
func scanFailures(ctx context.Context, db *DB, sc *failureScan, q string, a args, fn func(*analyze.Failure) error) error {
	rows, err := db.pool.Query(ctx, q, a...)
	if err != nil {
		return fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	dest := sc.light()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read failures: %w", err)
		}
		if err := fn(sc.done()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read failures: %w", err)
	}
	return nil
}

// FailureDetails reads some failures whole.
func (db *DB) FailureDetails(ctx context.Context, refs []analyze.Ref) (map[analyze.Ref]*analyze.Failure, error) {
	out := make(map[analyze.Ref]*analyze.Failure, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	sc := &failureScan{}
	days, rcpts, seqs := make([]int32, len(refs)), make([]int64, len(refs)), make([]int64, len(refs))
	for i, r := range refs {
		days[i], rcpts[i], seqs[i] = int32(r[0]), r[1], r[2]
	}
	rows, err := db.pool.Query(ctx, failureWhole+` FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) k(d, r, s)
		JOIN failures f ON f.day = k.d AND f.recipient_id = k.r AND f.seq = k.s`+failureNames, days, rcpts, seqs)
	if err != nil {
		return nil, fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	dest := sc.whole()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read failures: %w", err)
		}
		f := *sc.done()
		out[f.Ref] = &f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read failures: %w", err)
	}
	return out, nil
}

// DeliveredMessages tells which of some messages were delivered to their
// recipient within two days of the day given (Mailgun retries for hours).
func (db *DB) DeliveredMessages(ctx context.Context, ms []analyze.MessageDay) (map[analyze.MessageDay]bool, error) {
	out := make(map[analyze.MessageDay]bool, len(ms))
	mks, rcpts, days := make([]int64, len(ms)), make([]int64, len(ms)), make([]int64, len(ms))
	for i, m := range ms {
		mks[i], rcpts[i], days[i] = int64(m.Message), int64(m.Recipient), m.Day
		out[m] = false
	}
	idx, err := collect(ctx, db, "read deliveries", `SELECT m.i FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY m(mk, rc, d, i)
		WHERE EXISTS (SELECT 1 FROM events e WHERE e.recipient_id = m.rc AND e.ts >= m.d * 86400000000 AND e.ts < (m.d + 3) * 86400000000
			AND e.day BETWEEN m.d AND m.d + 2 AND e.type_id = 3 AND e.message_id IS NOT NULL AND hashtextextended(e.message_id, 0) = m.mk)`,
		[]any{mks, rcpts, days}, func(i *int64) []any { return []any{i} })
	if err != nil {
		return nil, err
	}
	for _, i := range idx {
		out[ms[i-1]] = true
	}
	return out, nil
}

// delayLookback is how long before the period a delivery's accepted event
// is looked for (as the SQLite index: Mailgun retries for 8 hours).
const delayLookback = 24 * time.Hour

// DeliveryDelays are the accepted-to-delivered times of each delivery in
// [from, until) to the recipient domains named, from the events
// themselves.
func (db *DB) DeliveryDelays(ctx context.Context, recipientDomains []string, from, until time.Time, sendingDomains []string) ([]analyze.DeliveryDelay, error) {
	if len(recipientDomains) == 0 {
		return nil, nil
	}
	ids, doms, err := db.domainsWhere(ctx, `name = ANY($1) ORDER BY name COLLATE "C"`, recipientDomains)
	if err != nil {
		return nil, err
	}
	sds, err := db.domainIDs(ctx, sendingDomains)
	if err != nil {
		return nil, err
	}
	first, last := dayRange(from.Add(-delayLookback), until)
	fromUS, untilUS := from.UnixMicro(), until.UnixMicro()
	type row struct {
		rcpt, mk, ts int64
		typ          int16
		sd           int32
	}
	var out []analyze.DeliveryDelay
	for i, did := range ids {
		rows, err := collect(ctx, db, "read deliveries", `SELECT e.recipient_id, hashtextextended(e.message_id, 0), e.ts, e.type_id, e.sending_domain_id
			FROM recipients r JOIN events e ON e.recipient_id = r.id
			WHERE r.domain_id = $1 AND e.day BETWEEN $2 AND $3 AND e.type_id IN (1, 3) AND e.message_id IS NOT NULL
			ORDER BY e.day, e.ts, e.seq`,
			[]any{did, first, last}, func(r *row) []any { return []any{&r.rcpt, &r.mk, &r.ts, &r.typ, &r.sd} })
		if err != nil {
			return nil, err
		}
		steps := make([]analyze.DeliveryStep, 0, len(rows))
		for _, r := range rows {
			if sds == nil || slices.Contains(sds, int64(r.sd)) {
				steps = append(steps, analyze.DeliveryStep{Recipient: analyze.RecipientID(r.rcpt), MessageKey: r.mk, TimeUS: r.ts, Delivered: r.typ == typeDelivered})
			}
		}
		for _, d := range analyze.DelaysOf(steps, fromUS, untilUS) {
			out = append(out, analyze.DeliveryDelay{RecipientDomain: doms[i].Name, Delay: d})
		}
	}
	return out, ctx.Err()
}
