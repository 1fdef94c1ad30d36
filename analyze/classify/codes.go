package classify

import "strings"

// enhanced is an RFC 3463 status code class.subject.detail; class 0 means
// the event has none.
type enhanced struct{ class, subject, detail int16 }

func (e enhanced) matchAny(ps []enhPattern) bool {
	if e.class == 0 {
		return false
	}
	for _, p := range ps {
		if (p.class == 0 || p.class == e.class) && p.subject == e.subject && p.lo <= e.detail && e.detail <= p.hi {
			return true
		}
	}
	return false
}

// parseEnhanced reads an enhanced code that is the whole string.
func parseEnhanced(s string) (enhanced, bool) {
	e, n := readEnhanced(strings.TrimSpace(s), 0)
	return e, n > 0 && n == len(strings.TrimSpace(s))
}

// EnhancedIn finds the first RFC 3463 enhanced code in a reply, as in
// "smtp; 550-5.1.1 The email account ...", or returns "".
func EnhancedIn(s string) string {
	for i := 0; i < len(s); i++ {
		if _, n := enhancedAt(s, i); n > 0 {
			return s[i : i+n]
		}
	}
	return ""
}

// findEnhanced finds the first enhanced code in a reply: a 2, 4 or 5, a
// dot and two numbers of one to three digits, standing alone: not glued
// to a word nor inside a longer dotted number such as an IP address or
// "4.16.55.1".
func findEnhanced(s string) (enhanced, bool) {
	for i := 0; i < len(s); i++ {
		if e, n := enhancedAt(s, i); n > 0 {
			return e, true
		}
	}
	return enhanced{}, false
}

// enhancedAt reads a code standing alone at s[i:] and returns its length,
// 0 if none.
func enhancedAt(s string, i int) (enhanced, int) {
	if c := s[i]; c != '2' && c != '4' && c != '5' || i > 0 && (isWord(s[i-1]) || s[i-1] == '.') {
		return enhanced{}, 0
	}
	e, n := readEnhanced(s, i)
	if j := i + n; n > 0 && j < len(s) && isWord(s[j]) {
		return enhanced{}, 0
	}
	return e, n
}

func isWord(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// readEnhanced reads a code at s[i:] and returns its length, 0 if none.
func readEnhanced(s string, i int) (enhanced, int) {
	start := i
	if i+1 >= len(s) || (s[i] != '2' && s[i] != '4' && s[i] != '5') || s[i+1] != '.' {
		return enhanced{}, 0
	}
	e := enhanced{class: int16(s[i] - '0')}
	i += 2
	var ok bool
	if e.subject, i, ok = readNumber(s, i); !ok || i >= len(s) || s[i] != '.' {
		return enhanced{}, 0
	}
	if e.detail, i, ok = readNumber(s, i+1); !ok {
		return enhanced{}, 0
	}
	if i < len(s) && (isDigit(s[i]) || s[i] == '.' && i+1 < len(s) && isDigit(s[i+1])) {
		return enhanced{}, 0
	}
	return e, i - start
}

func readNumber(s string, i int) (int16, int, bool) {
	var v int16
	j := i
	for j < len(s) && j-i < 3 && isDigit(s[j]) {
		v = v*10 + int16(s[j]-'0')
		j++
	}
	if j == i || j < len(s) && isDigit(s[j]) {
		return 0, i, false
	}
	return v, j, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// CodeIn reads the basic SMTP code a reply starts with, after an
// optional "smtp;" as in "smtp; 550 5.1.1 ...", or returns 0.
func CodeIn(s string) int {
	s = strings.TrimSpace(s)
	if len(s) >= 5 && strings.EqualFold(s[:5], "smtp;") {
		s = strings.TrimSpace(s[5:])
	}
	if len(s) < 3 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || !isDigit(s[1]) || !isDigit(s[2]) {
		return 0
	}
	if len(s) > 3 && s[3] != ' ' && s[3] != '-' {
		return 0
	}
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
}
