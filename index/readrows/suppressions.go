package readrows

import (
	"encoding/json"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// SuppressionsSelect reads suppression entries (s) with their sending
// domain (sd), in the order ListRow.Dest scans; each store adds its WHERE.
const SuppressionsSelect = `SELECT sd.name, s.list, s.address, COALESCE(s.kind, ''), COALESCE(s.code, ''), COALESCE(s.error, ''),
	COALESCE(s.tags, ''), COALESCE(s.reason, ''), s.created_at, s.first_seen, s.last_seen, COALESCE(s.removed_at, 0), COALESCE(s.import_id, 0)
	FROM suppressions s JOIN domains sd ON sd.id = s.sending_domain_id`

// ListRow is a row of SuppressionsSelect.
type ListRow struct {
	e                             analyze.ListEntry
	tags                          string
	first, last, removed, imports int64
}

// Dest are the row's scan destinations.
func (r *ListRow) Dest() []any {
	e := &r.e
	return []any{&e.SendingDomain, &e.List, &e.Address, &e.Kind, &e.Code, &e.Error, &r.tags,
		&e.Reason, &e.CreatedUS, &r.first, &r.last, &r.removed, &r.imports}
}

// ListEntries are the rows' entries whose address matches glob (all for "").
func ListEntries(rows []ListRow, glob string) []analyze.ListEntry {
	out := make([]analyze.ListEntry, 0, len(rows))
	for _, r := range rows {
		if glob != "" && !maildiag.MatchGlob(glob, r.e.Address) {
			continue
		}
		e := r.e
		if r.tags != "" {
			json.Unmarshal([]byte(r.tags), &e.Tags)
		}
		e.FirstSeen, e.LastSeen, e.Removed, e.Imported = maildiag.TimeUS(r.first), maildiag.TimeUS(r.last), maildiag.TimeUS(r.removed), r.imports != 0
		out = append(out, e)
	}
	return out
}
