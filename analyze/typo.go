package analyze

import (
	"slices"
	"strings"
)

// commonDomains are mailbox providers' domains that typos are most often
// made of.
var commonDomains = []string{
	"gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "hotmail.com",
	"hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
	"aol.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "mail.ru", "yandex.ru", "protonmail.com",
	"proton.me", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "btinternet.com", "orange.fr",
	"free.fr", "t-online.de", "libero.it", "qq.com", "163.com", "zoho.com", "fastmail.com",
}

// TypoOf suggests the domain a domain is most likely a typo of: a common
// mailbox domain, or one of known (the largest domains in the index), one
// edit away (a swap of two letters is one), or two in a long name of
// about the same length. "" when none is close, or the domain is one of
// them. Two edits in a short name are usually another domain: acme.com is
// not a typo of me.com.
func TypoOf(domain string, known []string) string {
	domain = strings.ToLower(domain)
	best, bestD := "", 3
	for _, list := range [][]string{commonDomains, known} {
		for _, c := range list {
			if c == domain {
				return ""
			}
			if abs(len(c)-len(domain)) >= bestD {
				continue
			}
			if d := editDistance(domain, c, bestD); d < bestD && typoDistance(domain, c, d) {
				best, bestD = c, d
			}
		}
	}
	return best
}

// typoDistance tells whether d edits between two domain names are few
// enough to call one a typo of the other.
func typoDistance(a, b string, d int) bool {
	return d == 1 || d == 2 && len(a) >= 10 && abs(len(a)-len(b)) <= 1
}

// Lookalike is an address close to another one.
type Lookalike struct {
	Address  string `json:"address"`
	Distance int    `json:"edits"`
}

// lookalike tells whether two local parts are near-identical: at most one
// edit apart, or the same once dots, underscores, hyphens and +tags are
// dropped.
func lookalike(a, b string) (int, bool) {
	if a == b {
		return 0, false
	}
	if abs(len(a)-len(b)) <= 1 {
		if d := editDistance(a, b, 2); d <= 1 {
			return d, true
		}
	}
	if na, nb := squash(a), squash(b); na == nb && na != "" {
		return editDistance(a, b, 10), true
	}
	return 0, false
}

// closeLookalike is lookalike without the pairs that are usually two
// people: one edit in a short name, or in its first letter (smoore,
// jmoore).
func closeLookalike(a, b string) (int, bool) {
	d, ok := lookalike(a, b)
	if !ok {
		return 0, false
	}
	if squash(a) == squash(b) {
		return d, true
	}
	return d, min(len(a), len(b)) >= minCloseLocal && a[0] == b[0]
}

// NearLocals are the local parts whose close lookalikes (closeLookalike)
// are sought at one domain, as a filter (Has) a store keeps a domain's
// addresses by, so that it hands over a few of them instead of all: a
// local part is near when it squashes as one of them, or when it starts
// with the same byte and is at most one byte longer or shorter, both at
// least six bytes long.
type NearLocals struct {
	// keys are nearKey of the first bytes and lengths wanted, sorted.
	keys []int64
	// squashes are the squashed local parts, sorted.
	squashes []string
}

// minCloseLocal is the shortest local part closeLookalike lets differ by
// an edit.
const minCloseLocal = 6

// nearKey is a local part's first byte and length in bytes as one number.
func nearKey(first byte, n int) int64 { return int64(first)<<32 | int64(n) }

// NewNearLocals returns the filter for the lookalikes of locals.
func NewNearLocals(locals []string) NearLocals {
	var n NearLocals
	for _, l := range locals {
		n.squashes = append(n.squashes, squash(l))
		if len(l) < minCloseLocal {
			continue
		}
		for d := -1; d <= 1; d++ {
			if len(l)+d >= minCloseLocal {
				n.keys = append(n.keys, nearKey(l[0], len(l)+d))
			}
		}
	}
	slices.Sort(n.keys)
	slices.Sort(n.squashes)
	n.keys, n.squashes = slices.Compact(n.keys), slices.Compact(n.squashes)
	return n
}

// Has tells whether local may be a close lookalike of one of the local
// parts.
func (n NearLocals) Has(local string) bool {
	if len(local) >= minCloseLocal {
		if _, ok := slices.BinarySearch(n.keys, nearKey(local[0], len(local))); ok {
			return true
		}
	}
	_, ok := slices.BinarySearch(n.squashes, squash(local))
	return ok
}

// HasAddress is Has for the local part of an address.
func (n NearLocals) HasAddress(addr string) bool {
	local, _, _ := strings.Cut(addr, "@")
	return n.Has(local)
}

// squash drops the characters people vary in one address.
func squash(local string) string {
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '_', '-':
			return -1
		}
		return r
	}, local)
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance of a and b, or limit when it is limit or more.
func editDistance(a, b string, limit int) int {
	if abs(len(a)-len(b)) >= limit {
		return limit
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// lookalikes finds, among a domain's addresses, the near-identical ones
// of a local part, without comparing every pair: squashed forms are looked
// up, and only addresses of about the same length are compared edit by
// edit.
type lookalikes struct {
	rs       []Recipient
	locals   []string
	bySquash map[string][]int
}

func newLookalikes(rs []Recipient) *lookalikes {
	l := &lookalikes{rs: rs, locals: make([]string, len(rs)), bySquash: map[string][]int{}}
	for i, r := range rs {
		l.locals[i] = localOf(r.Address)
		sq := squash(l.locals[i])
		l.bySquash[sq] = append(l.bySquash[sq], i)
	}
	return l
}

type lookalikeHit struct {
	r     Recipient
	edits int
}

// of returns the addresses near-identical to local; close leaves out the
// pairs that are usually two people (closeLookalike).
func (l *lookalikes) of(local string, close bool) []lookalikeHit {
	var out []lookalikeHit
	seen := map[int]bool{}
	for _, i := range l.bySquash[squash(local)] {
		if l.locals[i] != local {
			seen[i] = true
			out = append(out, lookalikeHit{l.rs[i], editDistance(local, l.locals[i], 10)})
		}
	}
	for i, o := range l.locals {
		if seen[i] || o == local || abs(len(o)-len(local)) > 1 || close && (len(o) == 0 || len(local) == 0 || o[0] != local[0]) {
			continue
		}
		match := lookalike
		if close {
			match = closeLookalike
		}
		if d, ok := match(local, o); ok {
			out = append(out, lookalikeHit{l.rs[i], d})
		}
	}
	return out
}

// domainLetters are the characters of domain names.
const domainLetters = "abcdefghijklmnopqrstuvwxyz0123456789-."

// oneEdit is every name one edit from s: a character left out, swapped
// with the next, changed or added.
func oneEdit(s string) []string {
	seen := map[string]bool{s: true}
	var out []string
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			add(s[:i] + s[i+1:])
			if i+1 < len(s) {
				add(s[:i] + string(s[i+1]) + string(s[i]) + s[i+2:])
			}
		}
		for _, c := range []byte(domainLetters) {
			if i < len(s) {
				add(s[:i] + string(c) + s[i+1:])
			}
			add(s[:i] + string(c) + s[i:])
		}
	}
	return out
}
