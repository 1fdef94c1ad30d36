package index

import (
	"database/sql/driver"
	"fmt"
	"os"

	"github.com/maildiag/maildiag"
)

// How an interrupted import is told from a running one: an import holds a
// lock on one byte of the file <index>-imports.lock, at the offset of its
// id, from StartImport until its writer closes. The kernel releases the
// lock when the process ends, however it ends (kill -9 included), so an
// import recorded as running whose byte nobody holds was interrupted; no
// heartbeat to miss, no process id to be reused. Where the system has no
// such locks (importlock_other.go), an import stays "running".

// interruptedError is the error recorded for an interrupted import.
const interruptedError = "the importing process ended before the import finished (killed?); what it committed stays"

func (db *DB) importLockPath() string { return db.Path + "-imports.lock" }

// lockImport takes import id's lock for as long as the writer is open.
func (w *Writer) lockImport(id int64) error {
	if !byteLocks {
		return nil
	}
	if w.importLock == nil {
		f, err := os.OpenFile(w.db.importLockPath(), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("lock import: %w", err)
		}
		w.importLock = f
	}
	if err := lockByte(w.importLock, id); err != nil {
		return fmt.Errorf("lock import: %w", err)
	}
	return nil
}

// importsHeld returns which of the ids an open writer holds the lock of,
// in this process or another.
func (db *DB) importsHeld(ids []int64) (map[int64]bool, error) {
	held := map[int64]bool{}
	if len(ids) == 0 {
		return held, nil
	}
	if !byteLocks {
		for _, id := range ids {
			held[id] = true // cannot tell: keep what the row says
		}
		return held, nil
	}
	f, err := os.Open(db.importLockPath())
	if os.IsNotExist(err) {
		return held, nil // no import ever locked one
	}
	if err != nil {
		return nil, fmt.Errorf("read import locks: %w", err)
	}
	defer f.Close()
	for _, id := range ids {
		h, err := byteLocked(f, id)
		if err != nil {
			return nil, fmt.Errorf("read import locks: %w", err)
		}
		held[id] = h
	}
	return held, nil
}

// markInterrupted records as interrupted the imports still running whose
// process ended, in the writer's transaction.
func (w *Writer) markInterrupted() error {
	var ids []int64
	if err := w.each(`SELECT id FROM imports WHERE status = ?`, []any{maildiag.ImportRunning}, func(row []driver.Value) error {
		id, _ := row[0].(int64)
		ids = append(ids, id)
		return nil
	}); err != nil {
		return fmt.Errorf("list running imports: %w", err)
	}
	held, err := w.db.importsHeld(ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if held[id] {
			continue
		}
		if _, err := w.exec(`UPDATE imports SET status = ?, error = ? WHERE id = ?`, maildiag.ImportInterrupted, interruptedError, id); err != nil {
			return fmt.Errorf("record interrupted import: %w", err)
		}
	}
	return nil
}
