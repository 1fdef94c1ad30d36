package pg

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// The analyses' reads (analyze.Store) on PostgreSQL, held to the same
// results as the SQLite index's (index/read*.go) by the store contract
// tests. Text is ordered byte by byte (COLLATE "C"), as SQLite orders it.

// args numbers a query's parameters as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

const domainCols = `SELECT id, name, COALESCE(provider, ''), COALESCE(gateway, ''), COALESCE(mx_host, ''), recipients FROM domains`

// domainsWhere reads the domains that meet a condition, with their ids.
func (db *DB) domainsWhere(ctx context.Context, cond string, a ...any) ([]int64, []analyze.Domain, error) {
	type row struct {
		id int32
		d  analyze.Domain
	}
	rows, err := collect(ctx, db, "read domains", domainCols+` WHERE `+cond, a, func(r *row) []any {
		return []any{&r.id, &r.d.Name, &r.d.Provider, &r.d.Gateway, &r.d.MXHost, &r.d.Recipients}
	})
	ids := make([]int64, len(rows))
	out := make([]analyze.Domain, len(rows))
	for i, r := range rows {
		ids[i], out[i] = int64(r.id), r.d
	}
	return ids, out, err
}

// Domains returns every domain, sending and recipient, by name.
func (db *DB) Domains(ctx context.Context) (map[string]analyze.Domain, error) {
	_, ds, err := db.domainsWhere(ctx, "true")
	if err != nil {
		return nil, err
	}
	out := make(map[string]analyze.Domain, len(ds))
	for _, d := range ds {
		out[d.Name] = d
	}
	return out, nil
}

// DomainsNamed returns those of names the index has, by name.
func (db *DB) DomainsNamed(ctx context.Context, names []string) ([]analyze.Domain, error) {
	_, ds, err := db.domainsWhere(ctx, `name = ANY($1) ORDER BY name COLLATE "C"`, names)
	return ds, err
}

// SendingDomains returns the account's sending domains, by name.
func (db *DB) SendingDomains(ctx context.Context) ([]string, error) {
	_, ds, err := db.domainsWhere(ctx, `sending ORDER BY name COLLATE "C"`)
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
	}
	return names, err
}

// LargestDomains returns the n recipient domains with the most addresses.
func (db *DB) LargestDomains(ctx context.Context, n int) ([]analyze.Domain, error) {
	_, ds, err := db.domainsWhere(ctx, `recipients > 0 ORDER BY recipients DESC, name COLLATE "C" LIMIT $1`, n)
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
		return db.domainsWhere(ctx, `name = $1`, glob)
	case i < len(glob)-1:
		ids, ds, err = db.domainsWhere(ctx, `rname LIKE $1 ESCAPE '\' ORDER BY name COLLATE "C"`, likeEscape(reverse(glob[i+1:]))+"%")
	default:
		ids, ds, err = db.domainsWhere(ctx, `true ORDER BY name COLLATE "C"`)
	}
	if err != nil {
		return nil, nil, err
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

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

// likeEscape makes a string a literal inside a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// domainIDs resolves domain names, leaving out unknown ones. A nil result
// is "no filter", so names that all resolve to nothing give a list that
// matches no domain.
func (db *DB) domainIDs(ctx context.Context, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	ids, _, err := db.domainsWhere(ctx, `name = ANY($1)`, names)
	if len(ids) == 0 {
		ids = []int64{-1}
	}
	return ids, err
}

// domainNames maps the ids of some domains to their names: reading only
// those a result names (not all 30k domains of 10M events, 20-40 ms).
func (db *DB) domainNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	type row struct {
		id   int32
		name string
	}
	rows, err := collect(ctx, db, "read domains", `SELECT id, name FROM domains WHERE id = ANY($1)`, []any{ids},
		func(r *row) []any { return []any{&r.id, &r.name} })
	out := make(map[int64]string, len(rows)+1)
	for _, r := range rows {
		out[int64(r.id)] = r.name
	}
	return out, err
}

