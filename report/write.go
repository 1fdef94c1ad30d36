package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/maildiag/maildiag/analyze"
)

// WriteFile renders d to path atomically: into a temporary file in the same
// directory, synced, then renamed over path, so that a reader never sees a
// half-written report and a failed render leaves an existing file as it
// was. The file has mode 0600: it holds email addresses.
func WriteFile(path string, d *analyze.HealthResult, opts Options) error {
	return writeAtomic(path, func(w io.Writer) error { return Render(w, d, opts) })
}

func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp already uses 0600; say so, whatever it does in future.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write report: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
