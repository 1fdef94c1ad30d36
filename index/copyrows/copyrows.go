// Package copyrows holds what both stores read alike for maildiag copy:
// the rows of tables the two schemas share, and how a row becomes an
// entry.
package copyrows

import (
	"encoding/json"

	"github.com/maildiag/maildiag"
)

// SuppressionsQuery reads every suppression entry, removed ones too, with
// its original record, in the order Suppression.Dest scans.
const SuppressionsQuery = `SELECT sd.name, s.list, s.address, COALESCE(s.kind, ''), COALESCE(s.code, ''),
	COALESCE(s.error, ''), COALESCE(s.tags, ''), COALESCE(s.reason, ''), s.created_at, s.first_seen, s.last_seen,
	COALESCE(s.removed_at, 0), COALESCE(s.import_id, 0), COALESCE(s.raw, '')
	FROM suppressions s JOIN domains sd ON sd.id = s.sending_domain_id ORDER BY s.id`

// Suppression is a row of SuppressionsQuery.
type Suppression struct {
	s         maildiag.StoredSuppression
	tags, raw string
	imports   int64
}

// Dest are the row's scan destinations.
func (r *Suppression) Dest() []any {
	s := &r.s
	return []any{&s.SendingDomain, &s.List, &s.Address, &s.Kind, &s.Code, &s.Error, &r.tags, &s.Reason, &s.CreatedUS,
		&s.FirstSeenUS, &s.LastSeenUS, &s.RemovedUS, &r.imports, &r.raw}
}

// Entry is the entry the row holds: tags decoded, the record's bytes,
// whether an import brought it.
func (r *Suppression) Entry() *maildiag.StoredSuppression {
	if r.tags != "" {
		json.Unmarshal([]byte(r.tags), &r.s.Tags)
	}
	if r.raw != "" {
		r.s.Raw = []byte(r.raw)
	}
	r.s.Imported = r.imports != 0
	return &r.s
}