// FindRecipient returns an address's id, or 0 when the index has none.
func (db *DB) FindRecipient(ctx context.Context, addr string) (analyze.RecipientID, error) {
	ids, err := collect(ctx, db, "find recipient", `SELECT id FROM recipients WHERE address = $1`, []any{addr},
		func(id *int64) []any { return []any{id} })
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return analyze.RecipientID(ids[0]), nil
}

// Recipients returns the addresses at a domain that match a glob of * and
// ? ("": all), in the order they were stored.
func (db *DB) Recipients(ctx context.Context, domain, glob string) ([]analyze.Recipient, error) {
	var a args
	q := `SELECT r.id, r.address FROM recipients r JOIN domains d ON d.id = r.domain_id WHERE d.name = ` + a.add(domain)
	if lit := globPrefix(glob); lit != "" {
		q += ` AND r.address LIKE ` + a.add(likeEscape(lit)+"%") + ` ESCAPE '\'`
	}
	rows, err := collect(ctx, db, "read recipients", q+` ORDER BY r.id`, a, func(r *analyze.Recipient) []any { return []any{&r.ID, &r.Address} })
	if glob != "" {
		rows = slices.DeleteFunc(rows, func(r analyze.Recipient) bool { return !maildiag.MatchGlob(glob, r.Address) })
	}
	return rows, err
}

// RecipientsNear returns the addresses near those wanted, by domain, in
// the order they were stored. Each domain's addresses are read from the
// index by domain alone (no visit to the table) and kept as NearLocals.Has
// says: filtering in the query cost the server 0.9 s of a report on 10M
// events (545k addresses at 3,725 domains), reading them 0.2 s.
func (db *DB) RecipientsNear(ctx context.Context, want map[string]analyze.NearLocals) (map[string][]analyze.Recipient, error) {
	names := slices.Sorted(maps.Keys(want))
	nears := make([]analyze.NearLocals, len(names))
	for i, d := range names {
		nears[i] = want[d]
	}
	// OFFSET 0 keeps a scan of the index per domain: joined whole, the
	// planner read every address.
	rows, err := db.pool.Query(ctx, `SELECT w.i, r.id, r.address
		FROM unnest($1::text[]) WITH ORDINALITY w(name, i) JOIN domains d ON d.name = w.name
		CROSS JOIN LATERAL (SELECT id, address FROM recipients WHERE domain_id = d.id OFFSET 0) r`, names)
	if err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]analyze.Recipient, len(want))
	var i int64
	var id analyze.RecipientID
	for rows.Next() {
		// The address as received, made a string of its own only when
		// kept: most are not.
		if err := rows.Scan(&i, &id, nil); err != nil {
			return nil, fmt.Errorf("read recipients: %w", err)
		}
		addr := rows.RawValues()[2]
		if i < 1 || int(i) > len(names) || !nears[i-1].HasAddress(string(addr)) {
			continue
		}
		out[names[i-1]] = append(out[names[i-1]], analyze.Recipient{ID: id, Address: string(addr)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	for _, rs := range out {
		slices.SortFunc(rs, func(a, b analyze.Recipient) int { return cmp.Compare(a.ID, b.ID) })
	}
	return out, nil
}

// globPrefix is the literal start of a glob, before its first wildcard.
func globPrefix(glob string) string {
	if i := strings.IndexAny(glob, "*?"); i >= 0 {
		return glob[:i]
	}
	return glob
}

// Addresses resolves recipient ids.
func (db *DB) Addresses(ctx context.Context, ids []analyze.RecipientID) (map[analyze.RecipientID]string, error) {
	type row struct {
		id   int64
		addr string
	}
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	rows, err := collect(ctx, db, "read addresses", `SELECT id, address FROM recipients WHERE id = ANY($1)`, []any{raw},
		func(r *row) []any { return []any{&r.id, &r.addr} })
	if err != nil {
		return nil, err
	}
	out := make(map[analyze.RecipientID]string, len(rows))
	for _, r := range rows {
		out[analyze.RecipientID(r.id)] = r.addr
	}
	return out, nil
}
