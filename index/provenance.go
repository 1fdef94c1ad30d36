package index

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/maildiag/maildiag"
)

// StartImport records that an import began, and commits so that it is
// visible as "running"; its lock (importlock.go) tells a reader when the
// process has ended without finishing it. Imports of processes that ended
// so are recorded as interrupted first.
func (w *Writer) StartImport(ctx context.Context, source string) (*maildiag.Import, error) {
	imp := &maildiag.Import{Source: source, Status: maildiag.ImportRunning, StartedUS: time.Now().UnixMicro()}
	if err := w.begin(ctx); err != nil {
		return nil, err
	}
	if err := w.markInterrupted(); err != nil {
		return nil, err
	}
	res, err := w.exec(`INSERT INTO imports(source, started_at, status) VALUES (?, ?, ?)`, source, imp.StartedUS, imp.Status)
	if err != nil {
		return nil, fmt.Errorf("record import: %w", err)
	}
	imp.ID, _ = res.LastInsertId()
	// Locked before the row is visible: no reader sees it unheld.
	if err := w.lockImport(imp.ID); err != nil {
		return nil, err
	}
	return imp, w.Commit(ctx)
}

// SaveImport writes the import's counts and status in the current
// transaction, so they commit with the data they count.
func (w *Writer) SaveImport(ctx context.Context, imp *maildiag.Import) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	var shapes any
	if len(imp.Shapes) > 0 {
		b, _ := json.Marshal(imp.Shapes)
		shapes = string(b)
	}
	_, err := w.exec(`UPDATE imports SET sha256 = ?, bytes = ?, gzip = ?, shapes = ?, finished_at = ?, status = ?, error = ?,
		events_read = ?, events_new = ?, suppressions_read = ?, suppressions_new = ?, rejects = ? WHERE id = ?`,
		nullStr(imp.SHA256), imp.Bytes, boolInt(imp.Gzip), shapes, nullID(imp.FinishedUS), imp.Status, nullStr(imp.Error),
		int64(imp.EventsRead), int64(imp.EventsNew), int64(imp.SuppressionsRead), int64(imp.SuppressionsNew), int64(imp.Rejects), imp.ID)
	if err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	return nil
}

// maxRejectRaw bounds the raw text kept for one reject; raw_bytes keeps the
// full length and the source file and line say where the rest is.
const maxRejectRaw = 1 << 20

// AddRejects stores records that could not be loaded.
func (w *Writer) AddRejects(ctx context.Context, source string, importID int64, rs []maildiag.Reject) error {
	if len(rs) == 0 {
		return nil
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	for _, r := range rs {
		raw := r.Raw
		if len(raw) > maxRejectRaw {
			raw = raw[:maxRejectRaw]
		}
		if _, err := w.exec(`INSERT INTO rejects(import_id, source, line, item, offset, reason, raw, raw_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			nullID(importID), source, nullID(r.Line), nullInt(r.Item), r.Offset, r.Reason, string(raw), int64(len(r.Raw))); err != nil {
			return fmt.Errorf("store reject: %w", err)
		}
	}
	return nil
}

// AddSuppressions stores suppression-list entries seen at seenUS. An entry
// already stored (same sending domain, list, address and creation time)
// only has last_seen moved; it returns how many were new.
func (w *Writer) AddSuppressions(ctx context.Context, ss []maildiag.Suppression, importID, seenUS int64) (int, error) {
	if len(ss) == 0 {
		return 0, nil
	}
	if err := w.begin(ctx); err != nil {
		return 0, err
	}
	added := 0
	for i := range ss {
		s := &ss[i]
		sd, err := w.sendingDomainID(s.SendingDomain)
		if err != nil {
			return added, err
		}
		dom := s.Address
		if s.Kind != "domain" {
			dom = maildiag.DomainOf(s.Address)
		}
		did, err := w.domainID(dom)
		if err != nil {
			return added, err
		}
		res, err := w.exec(`INSERT OR IGNORE INTO suppressions(sending_domain_id, list, address, domain_id, kind, code, error, tags,
			reason, created_at, first_seen, last_seen, import_id, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sd, s.List, s.Address, did, nullStr(s.Kind), nullStr(s.Code), nullStr(s.Error), tagsJSON(s.Tags),
			nullStr(s.Reason), s.CreatedUS, seenUS, seenUS, nullID(importID), nullStr(string(s.Raw)))
		if err != nil {
			return added, fmt.Errorf("store suppression %s: %w", s.Address, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			added++
			continue
		}
		if _, err := w.exec(`UPDATE suppressions SET last_seen = MAX(last_seen, ?), removed_at = NULL
			WHERE sending_domain_id = ? AND list = ? AND address = ? AND created_at = ?`,
			seenUS, sd, s.List, s.Address, s.CreatedUS); err != nil {
			return added, fmt.Errorf("store suppression %s: %w", s.Address, err)
		}
	}
	return added, nil
}

func tagsJSON(tags []string) any {
	if len(tags) == 0 {
		return nil
	}
	b, _ := json.Marshal(tags)
	return string(b)
}
