package analyze

import (
	"math/rand/v2"
	"testing"
)

// Every close lookalike of a local part is near it: a store that filters
// by NearLocals loses none.
func TestNearLocalsHoldCloseLookalikes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{"a", "b", "j", "x", ".", "_", "-", "+", "é", "è", "0"}
	local := func() string {
		s := ""
		for range 3 + r.IntN(8) {
			s += parts[r.IntN(len(parts))]
		}
		return s
	}
	// Variants one edit or one separator away, as lookalikes are.
	vary := func(s string) string {
		i := r.IntN(len(s) + 1)
		switch r.IntN(4) {
		case 0:
			return s[:i] + parts[r.IntN(len(parts))] + s[i:]
		case 1:
			if i < len(s) {
				return s[:i] + s[i+1:]
			}
		case 2:
			if i < len(s) {
				return s[:i] + parts[r.IntN(len(parts))] + s[i+1:]
			}
		}
		return s + "+tag"
	}
	pairs, near := 0, 0
	for range 200_000 {
		a := local()
		b := vary(a)
		if r.IntN(2) == 0 {
			b = vary(b)
		}
		n := NewNearLocals([]string{local(), a})
		if _, ok := closeLookalike(a, b); ok {
			pairs++
			if !n.Has(b) {
				t.Fatalf("%q is a close lookalike of %q but not near it", b, a)
			}
		}
		if n.Has(b) {
			near++
		}
	}
	if pairs < 1000 {
		t.Fatalf("only %d close pairs tried", pairs)
	}
	if !NewNearLocals([]string{"jean.dupont"}).Has("jeandupont+x") || NewNearLocals([]string{"jean.dupont"}).Has("xeandupont") {
		t.Error("jean.dupont: near jeandupont+x, not near xeandupont")
	}
	t.Logf("%d close pairs, %d near of 200000", pairs, near)
}
