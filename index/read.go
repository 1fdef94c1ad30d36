package index

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The read queries the analyses need. They return ids and plain rows;
// names are resolved through the small dictionaries (Domains) or, for the
// few addresses shown, Addresses.

// Domain is a sending or recipient domain.
type Domain struct {
	ID         int64  `json:"-"`
	Name       string `json:"name"`
	Provider   string `json:"provider,omitempty"`
	Gateway    string `json:"gateway,omitempty"`
	MXHost     string `json:"mx_host,omitempty"`
	Recipients int64  `json:"recipients"` // addresses at the domain in the index
}

// Domains returns every domain by id.
func (db *DB) Domains(ctx context.Context) (map[int64]Domain, error) {
	return db.domainsWhere(ctx, "1")
}

func (db *DB) domainsWhere(ctx context.Context, cond string) (map[int64]Domain, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, name, COALESCE(provider, ''), COALESCE(gateway, ''), COALESCE(mx_host, ''), recipients FROM domains WHERE `+cond)
	if err != nil {
		return nil, fmt.Errorf("read domains: %w", err)
	}
	defer rows.Close()
	out := map[int64]Domain{}
	for rows.Next() {
		var d Domain
		if err := rows.Scan(&d.ID, &d.Name, &d.Provider, &d.Gateway, &d.MXHost, &d.Recipients); err != nil {
			return nil, fmt.Errorf("read domains: %w", err)
		}
		out[d.ID] = d
	}
	return out, rows.Err()
}

// SendingDomains returns the account's sending domains by id.
func (db *DB) SendingDomains(ctx context.Context) (map[int64]Domain, error) {
	return db.domainsWhere(ctx, `sending = 1`)
}

// LargestDomains returns the n recipient domains with the most addresses.
func (db *DB) LargestDomains(ctx context.Context, n int) ([]Domain, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, name, COALESCE(provider, ''), COALESCE(gateway, ''), COALESCE(mx_host, ''), recipients
		FROM domains WHERE recipients > 0 ORDER BY recipients DESC, name LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("read domains: %w", err)
	}
	defer rows.Close()
	var out []Domain
	for rows.Next() {
		var d Domain
		if err := rows.Scan(&d.ID, &d.Name, &d.Provider, &d.Gateway, &d.MXHost, &d.Recipients); err != nil {
			return nil, fmt.Errorf("read domains: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// globEscape makes a pattern's * and ? the only special characters of a
// SQLite GLOB.
func globEscape(pattern string) string {
	return strings.NewReplacer("[", "[[]", "]", "[]]").Replace(pattern)
}

// MatchDomains returns the domains whose name matches a glob of * and ?
// (lower case). A pattern without wildcards is a lookup; one whose
// wildcards all come before a literal suffix (*.acme.com) reads a range of
// reversed names; others test every domain.
func (db *DB) MatchDomains(ctx context.Context, glob string) ([]Domain, error) {
	var rows *sql.Rows
	var err error
	const cols = `SELECT id, name, COALESCE(provider, ''), COALESCE(gateway, ''), COALESCE(mx_host, ''), recipients FROM domains`
	switch i := strings.LastIndexAny(glob, "*?"); {
	case i < 0:
		rows, err = db.sql.QueryContext(ctx, cols+` WHERE name = ?`, glob)
	case i < len(glob)-1:
		suffix := Reverse(glob[i+1:])
		rows, err = db.sql.QueryContext(ctx, cols+` WHERE rname >= ? AND rname < ? AND name GLOB ? ORDER BY name`,
			suffix, suffix+"\xff", globEscape(glob))
	default:
		rows, err = db.sql.QueryContext(ctx, cols+` WHERE name GLOB ? ORDER BY name`, globEscape(glob))
	}
	if err != nil {
		return nil, fmt.Errorf("match domains: %w", err)
	}
	defer rows.Close()
	var out []Domain
	for rows.Next() {
		var d Domain
		if err := rows.Scan(&d.ID, &d.Name, &d.Provider, &d.Gateway, &d.MXHost, &d.Recipients); err != nil {
			return nil, fmt.Errorf("match domains: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Recipient is a stored address.
type Recipient struct {
	ID      int64
	Address string
}

// DomainOfRecipient returns the domain id of a recipient id.
func DomainOfRecipient(id int64) int64 { return id >> domainShift }

// FindRecipient returns the id of an address, or 0 when the index has none.
func (db *DB) FindRecipient(ctx context.Context, addr string) (int64, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT r.id, r.address FROM recipient_keys k JOIN recipients r ON r.id = k.id
		WHERE k.hash = addr_hash(?)`, addr)
	if err != nil {
		return 0, fmt.Errorf("find recipient: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Recipient
		if err := rows.Scan(&r.ID, &r.Address); err != nil {
			return 0, fmt.Errorf("find recipient: %w", err)
		}
		if r.Address == addr {
			return r.ID, nil
		}
	}
	return 0, rows.Err()
}

// RecipientsOf returns the addresses of a domain that match a glob of *
// and ? (empty: all), in id order.
func (db *DB) RecipientsOf(ctx context.Context, domainID int64, addrGlob string) ([]Recipient, error) {
	if addrGlob == "" {
		return db.recipientsWhere(ctx, domainID, "")
	}
	return db.recipientsWhere(ctx, domainID, ` AND address GLOB ?`, globEscape(addrGlob))
}

// recipientsWhere reads the addresses of a domain that meet a condition.
func (db *DB) recipientsWhere(ctx context.Context, domainID int64, cond string, args ...any) ([]Recipient, error) {
	lo, hi := RecipientRange(domainID)
	rows, err := db.sql.QueryContext(ctx, `SELECT id, address FROM recipients WHERE id BETWEEN ? AND ?`+cond,
		append([]any{lo, hi}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var r Recipient
		if err := rows.Scan(&r.ID, &r.Address); err != nil {
			return nil, fmt.Errorf("read recipients: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Addresses resolves recipient ids to addresses.
func (db *DB) Addresses(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		q := `SELECT id, address FROM recipients WHERE id IN (?` + strings.Repeat(", ?", n-1) + `)`
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rows, err := db.sql.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read addresses: %w", err)
		}
		for rows.Next() {
			var id int64
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
	sp, err := db.Span(ctx)
	if err != nil {
		return nil, err
	}
	out := []int64{}
	first, last := sp.FirstUS/usPerDay, sp.LastUS/usPerDay
	if sp.FirstUS != 0 && last-first < maxSpanDays {
		for d := first; d <= last; d++ {
			out = append(out, d)
		}
	} else if sp.FirstUS != 0 {
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

// RecipientsStartingWith returns the addresses of a domain whose first
// character is one of firsts, in id order: the candidates for lookalikes
// of addresses starting so.
func (db *DB) RecipientsStartingWith(ctx context.Context, domainID int64, firsts []string) ([]Recipient, error) {
	if len(firsts) == 0 {
		return nil, nil
	}
	l, a := inList(firsts)
	return db.recipientsWhere(ctx, domainID, ` AND substr(address, 1, 1) IN `+l, a...)
}
