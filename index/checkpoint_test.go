package index

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// noisyEvents is n accepted events whose raw JSON does not compress, for
// transactions that write many pages.
func noisyEvents(rng *rand.Rand, tx, n int) []maildiag.Event {
	evs := make([]maildiag.Event, n)
	pad := make([]byte, 1024)
	for i := range evs {
		e := ev(maildiag.Accepted, fmt.Sprintf("tx%d-%d", tx, i), fmt.Sprintf("r%d.%d@d%d.example", tx, i, i%97), at(time.Duration(tx*n+i)*time.Second))
		for j := range pad {
			pad[j] = byte(rng.Uint32())
		}
		e.Raw = fmt.Appendf(e.Raw[:len(e.Raw)-1], `,"pad":%q}`, hex.EncodeToString(pad))
		evs[i] = e
	}
	return evs
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestCommitsCheckpointedBeside checks that what a writer commits reaches
// the index file without waiting for SQLite's automatic checkpoint, whose
// threshold one small transaction is far from.
func TestCommitsCheckpointedBeside(t *testing.T) {
	db, path := mustOpen(t)
	w := mustWriter(t, db)
	before := fileSize(t, path)
	add(t, w, noisyEvents(rand.New(rand.NewPCG(1, 2)), 0, 1000)...)
	if wal := fileSize(t, path+"-wal"); wal < 1<<20 {
		t.Fatalf("write-ahead log holds %d bytes after 2 MB of events, want more than 1 MiB", wal)
	}
	deadline := time.Now().Add(20 * time.Second)
	for fileSize(t, path) < before+1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("index file %d bytes 20 s after the commit (%d before it): nothing was checkpointed", fileSize(t, path), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLogStartsOver checks that the write-ahead log stays bounded while
// the background checkpoints run: SQLite starts it over only after a
// checkpoint the writer's own COMMIT runs past wal_autocheckpoint.
func TestLogStartsOver(t *testing.T) {
	db, path := mustOpen(t)
	w := mustWriter(t, db)
	got, err := w.queryInt("PRAGMA wal_autocheckpoint")
	if err != nil {
		t.Fatal(err)
	}
	if got != walAutoCheckpoint {
		t.Fatalf("writer's wal_autocheckpoint = %d, want %d", got, walAutoCheckpoint)
	}
	// The same rule at a size a test can pass many times: 16 pages, 1 MiB.
	if _, err := w.exec("PRAGMA wal_autocheckpoint = 16"); err != nil {
		t.Fatal(err)
	}
	// Made beforehand, so each transaction begins as soon as the last
	// one committed, as an import's do, while its checkpoint runs.
	rng := rand.New(rand.NewPCG(3, 4))
	var txs [30][]maildiag.Event
	for i := range txs {
		txs[i] = noisyEvents(rng, i, 500)
	}
	var largest int64
	for _, evs := range txs {
		add(t, w, evs...)
		largest = max(largest, fileSize(t, path+"-wal"))
	}
	if n := count(t, db, "SELECT count(*) FROM events"); n != 30*500 {
		t.Fatalf("%d events stored, want %d", n, 30*500)
	}
	// Each transaction writes about 1.5 MiB: a log never started over
	// would hold all 30 of them.
	if largest > 12<<20 {
		t.Errorf("write-ahead log grew to %d bytes over 30 transactions, want at most 12 MiB", largest)
	}
}
