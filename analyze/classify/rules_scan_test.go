package classify

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveHits is what the automaton must find: each pattern as a substring
// of the text lower-cased with white space runs collapsed.
func naiveHits(pats []string, text string) map[int]bool {
	norm := normPattern(text)
	if text != "" && isSpace(text[0]) {
		norm = " " + norm // normPattern drops leading space; scan does not
	}
	got := make(map[int]bool)
	for i, p := range pats {
		if strings.Contains(norm, p) {
			got[i] = true
		}
	}
	return got
}

func scanHits(m *matcher, text string) map[int]bool {
	var h hitSet
	m.scan(text, &h)
	got := make(map[int]bool)
	for i := range m.pats {
		if h.has(uint16(i)) {
			got[i] = true
		}
	}
	return got
}

func TestMatcherAgreesWithSubstringSearch(t *testing.T) {
	pats := loaded().match.pats
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{" ", "  ", "\n5.7.1 ", "\t", "X", "é", "-", ".", "[", "(s3150)", "ACCESS", "5.1.1"}
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for k := r.IntN(8); k >= 0; k-- {
			if r.IntN(3) == 0 {
				b.WriteString(pieces[r.IntN(len(pieces))])
				continue
			}
			p := pats[r.IntN(len(pats))]
			// Cut, re-case and re-space a pattern so near misses occur.
			if i, j := r.IntN(len(p)+1), r.IntN(len(p)+1); i < j && r.IntN(2) == 0 {
				p = p[i:j]
			}
			if r.IntN(2) == 0 {
				p = strings.ToUpper(p)
			}
			p = strings.ReplaceAll(p, " ", []string{" ", "\n", "  \r\n "}[r.IntN(3)])
			b.WriteString(p)
		}
		text := b.String()
		want, got := naiveHits(pats, text), scanHits(loaded().match, text)
		for i := range want {
			if !got[i] {
				t.Fatalf("text %q: pattern %q not found", text, pats[i])
			}
		}
		for i := range got {
			if !want[i] {
				t.Fatalf("text %q: pattern %q found but absent", text, pats[i])
			}
		}
	}
}

func TestMatcherSmall(t *testing.T) {
	pats := []string{"he", "she", "his", "hers", "a b", "b c", "blocked using "}
	m, err := newMatcher(pats)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]int{
		"ushers":                      {0, 1, 3},
		"HIS":                         {2},
		"a  \n b":                     {4},
		"a b c":                       {4, 5},
		"ab c":                        {5},
		"blocked   using\tzen":        {6},
		"blocked using":               nil,
		"":                            nil,
		"\xff\x00h\xffe":              nil,
		"x blocked using b.barracuda": {6},
	}
	for text, want := range cases {
		got := scanHits(m, text)
		if len(got) != len(want) {
			t.Errorf("scan(%q) found %v, want %v", text, got, want)
			continue
		}
		for _, i := range want {
			if !got[i] {
				t.Errorf("scan(%q) found %v, want %v", text, got, want)
			}
		}
	}
	for _, bad := range [][]string{{""}, {" leading"}} {
		if _, err := newMatcher(bad); err == nil {
			t.Errorf("newMatcher(%q): no error", bad)
		}
	}
	if _, err := newMatcher(make([]string, maxPatterns+1)); err == nil {
		t.Error("too many patterns: no error")
	}
}

func BenchmarkScan(b *testing.B) {
	rows := loadCorpus(b)
	var total int
	for _, r := range rows {
		total += len(r.ev.Reply)
	}
	b.SetBytes(int64(total / len(rows)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var h hitSet
		loaded().match.scan(rows[i%len(rows)].ev.Reply, &h)
	}
}
