package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSummary(t *testing.T) {
	events := readFile(t, eventsFile)
	webhooks := readFile(t, webhooksFile)
	csvIn := []byte("address,created_at\na@x.com,\nb@x.com,\nnot-an-address,\n")
	tests := []struct {
		name                   string
		in                     []byte
		opts                   Options
		gzip                   bool
		shapes                 map[string]int
		events, sups, rejected int
	}{
		{"events.jsonl", events, Options{}, false, map[string]int{"events-api": 47, "logs-api": 2}, 49, 0, 0},
		{"events.jsonl.gz", gz(t, events), Options{}, true, map[string]int{"events-api": 47, "logs-api": 2}, 49, 0, 0},
		{"webhooks.jsonl", webhooks, Options{}, false, map[string]int{"webhook": 8, "legacy-webhook": 1}, 9, 0, 3},
		{"webhooks.jsonl multi-member gz", multiGz(t, webhooks[:100], webhooks[100:]), Options{ChunkSize: 64}, true, map[string]int{"webhook": 8, "legacy-webhook": 1}, 9, 0, 3},
		{"complaints csv", csvIn, Options{SendingDomain: "mg.x.com"}, false, map[string]int{"suppression-csv": 2}, 0, 2, 1},
		{"events csv", []byte(eventsCSV), Options{}, false, map[string]int{"csv": 4}, 4, 0, 1},
		{"empty page", []byte(`{"items":[],"paging":{}}`), Options{}, false, map[string]int{}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progress []int64
			tt.opts.Progress = func(n int64) { progress = append(progress, n) }
			r := mustRead(t, tt.in, tt.opts)
			s := r.sum
			if s.SHA256 != sha(tt.in) {
				t.Errorf("SHA256 %s, want %s", s.SHA256, sha(tt.in))
			}
			if s.Bytes != int64(len(tt.in)) {
				t.Errorf("Bytes %d, want %d", s.Bytes, len(tt.in))
			}
			if s.Gzip != tt.gzip {
				t.Errorf("Gzip %v, want %v", s.Gzip, tt.gzip)
			}
			if !mapsEqual(s.Shapes, tt.shapes) {
				t.Errorf("Shapes %v, want %v", s.Shapes, tt.shapes)
			}
			if s.Events != tt.events || s.Suppressions != tt.sups || s.Rejects != tt.rejected {
				t.Errorf("events/suppressions/rejects %d/%d/%d, want %d/%d/%d", s.Events, s.Suppressions, s.Rejects, tt.events, tt.sups, tt.rejected)
			}
			if len(progress) == 0 || progress[len(progress)-1] != int64(len(tt.in)) {
				t.Errorf("progress %v, want it to end at %d", progress, len(tt.in))
			}
			for i := 1; i < len(progress); i++ {
				if progress[i] <= progress[i-1] {
					t.Errorf("progress not increasing: %v", progress)
					break
				}
			}
		})
	}
}

// TestBatchBytesJSONLines: the batches of a JSON lines file cover it.
func TestBatchBytesJSONLines(t *testing.T) {
	in := readFile(t, eventsFile)
	for _, chunk := range []int{64, 4096, 0} {
		r := mustRead(t, in, Options{ChunkSize: chunk})
		if r.bytes != int64(len(in)) {
			t.Errorf("chunk %d: batches cover %d bytes, want %d", chunk, r.bytes, len(in))
		}
		if chunk == 64 && r.batches < 40 {
			t.Errorf("chunk 64: %d batches, want many", r.batches)
		}
	}
}

// bigInput is the sample events repeated to make many chunks.
func bigInput(t testing.TB, copies int) []byte {
	t.Helper()
	return bytes.Repeat(readFile(t, eventsFile), copies)
}

// waitGoroutines waits for the goroutine count to fall back to base+margin.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	const margin = 2
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+margin {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, started with %d:\n%s", n, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEmitErrorStops(t *testing.T) {
	in := bigInput(t, 40) // ~1.2 MB, 49*40 events
	stop := errors.New("stop here")
	for _, opts := range []Options{{Workers: 4, ChunkSize: 4096}, {Workers: 1, ChunkSize: 64}, {Workers: 8, ChunkSize: 100}} {
		base := runtime.NumGoroutine()
		calls := 0
		sum, err := Read(context.Background(), bytes.NewReader(in), opts, func(b *Batch) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Errorf("%+v: err = %v, want the emit error", opts, err)
		}
		if calls != 3 {
			t.Errorf("%+v: emit called %d times, want 3 (not again after its error)", opts, calls)
		}
		if sum != nil && sum.Events >= 49*40 {
			t.Errorf("%+v: summary counts %d events: Read did not stop", opts, sum.Events)
		}
		waitGoroutines(t, base)
	}
}

// TestEmitErrorStopsOtherShapes: the same for the array and CSV producers.
func TestEmitErrorStopsOtherShapes(t *testing.T) {
	var arr bytes.Buffer
	arr.WriteString("[")
	ls := lines(readFile(t, eventsFile))
	for i := range 2000 {
		if i > 0 {
			arr.WriteString(",\n")
		}
		arr.Write(ls[i%len(ls)])
	}
	arr.WriteString("]")
	csvIn := "timestamp,event,id\n" + strings.Repeat("1,delivered,a\n", 20000)
	stop := errors.New("stop")
	for name, in := range map[string][]byte{"array": arr.Bytes(), "csv": []byte(csvIn), "gzip csv": gz(t, []byte(csvIn))} {
		base := runtime.NumGoroutine()
		calls := 0
		_, err := Read(context.Background(), bytes.NewReader(in), Options{Workers: 4, ChunkSize: 256}, func(*Batch) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("%s: err %v after %d calls, want the emit error after 1", name, err, calls)
		}
		waitGoroutines(t, base)
	}
}

func TestContextCancelStops(t *testing.T) {
	in := bigInput(t, 40)
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls, events int
	_, err := Read(ctx, bytes.NewReader(in), Options{Workers: 4, ChunkSize: 4096}, func(b *Batch) error {
		calls++
		events += len(b.Events)
		if calls == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if events >= 49*40 {
		t.Errorf("all %d events emitted after the cancel", events)
	}
	waitGoroutines(t, base)
}

// TestContextCancelledBefore: a context cancelled before Read is called
// stops it every time.
func TestContextCancelledBefore(t *testing.T) {
	in := readFile(t, eventsFile)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ok atomic.Int32
	for range 50 {
		_, err := Read(ctx, bytes.NewReader(in), Options{}, func(*Batch) error { return nil })
		if !errors.Is(err, context.Canceled) {
			ok.Add(1)
		}
	}
	if n := ok.Load(); n > 0 {
		t.Errorf("%d of 50 reads with a cancelled context did not return context.Canceled", n)
	}
}

// TestUnknownShapeNoLeak: the early error paths stop every goroutine.
func TestUnknownShapeNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	for _, in := range []string{"", "name,age\n", `{"foo":1}` + "\n", "\x1f\x8b junk"} {
		if _, err := Read(context.Background(), strings.NewReader(in), Options{Workers: 8}, func(*Batch) error { return nil }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	waitGoroutines(t, base)
}
