package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	requireECharts(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "week.html")
	// An older, world-readable report is replaced, mode and all.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, sampleData(), Options{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode %o, want 600", got)
	}
	got, _ := os.ReadFile(path)
	var want bytes.Buffer
	if err := Render(&want, sampleData(), Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("file (%d bytes) differs from Render (%d bytes)", len(got), want.Len())
	}
	assertOnly(t, dir, "week.html")
}

func TestWriteAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "week.html")
	if err := os.WriteFile(path, []byte("last week"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := writeAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half a report")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "last week" {
		t.Errorf("failed write changed the file to %q", got)
	}
	assertOnly(t, dir, "week.html")
}

func TestWriteFileNoDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "missing", "week.html"), sampleData(), Options{})
	if err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

// assertOnly fails unless dir holds exactly the named files: no temporary
// file may be left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("directory holds %q, want %q", got, names)
	}
	for i := range got {
		if got[i] != names[i] {
			t.Fatalf("directory holds %q, want %q", got, names)
		}
	}
}
