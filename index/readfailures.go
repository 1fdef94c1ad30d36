package index

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/internal/inorder"
)

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

// failureWhere renders a filter's conditions but the recipient ones; sds
// are its sending domains' ids.
func failureWhere(f *analyze.FailureFilter, sds []int64) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if !f.From.IsZero() {
		add("f.ts >= ?", f.From.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("f.ts < ?", f.Until.UnixMicro())
	}
	if len(sds) > 0 {
		l, a := inList(sds)
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
	if f.SuppressionCauses {
		l, a := inList(append(analyze.SuppressionDropReasons(), maildiag.ReasonBounce))
		add("(f.reason IN "+l+" OR f.severity = ? AND COALESCE(f.delayed_bounce, 0) = 0)", append(a, maildiag.SeverityPermanent)...)
	}
	if len(f.Gateways) > 0 {
		lower := make([]string, len(f.Gateways))
		for i, g := range f.Gateways {
			lower[i] = strings.ToLower(g)
		}
		l, a := inList(lower)
		add("(lower(f.gateway) IN "+l+" OR lower(f.provider) IN "+l+")", append(a, a...)...)
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

// failureCols are the columns of a failure read whole.
const failureCols = `SELECT f.day, f.recipient_id, f.id_hash, f.ts, f.type_id, f.sending_domain_id, f.message_key,
	f.outcome, COALESCE(f.severity, ''), COALESCE(f.reason, ''), COALESCE(f.code, 0), COALESCE(f.enhanced, ''),
	COALESCE(f.class, ''), COALESCE(f.gateway, ''), COALESCE(f.provider, ''), f.delayed_bounce,
	COALESCE(f.sending_ip, ''), COALESCE(f.mx_host, ''), COALESCE(f.tags_id, 0),
	f.event_id, COALESCE(f.rule, ''), COALESCE(f.attempt, 0), COALESCE(f.retry_seconds, 0),
	COALESCE(f.bounce_type, ''),
	COALESCE(x.reply, ''), COALESCE(x.description, ''), COALESCE(x.subject, ''), COALESCE(x.from_addr, '')`

// joinTexts adds a failure's long texts.
const joinTexts = `
	LEFT JOIN failure_texts x ON x.day = f.day AND x.recipient_id = f.recipient_id AND x.id_hash = f.id_hash`

// failureSelectLight reads what breakdowns group and filter by, the first
// 19 columns of failureCols: a scan of a third of the bytes.
const failureSelectLight = `SELECT f.day, f.recipient_id, f.id_hash, f.ts, f.type_id, f.sending_domain_id, f.message_key,
	f.outcome, COALESCE(f.severity, ''), COALESCE(f.reason, ''), COALESCE(f.code, 0), COALESCE(f.enhanced, ''),
	COALESCE(f.class, ''), COALESCE(f.gateway, ''), COALESCE(f.provider, ''), f.delayed_bounce,
	COALESCE(f.sending_ip, ''), COALESCE(f.mx_host, ''), COALESCE(f.tags_id, 0)
	FROM failures f`

// failureScan turns failures rows into analyze.Failures.
type failureScan struct {
	names       map[int64]string                 // domain names by id
	tags        func(id int64) ([]string, error) // a tag set by texts id (DB.tagSet)
	err         error                            // of tags
	tagsID      int64
	ref         analyze.Ref
	ts          int64
	typ, sd, mk int64
	delayed     sql.NullInt64
	f           analyze.Failure
}

// light are the scan targets of failureSelectLight.
func (s *failureScan) light() []any {
	f := &s.f
	return []any{&s.ref[0], &s.ref[1], &s.ref[2], &s.ts, &s.typ, &s.sd, &s.mk,
		&f.Outcome, &f.Severity, &f.Reason, &f.Code, &f.Enhanced, &f.Class, &f.Gateway, &f.Provider, &s.delayed,
		&f.SendingIP, &f.MXHost, &s.tagsID}
}

// whole are the scan targets of failureCols.
func (s *failureScan) whole() []any {
	f := &s.f
	return append(s.light(), &f.EventID, &f.Rule, &f.Attempt, &f.RetrySeconds, &f.BounceType,
		&f.Reply, &f.Description, &f.Subject, &f.From)
}

// done completes the failure just scanned.
func (s *failureScan) done() *analyze.Failure {
	f := &s.f
	f.Ref, f.Recipient, f.Message = s.ref, analyze.RecipientID(s.ref[1]), analyze.MessageRef(s.mk)
	f.Time = time.UnixMicro(s.ts).UTC()
	f.Type = maildiag.Failed
	if s.typ == typeRejected {
		f.Type = maildiag.Rejected
	}
	f.SendingDomain = s.names[s.sd]
	f.RecipientDomain = ""
	if s.ref[1] != 0 {
		f.RecipientDomain = s.names[s.ref[1]>>domainShift]
	}
	f.DelayedBounce = s.delayed.Int64 != 0
	var err error
	if f.Tags, err = s.tags(s.tagsID); err != nil && s.err == nil {
		s.err = err
	}
	return f
}

// Failures calls fn with every failure the filter selects, with what
// breakdowns group and filter by: not its texts, rule, MX host, event id
// or per-attempt details (FailureDetails reads those). Rows come day by
// day; within a day, by recipient.
func (db *DB) Failures(ctx context.Context, f analyze.FailureFilter, fn func(*analyze.Failure) error) error {
	days, err := db.Days(ctx)
	if err != nil {
		return err
	}
	// Days may be the read-only DB's own list: filter a copy.
	days = slices.DeleteFunc(slices.Clone(days), func(d int64) bool {
		return !f.From.IsZero() && d < dayOf(f.From.UnixMicro()) || !f.Until.IsZero() && d > dayOf(f.Until.UnixMicro()-1)
	})
	if len(days) == 0 {
		return nil
	}
	sds, err := db.domainIDs(ctx, f.SendingDomains)
	if err != nil {
		return err
	}
	rds, err := db.domainIDs(ctx, f.RecipientDomains)
	if err != nil {
		return err
	}
	// Names of every domain, unless the filter names the recipients' ones.
	sc := &failureScan{}
	if len(rds) == 0 && len(f.Recipients) == 0 {
		sc.names, err = db.domainNames(ctx)
	} else {
		need := slices.Clone(rds)
		for _, r := range f.Recipients {
			need = append(need, int64(r)>>domainShift)
		}
		sc.names, err = db.namesWithSending(ctx, need)
	}
	if err != nil {
		return err
	}
	sc.tags = func(id int64) ([]string, error) { return db.tagSet(ctx, id) }
	cond, cargs := failureWhere(&f, sds)
	sel := failureSelectLight
	if f.FromContains != "" || f.SubjectContains != "" {
		sel += joinTexts
	}
	run := func(q string, args ...any) error { return db.scanFailures(ctx, sc, q, args, fn) }
	dl, dargs := dayList(days)
	switch {
	case len(f.Recipients) > 0:
		rl, rargs := inList(f.Recipients)
		rcond := ` AND f.recipient_id IN ` + rl
		if len(rds) > 0 {
			dl2, a := inList(rds)
			rcond += ` AND f.recipient_id >> 32 IN ` + dl2
			rargs = append(rargs, a...)
		}
		return run(sel+` WHERE f.day IN `+dl+rcond+cond, append(append(dargs, rargs...), cargs...)...)
	case len(rds) > 0:
		// One range of recipient ids per domain, sought on each day.
		for _, d := range rds {
			lo, hi := RecipientRange(d)
			if err := run(sel+` WHERE f.day IN `+dl+` AND f.recipient_id BETWEEN ? AND ?`+cond,
				append(append(append([]any{}, dargs...), lo, hi), cargs...)...); err != nil {
				return err
			}
		}
		return nil
	}
	if len(days) == 1 || runtime.GOMAXPROCS(0) == 1 {
		return run(sel+` WHERE f.day IN `+dl+cond, append(dargs, cargs...)...)
	}
	// A day at a time, on connections of their own: SQLite's reading and
	// the rows' conversion were two thirds of a week's breakdown (10M
	// events), on one core.
	return inorder.Read(ctx, len(days), runtime.GOMAXPROCS(0), func(ctx context.Context, part int, emit func(*analyze.Failure) error) error {
		return db.scanFailures(ctx, &failureScan{names: sc.names, tags: sc.tags}, sel+` WHERE f.day = ?`+cond,
			append([]any{days[part]}, cargs...), emit)
	}, fn)
}

// scanFailures runs a failures query of failureSelectLight's columns and
// calls fn with each failure.
func (db *DB) scanFailures(ctx context.Context, sc *failureScan, q string, args []any, fn func(*analyze.Failure) error) error {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	dest := sc.light()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read failures: %w", err)
		}
		f := sc.done()
		if sc.err != nil {
			return sc.err
		}
		if err := fn(f); err != nil {
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
	ids := make([]int64, len(refs))
	for i, r := range refs {
		ids[i] = r[1] >> domainShift
	}
	slices.Sort(ids) // the refs of one domain's failures name it once each
	ids = slices.Compact(ids)
	sc := &failureScan{}
	var err error
	if sc.names, err = db.namesWithSending(ctx, ids); err != nil {
		return nil, err
	}
	sc.tags = func(id int64) ([]string, error) { return db.tagSet(ctx, id) }
	dest := sc.whole()
	// The keys as a table the failures are sought from, a few hundred a
	// query: one statement, each row one primary-key seek.
	for len(refs) > 0 {
		n := min(len(refs), 300)
		args := make([]any, 0, 3*n)
		for _, r := range refs[:n] {
			args = append(args, r[0], r[1], r[2])
		}
		q := `WITH k(d, r, h) AS (VALUES (?, ?, ?)` + strings.Repeat(", (?, ?, ?)", n-1) + `) ` + failureCols + `
			FROM k CROSS JOIN failures f ON f.day = k.d AND f.recipient_id = k.r AND f.id_hash = k.h` + joinTexts
		rows, err := db.query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read failures: %w", err)
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read failures: %w", err)
			}
			f := *sc.done()
			if sc.err != nil {
				rows.Close()
				return nil, sc.err
			}
			out[f.Ref] = &f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read failures: %w", err)
		}
		refs = refs[n:]
	}
	return out, nil
}

// namesWithSending maps the ids of the sending domains and of some others
// to their names, in one read.
func (db *DB) namesWithSending(ctx context.Context, ids []int64) (map[int64]string, error) {
	if all := db.namesRead(); all != nil {
		return all, nil
	}
	l, args := inList(append(ids, -1))
	return db.namesWhere(ctx, "sending = 1 OR id IN "+l, args)
}

// sendingDomainIDs returns the ids of the account's sending domains.
func (db *DB) sendingDomainIDs(ctx context.Context) ([]int64, error) {
	ids, _, err := db.domainsWhere(ctx, `sending = 1`)
	return ids, err
}

// DeliveredMessages tells which of some messages were delivered to their
// recipient within two days of the day given (Mailgun retries for hours).
func (db *DB) DeliveredMessages(ctx context.Context, ms []analyze.MessageDay) (map[analyze.MessageDay]bool, error) {
	out := make(map[analyze.MessageDay]bool, len(ms))
	stmt, err := db.sql.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM events
		WHERE day IN (?1, ?1 + 1, ?1 + 2) AND recipient_id = ?2 AND message_key = ?3 AND type_id = ?4)`)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	defer stmt.Close()
	for _, m := range ms {
		var n int64
		if err := stmt.QueryRowContext(ctx, m.Day, int64(m.Recipient), int64(m.Message), typeDelivered).Scan(&n); err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		out[m] = n > 0
	}
	return out, nil
}
