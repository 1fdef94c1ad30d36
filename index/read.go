package index

import (
	"context"
	"fmt"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// The read queries of the analyses (analyze.Store) work on ids and
// plain rows and turn them into the analyses' domain terms here: domain
// ids into names, recipient ids into analyze.RecipientIDs, days and
// microseconds into times.

// domainRow reads a domains row: id, name, provider, gateway, mx_host,
// recipients.
const domainCols = `SELECT id, name, COALESCE(provider, ''), COALESCE(gateway, ''), COALESCE(mx_host, ''), recipients FROM domains`

// domainsWhere reads the domains that meet a condition, with their ids.
func (db *DB) domainsWhere(ctx context.Context, cond string, args ...any) ([]int64, []analyze.Domain, error) {
	rows, err := db.sql.QueryContext(ctx, domainCols+` WHERE `+cond, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read domains: %w", err)
	}
	defer rows.Close()
	var ids []int64
	var out []analyze.Domain
	for rows.Next() {
		var id int64
		var d analyze.Domain
		if err := rows.Scan(&id, &d.Name, &d.Provider, &d.Gateway, &d.MXHost, &d.Recipients); err != nil {
			return nil, nil, fmt.Errorf("read domains: %w", err)
		}
		ids = append(ids, id)
		out = append(out, d)
	}
	return ids, out, rows.Err()
}

// Domains returns every domain, sending and recipient, by name.
func (db *DB) Domains(ctx context.Context) (map[string]analyze.Domain, error) {
	_, ds, err := db.domainsWhere(ctx, "1")
	if err != nil {
		return nil, err
	}
	out := make(map[string]analyze.Domain, len(ds))
	for _, d := range ds {
		out[d.Name] = d
	}
	return out, nil
}

// SendingDomains returns the account's sending domains, by name.
func (db *DB) SendingDomains(ctx context.Context) ([]string, error) {
	_, ds, err := db.domainsWhere(ctx, `sending = 1 ORDER BY name`)
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
	}
	return names, err
}

// LargestDomains returns the n recipient domains with the most addresses.
func (db *DB) LargestDomains(ctx context.Context, n int) ([]analyze.Domain, error) {
	_, ds, err := db.domainsWhere(ctx, `recipients > 0 ORDER BY recipients DESC, name LIMIT ?`, n)
	return ds, err
}

// MatchDomains returns the domains whose name matches a glob of * and ?,
// by name. A pattern without wildcards is a lookup; one whose wildcards
// all come before a literal suffix (*.acme.com) reads a range of reversed
// names; others test every domain.
func (db *DB) MatchDomains(ctx context.Context, glob string) ([]analyze.Domain, error) {
	_, ds, err := db.matchDomains(ctx, glob)
	return ds, err
}

func (db *DB) matchDomains(ctx context.Context, glob string) ([]int64, []analyze.Domain, error) {
	var ids []int64
	var ds []analyze.Domain
	var err error
	switch i := strings.LastIndexAny(glob, "*?"); {
	case i < 0:
		return db.domainsWhere(ctx, `name = ?`, glob)
	case i < len(glob)-1:
		suffix := Reverse(glob[i+1:])
		ids, ds, err = db.domainsWhere(ctx, `rname >= ? AND rname < ? ORDER BY name`, suffix, suffix+"\xff")
	default:
		ids, ds, err = db.domainsWhere(ctx, `1 ORDER BY name`)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("match domains: %w", err)
	}
	n := 0
	for i, d := range ds {
		if maildiag.MatchGlob(glob, d.Name) {
			ids[n], ds[n] = ids[i], d
			n++
		}
	}
	return ids[:n], ds[:n], nil
}

// domainIDs resolves domain names, leaving out unknown ones. A nil result
// is "no filter", so names that all resolve to nothing give a list that
// matches no domain.
func (db *DB) domainIDs(ctx context.Context, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	l, a := inList(names)
	ids, _, err := db.domainsWhere(ctx, `name IN `+l, a...)
	if len(ids) == 0 {
		ids = []int64{-1}
	}
	return ids, err
}

