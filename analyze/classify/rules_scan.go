package classify

import (
	"errors"
	"fmt"
	"strings"
)

// The text conditions of both tables are matched in one pass over a reply
// by an Aho-Corasick automaton, so the cost of a classification does not
// grow with the number of text rules. The automaton folds ASCII case and
// treats any run of white space as one space, so "5.7.1  Blocked\n5.7.1"
// needs no lower-casing or copying first: a state entered by a space loops
// on further spaces, which is exact because no pattern starts with one.

// maxPatterns bounds the distinct text patterns of the tables; a hitSet
// has one bit per pattern and lives on the stack.
const maxPatterns = 1024

// hitSet records which patterns occur in a text.
type hitSet [maxPatterns / 64]uint64

func (h *hitSet) set(p uint16)      { h[p>>6] |= 1 << (p & 63) }
func (h *hitSet) has(p uint16) bool { return h[p>>6]&(1<<(p&63)) != 0 }

// any reports whether one of the patterns occurs.
func (h *hitSet) any(ps []uint16) bool {
	for _, p := range ps {
		if h.has(p) {
			return true
		}
	}
	return false
}

const (
	symOther = 0 // a byte no pattern contains
	symSpace = 1 // any ASCII white space

	// A transition's high bit says the target state completes patterns.
	outBit    = 1 << 31
	maxStates = 1 << 16
)

// matcher is a deterministic Aho-Corasick automaton over byte classes.
type matcher struct {
	sym  [256]uint8
	nsym int
	// delta[s*nsym+symbol] is the next state times nsym, so that it indexes
	// delta directly, with outBit set when that state completes patterns.
	delta []uint32
	// outs[outAt[s]:outAt[s+1]] are the patterns that end in state s.
	outAt []int32
	outs  []uint16
	pats  []string // normalised patterns, by id
}

// normPattern lower-cases ASCII and collapses white space runs to one
// space, as the automaton reads text; leading white space is dropped.
func normPattern(s string) string {
	var b strings.Builder
	space := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// newMatcher builds the automaton; pats must be normalised and distinct.
func newMatcher(pats []string) (*matcher, error) {
	if len(pats) > maxPatterns {
		return nil, fmt.Errorf("%d text patterns, at most %d", len(pats), maxPatterns)
	}
	m := &matcher{pats: pats, nsym: 2}
	for i := 0; i < 256; i++ {
		if isSpace(byte(i)) {
			m.sym[i] = symSpace
		}
	}
	for _, p := range pats {
		if p == "" || p[0] == ' ' {
			return nil, errors.New("text patterns must not be empty or start with a space")
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if m.sym[c] != symOther || c == ' ' {
				continue
			}
			if m.nsym == 256 {
				return nil, errors.New("too many distinct bytes in text patterns")
			}
			m.sym[c] = uint8(m.nsym)
			if 'a' <= c && c <= 'z' {
				m.sym[c-'a'+'A'] = uint8(m.nsym)
			}
			m.nsym++
		}
	}

	// The trie, with -1 for a missing edge.
	n := m.nsym
	next := make([]int32, n)
	for i := range next {
		next[i] = -1
	}
	own := [][]uint16{nil}
	label := []int32{symOther} // the symbol that enters each state
	for id, p := range pats {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int32(m.sym[p[i]])
			t := next[s*int32(n)+c]
			if t < 0 {
				t = int32(len(own))
				if t >= maxStates {
					return nil, fmt.Errorf("text patterns need more than %d automaton states", maxStates)
				}
				own = append(own, nil)
				label = append(label, c)
				for j := 0; j < n; j++ {
					next = append(next, -1)
				}
				next[s*int32(n)+c] = t
			}
			s = t
		}
		own[s] = append(own[s], uint16(id))
	}

	// Failure links in breadth-first order turn the trie into a DFA; each
	// state's outputs include those of its failure state.
	states := len(own)
	fail := make([]int32, states)
	outs := make([][]uint16, states)
	queue := make([]int32, 0, states)
	for c := 0; c < n; c++ {
		if t := next[c]; t > 0 {
			queue = append(queue, t)
		} else {
			next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(append([]uint16(nil), own[s]...), outs[fail[s]]...)
		for c := 0; c < n; c++ {
			i := s*int32(n) + int32(c)
			if t := next[i]; t >= 0 {
				fail[t] = next[fail[s]*int32(n)+int32(c)]
				queue = append(queue, t)
			} else {
				next[i] = next[fail[s]*int32(n)+int32(c)]
			}
		}
	}

	// A state entered by a space ignores further spaces.
	for s := 1; s < states; s++ {
		if label[s] == symSpace {
			next[s*n+symSpace] = int32(s)
		}
	}
	m.delta = make([]uint32, len(next))
	for i, t := range next {
		m.delta[i] = uint32(t) * uint32(n)
		if len(outs[t]) > 0 {
			m.delta[i] |= outBit
		}
	}
	m.outAt = make([]int32, states+1)
	for s := 0; s < states; s++ {
		m.outAt[s] = int32(len(m.outs))
		m.outs = append(m.outs, outs[s]...)
	}
	m.outAt[states] = int32(len(m.outs))
	return m, nil
}

// scan adds to h every pattern that occurs in s.
func (m *matcher) scan(s string, h *hitSet) {
	var at uint32 // the current state times nsym
	for i := 0; i < len(s); i++ {
		t := m.delta[at+uint32(m.sym[s[i]])]
		at = t &^ outBit
		if t&outBit != 0 {
			st := at / uint32(m.nsym)
			for _, p := range m.outs[m.outAt[st]:m.outAt[st+1]] {
				h.set(p)
			}
		}
	}
}
