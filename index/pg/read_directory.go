package pg

import (
	"context"
	"encoding/json"
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
// one query that filters them as NearLocals.Has does: a report's lookalikes
// read 188,155 addresses at 3,725 domains to keep a few hundred.
func (db *DB) RecipientsNear(ctx context.Context, want map[string]analyze.NearLocals) (map[string][]analyze.Recipient, error) {
	type domainWant struct {
		Name     string   `json:"name"`
		Keys     []int64  `json:"keys"`
		Squashes []string `json:"squashes"`
	}
	ws := make([]domainWant, 0, len(want))
	for d, n := range want {
		ws = append(ws, domainWant{d, n.Keys, n.Squashes})
	}
	js, err := json.Marshal(ws)
	if err != nil {
		return nil, err
	}
	type row struct {
		domain string
		r      analyze.Recipient
	}
	// The local part's first byte and length in bytes, and its squashed
	// form: what analyze.NearKey and the squash of analyze's lookalikes make
	// of it.
	rows, err := collect(ctx, db, "read recipients", `SELECT w.name, r.id, r.address
		FROM jsonb_to_recordset($1::jsonb) w(name text, keys bigint[], squashes text[])
		JOIN domains d ON d.name = w.name
		CROSS JOIN LATERAL (SELECT id, address, split_part(address, '@', 1) AS l FROM recipients WHERE domain_id = d.id) r
		WHERE CASE WHEN octet_length(r.l) >= 6
				THEN (get_byte(convert_to(r.l, 'UTF8'), 0)::bigint << 32 | octet_length(r.l)) = ANY(w.keys) END
			OR translate(CASE WHEN strpos(r.l, '+') > 1 THEN left(r.l, strpos(r.l, '+') - 1) ELSE r.l END, '._-', '') = ANY(w.squashes)
		ORDER BY r.id`, []any{string(js)}, func(r *row) []any { return []any{&r.domain, &r.r.ID, &r.r.Address} })
	if err != nil {
		return nil, err
	}
	out := make(map[string][]analyze.Recipient, len(want))
	for _, r := range rows {
		out[r.domain] = append(out[r.domain], r.r)
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
