package ingest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/maildiag/maildiag"
)

// Emitted batches' Events slices are reused for later batches; the events
// emit copied keep their values.
func TestEventsSlicesReused(t *testing.T) {
	var in bytes.Buffer
	const n = 3000
	for i := range n {
		fmt.Fprintf(&in, `{"event":"delivered","timestamp":%d.5,"id":"ev%04d","recipient":"r%d@x.example","message":{"headers":{"message-id":"m%d@s.example"}}}`+"\n",
			1700000000+i, i, i, i)
	}
	arrays := map[*maildiag.Event]int{}
	var kept []maildiag.Event
	batches := 0
	_, err := Read(context.Background(), &in, Options{ChunkSize: 4096, Workers: 2, SendingDomain: "s.example"}, func(b *Batch) error {
		batches++
		if cap(b.Events) > 0 {
			arrays[&b.Events[:1][0]]++
		}
		kept = append(kept, b.Events...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if batches < 20 {
		t.Fatalf("%d batches, want many for the test to mean anything", batches)
	}
	if len(arrays) >= batches/2 {
		t.Errorf("%d batches used %d Events arrays, want them reused", batches, len(arrays))
	}
	if len(kept) != n {
		t.Fatalf("got %d events, want %d", len(kept), n)
	}
	for i, ev := range kept {
		if want := fmt.Sprintf("ev%04d", i); ev.ID != want || ev.Recipient != fmt.Sprintf("r%d@x.example", i) {
			t.Fatalf("event %d: id %q recipient %q, want %q r%d@x.example", i, ev.ID, ev.Recipient, want, i)
		}
	}
}
