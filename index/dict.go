package index

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/maildiag/maildiag"
)

// Names are stored once, in dictionary tables, and referenced by id.

// idFor inserts a dictionary row unless present and returns its id.
func (w *Writer) idFor(insert string, insertArgs []any, lookup string, lookupArgs ...any) (int64, error) {
	res, err := w.exec(insert, insertArgs...)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return res.LastInsertId()
	}
	return w.queryInt(lookup, lookupArgs...)
}

// Event type ids fixed by the first migration.
const (
	typeAccepted = 1
	typeRejected = 2
	typeFailed   = 4
)

func (w *Writer) typeID(name string) (int64, error) {
	if id, ok := w.types[name]; ok {
		return id, nil
	}
	id, err := w.idFor(`INSERT OR IGNORE INTO event_types(name) VALUES (?)`, []any{name},
		`SELECT id FROM event_types WHERE name = ?`, name)
	if err != nil {
		return 0, fmt.Errorf("store event type: %w", err)
	}
	w.types[strings.Clone(name)] = id
	return id, nil
}

func (w *Writer) domainID(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	if id, ok := w.domains[name]; ok {
		return id, nil
	}
	id, err := w.idFor(`INSERT OR IGNORE INTO domains(name, rname) VALUES (?, ?)`, []any{name, Reverse(name)},
		`SELECT id FROM domains WHERE name = ?`, name)
	if err != nil {
		return 0, fmt.Errorf("store domain: %w", err)
	}
	w.domains[strings.Clone(name)] = id
	return id, nil
}

// recipientPreload is the most recipients loaded into the cache when the
// writer starts; with all of them in memory, an address not in the cache is
// new and needs no lookup.
const recipientPreload = 1 << 20

// loadRecipients fills the cache with every recipient when there are few
// enough, and reads the next recipient id.
func (w *Writer) loadRecipients() error {
	next, err := w.queryInt("SELECT COALESCE(MAX(id), 0) + 1 FROM recipients")
	if err != nil {
		return err
	}
	w.nextRecipient = next
	if w.recipsComplete || w.recipsTried {
		return nil
	}
	w.recipsTried = true
	if n, err := w.queryInt("SELECT COUNT(*) FROM recipients"); err != nil || n > recipientPreload {
		return err
	}
	rows, err := w.query("SELECT address, id FROM recipients", nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, 2)
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		addr, _ := dest[0].(string)
		id, _ := dest[1].(int64)
		w.recips[strings.Clone(addr)] = id
	}
	w.recipsComplete = true
	return nil
}

// recipientID returns the id of an address, adding it when new. New
// recipients are inserted in batches with ids the writer assigns.
func (w *Writer) recipientID(addr string) (int64, error) {
	if addr == "" {
		return 0, nil
	}
	if id, ok := w.recips[addr]; ok {
		return id, nil
	}
	did, err := w.domainID(maildiag.DomainOf(addr))
	if err != nil {
		return 0, err
	}
	if !w.recipsComplete {
		id, err := w.queryInt(`SELECT id FROM recipients WHERE domain_id = ? AND address = ?`, did, addr)
		if err != nil {
			return 0, fmt.Errorf("look up recipient: %w", err)
		}
		if id != 0 {
			w.cacheRecipient(addr, id)
			return id, nil
		}
	}
	id := w.nextRecipient
	w.nextRecipient++
	b := &w.newRecips
	b.int(id)
	b.always(did) // 0 for an address without a domain
	b.str(strings.Clone(addr))
	if err := w.endRow(b); err != nil {
		return 0, err
	}
	if err := w.cacheRecipient(addr, id); err != nil {
		return 0, err
	}
	return id, nil
}

// cacheRecipient remembers an address; past cacheLimit the cache restarts
// and, no longer holding every recipient, lookups go to the index.
func (w *Writer) cacheRecipient(addr string, id int64) error {
	if len(w.recips) >= cacheLimit {
		// Lookups must see the recipients still waiting in the batch.
		if err := w.flushBatch(&w.newRecips); err != nil {
			return err
		}
		clear(w.recips)
		w.recipsComplete = false
	}
	w.recips[strings.Clone(addr)] = id
	return nil
}

// Reverse returns s reversed byte by byte: the domains.rname form.
func Reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
