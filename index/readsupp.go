package index

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/maildiag/maildiag"
)

// SuppressionRow is a stored suppression-list entry.
type SuppressionRow struct {
	ID            int64    `json:"-"`
	SendingDomain string   `json:"sending_domain"`
	List          string   `json:"list"`
	Address       string   `json:"address"`
	DomainID      int64    `json:"-"`
	Kind          string   `json:"kind,omitempty"`
	Code          string   `json:"code,omitempty"`
	Error         string   `json:"error,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	Reason        string   `json:"reason,omitempty"`
	CreatedUS     int64    `json:"created_us"`
	FirstSeenUS   int64    `json:"first_seen_us"`
	LastSeenUS    int64    `json:"last_seen_us"`
	RemovedUS     int64    `json:"removed_us,omitempty"` // 0: still listed when last seen
	ImportID      int64    `json:"import_id,omitempty"`  // 0: synced from the API
}

// SuppressionFilter selects suppression entries.
type SuppressionFilter struct {
	Domains        []int64 // entries whose address is at one of these domains
	AddressGlob    string  // * and ?; empty: any
	SendingDomains []int64
	Lists          []string
	CreatedFrom    int64 // [CreatedFrom, CreatedTo); 0: open
	CreatedTo      int64
}

// Suppressions returns the entries the filter selects, removed ones too,
// by address.
func (db *DB) Suppressions(ctx context.Context, f SuppressionFilter) ([]SuppressionRow, error) {
	q := `SELECT s.id, sd.name, s.list, s.address, s.domain_id, COALESCE(s.kind, ''), COALESCE(s.code, ''), COALESCE(s.error, ''),
		COALESCE(s.tags, ''), COALESCE(s.reason, ''), s.created_at, s.first_seen, s.last_seen, COALESCE(s.removed_at, 0), COALESCE(s.import_id, 0)
		FROM suppressions s JOIN domains sd ON sd.id = s.sending_domain_id WHERE 1`
	var args []any
	if len(f.Domains) > 0 {
		l, a := inList(f.Domains)
		q += " AND s.domain_id IN " + l
		args = append(args, a...)
	}
	if f.AddressGlob != "" {
		q += " AND s.address GLOB ?"
		args = append(args, globEscape(f.AddressGlob))
	}
	if len(f.SendingDomains) > 0 {
		l, a := inList(f.SendingDomains)
		q += " AND s.sending_domain_id IN " + l
		args = append(args, a...)
	}
	if len(f.Lists) > 0 {
		l, a := inList(f.Lists)
		q += " AND s.list IN " + l
		args = append(args, a...)
	}
	if f.CreatedFrom != 0 {
		q += " AND s.created_at >= ?"
		args = append(args, f.CreatedFrom)
	}
	if f.CreatedTo != 0 {
		q += " AND s.created_at < ?"
		args = append(args, f.CreatedTo)
	}
	rows, err := db.sql.QueryContext(ctx, q+" ORDER BY s.address, sd.name, s.list, s.created_at", args...)
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	defer rows.Close()
	var out []SuppressionRow
	for rows.Next() {
		var r SuppressionRow
		var tags string
		if err := rows.Scan(&r.ID, &r.SendingDomain, &r.List, &r.Address, &r.DomainID, &r.Kind, &r.Code, &r.Error, &tags,
			&r.Reason, &r.CreatedUS, &r.FirstSeenUS, &r.LastSeenUS, &r.RemovedUS, &r.ImportID); err != nil {
			return nil, fmt.Errorf("read suppressions: %w", err)
		}
		if tags != "" {
			json.Unmarshal([]byte(tags), &r.Tags)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListSyncs returns when each suppression list was last synced.
func (db *DB) ListSyncs(ctx context.Context) ([]maildiag.ListSync, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT d.name, s.list, s.synced_at FROM list_syncs s JOIN domains d ON d.id = s.sending_domain_id ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read list syncs: %w", err)
	}
	defer rows.Close()
	var out []maildiag.ListSync
	for rows.Next() {
		var s maildiag.ListSync
		if err := rows.Scan(&s.SendingDomain, &s.List, &s.SyncedUS); err != nil {
			return nil, fmt.Errorf("read list syncs: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
