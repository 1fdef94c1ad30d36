package index

import (
	"strconv"
	"testing"
)

func TestBloomHasNoFalseNegatives(t *testing.T) {
	var f bloom
	const n = 600_000 // three layers
	for i := range n {
		f.add(hash63("a" + strconv.Itoa(i) + "@x.example"))
	}
	if len(f.layers) < 2 {
		t.Fatalf("%d layers for %d hashes, want it to have grown", len(f.layers), n)
	}
	for i := range n {
		if !f.mayHave(hash63("a" + strconv.Itoa(i) + "@x.example")) {
			t.Fatalf("address %d added but not found", i)
		}
	}
	// Absent hashes: a few percent "maybe" at most.
	maybe := 0
	for i := range 100_000 {
		if f.mayHave(hash63("b" + strconv.Itoa(i) + "@x.example")) {
			maybe++
		}
	}
	if maybe > 3000 {
		t.Errorf("%d of 100000 absent hashes answered maybe, want at most 3%%", maybe)
	}
	f.reset()
	if f.mayHave(hash63("a0@x.example")) {
		t.Error("a reset filter still has an address")
	}
}