// domainNames maps the ids of domains to their names: all of them, or
// only those of ids.
func (db *DB) domainNames(ctx context.Context, ids ...int64) (map[int64]string, error) {
	cond, args := "1", []any(nil)
	if len(ids) > 0 {
		var l string
		l, args = inList(ids)
		cond = "id IN " + l
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT id, name FROM domains WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("read domains: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("read domains: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// FindRecipient returns an address's id, or 0 when the index has none.
func (db *DB) FindRecipient(ctx context.Context, addr string) (analyze.RecipientID, error) {
	id, err := db.recipientID(ctx, addr)
	return analyze.RecipientID(id), err
}

func (db *DB) recipientID(ctx context.Context, addr string) (int64, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT r.id, r.address FROM recipient_keys k JOIN recipients r ON r.id = k.id
		WHERE k.hash = addr_hash(?)`, addr)
	if err != nil {
		return 0, fmt.Errorf("find recipient: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a string
		if err := rows.Scan(&id, &a); err != nil {
			return 0, fmt.Errorf("find recipient: %w", err)
		}
		if a == addr {
			return id, nil
		}
	}
	return 0, rows.Err()
}

// Recipients returns the addresses at a domain that match a glob of * and
// ? ("": all), in id order; with firsts, only those whose first character
// is one of them.
func (db *DB) Recipients(ctx context.Context, domain, glob string, firsts ...byte) ([]analyze.Recipient, error) {
	ids, _, err := db.domainsWhere(ctx, `name = ?`, domain)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	lo, hi := RecipientRange(ids[0])
	q, args := `SELECT id, address FROM recipients WHERE id BETWEEN ? AND ?`, []any{lo, hi}
	if len(firsts) > 0 {
		fs := make([]string, len(firsts))
		for i, c := range firsts {
			fs[i] = string(c)
		}
		l, a := inList(fs)
		q += ` AND substr(address, 1, 1) IN ` + l
		args = append(args, a...)
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	defer rows.Close()
	var out []analyze.Recipient
	for rows.Next() {
		var r analyze.Recipient
		if err := rows.Scan(&r.ID, &r.Address); err != nil {
			return nil, fmt.Errorf("read recipients: %w", err)
		}
		if glob == "" || maildiag.MatchGlob(glob, r.Address) {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// Addresses resolves recipient ids.
func (db *DB) Addresses(ctx context.Context, ids []analyze.RecipientID) (map[analyze.RecipientID]string, error) {
	out := make(map[analyze.RecipientID]string, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		l, args := inList(ids[:n])
		rows, err := db.sql.QueryContext(ctx, `SELECT id, address FROM recipients WHERE id IN `+l, args...)
		if err != nil {
			return nil, fmt.Errorf("read addresses: %w", err)
		}
		for rows.Next() {
			var id analyze.RecipientID
			var a string
			if err := rows.Scan(&id, &a); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read addresses: %w", err)
			}
			out[id] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read addresses: %w", err)
		}
		ids = ids[n:]
	}
	return out, nil
}

// Days returns the UTC days that may have events, in order: every day of
// the index's span when it is short (a day without events costs one empty
// seek), else the days the counts hold. A read-only DB reads them once.
func (db *DB) Days(ctx context.Context) ([]int64, error) {
	db.daysMu.Lock()
	defer db.daysMu.Unlock()
	if db.days != nil {
		return db.days, nil
	}
	firstUS, lastUS, err := db.span(ctx)
	if err != nil {
		return nil, err
	}
	out := []int64{}
	first, last := dayOf(firstUS), dayOf(lastUS)
	if firstUS != 0 && last-first < maxSpanDays {
		for d := first; d <= last; d++ {
			out = append(out, d)
		}
	} else if firstUS != 0 {
		if out, err = db.countedDays(ctx); err != nil {
			return nil, err
		}
	}
	if db.readOnly {
		db.days = out
	}
	return out, nil
}

// maxSpanDays is the longest span whose days are listed without reading
// which of them have events.
const maxSpanDays = 800

// countedDays seeks from day to day in the counts: one lookup per day with
// events, not a scan.
func (db *DB) countedDays(ctx context.Context) ([]int64, error) {
	rows, err := db.sql.QueryContext(ctx, `WITH RECURSIVE d(day) AS (
			SELECT MIN(day) FROM daily_counts
			UNION ALL SELECT (SELECT MIN(day) FROM daily_counts WHERE day > d.day) FROM d WHERE d.day IS NOT NULL)
		SELECT day FROM d WHERE day IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read days: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("read days: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// dayList renders days as a bound IN list: each day is one index seek.
func dayList(days []int64) (string, []any) {
	if len(days) == 0 {
		return "(NULL)", nil
	}
	return inList(days)
}
