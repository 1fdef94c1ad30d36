package index

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// The read queries of the analyses (analyze.Store) work on ids and
// plain rows and turn them into the analyses' domain terms here: domain
// ids into names, recipient ids into analyze.RecipientIDs, days and
// microseconds into times.

// domainCols reads a domains row: id, name, provider, gateway, mx_host,
// recipients.
const domainCols = `SELECT id, name, COALESCE(provider, ''), COALESCE(gateway, ''), COALESCE(mx_host, ''), recipients FROM domains`

// domainsWhere reads the domains that meet a condition, with their ids.
func (db *DB) domainsWhere(ctx context.Context, cond string, args ...any) ([]int64, []analyze.Domain, error) {
	type row struct {
		id int64
		d  analyze.Domain
	}
	rows, err := queryAll(ctx, db, "read domains", domainCols+` WHERE `+cond, args, func(r *row) []any {
		return []any{&r.id, &r.d.Name, &r.d.Provider, &r.d.Gateway, &r.d.MXHost, &r.d.Recipients}
	})
	ids := make([]int64, len(rows))
	out := make([]analyze.Domain, len(rows))
	for i, r := range rows {
		ids[i], out[i] = r.id, r.d
	}
	return ids, out, err
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

// DomainsNamed returns those of names the index has, by name: one
// lookup in the name index each, a few hundred at a time.
func (db *DB) DomainsNamed(ctx context.Context, names []string) ([]analyze.Domain, error) {
	var out []analyze.Domain
	for chunk := range slices.Chunk(names, 500) {
		l, args := inList(chunk)
		_, ds, err := db.domainsWhere(ctx, `name IN `+l+` ORDER BY name`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
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
// only those of ids. The map returned must not be changed.
func (db *DB) domainNames(ctx context.Context, ids ...int64) (map[int64]string, error) {
	if len(ids) == 0 {
		return db.allNames(ctx)
	}
	if all := db.namesRead(); all != nil {
		return all, nil
	}
	l, args := inList(ids)
	return db.namesWhere(ctx, "id IN "+l, args)
}

// allNames is every domain's name by id. A read-only DB reads them once:
// an analysis over all domains resolves names in several reads, and a
// large index has tens of thousands of domains.
func (db *DB) allNames(ctx context.Context) (map[int64]string, error) {
	if !db.readOnly {
		return db.namesWhere(ctx, "1", nil)
	}
	db.namesMu.Lock()
	defer db.namesMu.Unlock()
	if db.names == nil {
		names, err := db.namesWhere(ctx, "1", nil)
		if err != nil {
			return nil, err
		}
		db.names, db.ids = names, make(map[string]int64, len(names))
		for id, n := range names {
			db.ids[n] = id
		}
	}
	return db.names, nil
}

// namesRead is every domain's name by id when a read-only DB has read
// them, else nil: a few names are then read on their own.
func (db *DB) namesRead() map[int64]string {
	if !db.readOnly {
		return nil
	}
	db.namesMu.Lock()
	defer db.namesMu.Unlock()
	return db.names
}

// domainID is the id of a domain, 0 when the index has none.
func (db *DB) domainID(ctx context.Context, name string) (int64, error) {
	if db.namesRead() != nil {
		db.namesMu.Lock()
		defer db.namesMu.Unlock()
		return db.ids[name], nil
	}
	ids, _, err := db.domainsWhere(ctx, `name = ?`, name)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// namesWhere maps the ids of the domains that meet a condition to their
// names.
func (db *DB) namesWhere(ctx context.Context, cond string, args []any) (map[int64]string, error) {
	rows, err := queryAll(ctx, db, "read domains", `SELECT id, name FROM domains WHERE `+cond, args, idName)
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.id] = r.name
	}
	return out, err
}

// named is an id with a name or an address.
type named struct {
	id   int64
	name string
}

func idName(r *named) []any { return []any{&r.id, &r.name} }

// FindRecipient returns an address's id, or 0 when the index has none.
func (db *DB) FindRecipient(ctx context.Context, addr string) (analyze.RecipientID, error) {
	id, err := db.recipientID(ctx, addr)
	return analyze.RecipientID(id), err
}

func (db *DB) recipientID(ctx context.Context, addr string) (int64, error) {
	rows, err := queryAll(ctx, db, "find recipient", `SELECT r.id, r.address FROM recipient_keys k JOIN recipients r ON r.id = k.id
		WHERE k.hash = addr_hash(?)`, []any{addr}, idName)
	for _, r := range rows {
		if r.name == addr {
			return r.id, nil
		}
	}
	return 0, err
}

// Recipients returns the addresses at a domain that match a glob of * and
// ? ("": all), in id order.
func (db *DB) Recipients(ctx context.Context, domain, glob string) ([]analyze.Recipient, error) {
	id, err := db.domainID(ctx, domain)
	if err != nil || id == 0 {
		return nil, err
	}
	lo, hi := RecipientRange(id)
	rows, err := queryAll(ctx, db, "read recipients", `SELECT id, address FROM recipients WHERE id BETWEEN ? AND ?`, []any{lo, hi},
		func(r *analyze.Recipient) []any { return []any{&r.ID, &r.Address} })
	if glob != "" {
		rows = slices.DeleteFunc(rows, func(r analyze.Recipient) bool { return !maildiag.MatchGlob(glob, r.Address) })
	}
	return rows, err
}

// RecipientsNear returns the addresses near those wanted, by domain: each
// domain's are one range of ids, read whole and filtered here.
func (db *DB) RecipientsNear(ctx context.Context, want map[string]analyze.NearLocals) (map[string][]analyze.Recipient, error) {
	out := make(map[string][]analyze.Recipient, len(want))
	for d, near := range want {
		rs, err := db.Recipients(ctx, d, "")
		if err != nil {
			return nil, err
		}
		rs = slices.DeleteFunc(rs, func(r analyze.Recipient) bool { return !near.HasAddress(r.Address) })
		if len(rs) > 0 {
			out[d] = rs
		}
	}
	return out, nil
}

// Addresses resolves recipient ids.
func (db *DB) Addresses(ctx context.Context, ids []analyze.RecipientID) (map[analyze.RecipientID]string, error) {
	out := make(map[analyze.RecipientID]string, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		l, args := inList(ids[:n])
		rows, err := queryAll(ctx, db, "read addresses", `SELECT id, address FROM recipients WHERE id IN `+l, args, idName)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[analyze.RecipientID(r.id)] = r.name
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
	out, err := queryAll(ctx, db, "read days", `WITH RECURSIVE d(day) AS (
			SELECT MIN(day) FROM daily_counts
			UNION ALL SELECT (SELECT MIN(day) FROM daily_counts WHERE day > d.day) FROM d WHERE d.day IS NOT NULL)
		SELECT day FROM d WHERE day IS NOT NULL`, nil, func(d *int64) []any { return []any{d} })
	if out == nil {
		out = []int64{}
	}
	return out, err
}

// dayList renders days as a bound IN list: each day is one index seek.
func dayList(days []int64) (string, []any) {
	if len(days) == 0 {
		return "(NULL)", nil
	}
	return inList(days)
}
