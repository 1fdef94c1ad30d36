package analyze

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// FuzzPattern checks address patterns on any input: parsing and matching
// never panic; a parsed pattern prints as itself (String round-trips
// through ParsePattern); a concrete address's pattern matches that address
// in any ASCII case; *@domain and the bare domain are one pattern and match
// every local part; and Match agrees with a regular expression made from
// the pattern. Fuzz it with
//
//	go test -run='^$' -fuzz=FuzzPattern -fuzztime=60s ./analyze
func FuzzPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"jane@initech.example", "jane"},
		{"  Jane.Doe@Initech.Example ", "JANE.DOE"},
		{"*@acme.com", "x"},
		{"*@*.acme.com", "j.smith"},
		{"j*@acme.com", "john"},
		{"j?ne@acme.com", "jane"},
		{"acme.com", "anyone"},
		{"*a*b*@x?y", "aXb"},
		{"john+tag@gmail.com", "john+tag"},
		{"\"odd local\"@example.com", "odd"},
		{"a@b@c", "a"},
		{"@acme.com", ""},
		{"jane@", "jane"},
		{"a,b@c", "a"},
		{"*", "*"},
		{"?@?", "é"},
		{"Ünïcode@exämple.com", "ẞ"},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, local string) {
		p, err := ParsePattern(s)
		p.Match(s)
		p.Match(local)
		if isAddress(s) {
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", s, err)
			}
			for _, addr := range []string{s, asciiUpper(s), strings.ToLower(s)} {
				if !p.Match(addr) {
					t.Errorf("pattern %q does not match %q", s, addr)
				}
			}
			if !strings.ContainsAny(s, "*?") && !p.Exact() {
				t.Errorf("pattern %q is not exact", s)
			}
		}
		if err != nil {
			return
		}
		if p.Local == "" || p.Domain == "" || strings.Contains(p.Local+p.Domain, "@") {
			t.Fatalf("ParsePattern(%q) = %#v", s, p)
		}
		q, err := ParsePattern(p.String())
		if err != nil || q != p {
			t.Fatalf("ParsePattern(%q) = %#v; its String %q parses to %#v, %v", s, p, p.String(), q, err)
		}
		for _, addr := range []string{s, local, local + "@" + p.Domain, p.String()} {
			// Both take time in the product of the lengths: keep to
			// address sizes, so that the fuzzer does not stall.
			if len(addr) > 512 || len(p.String()) > 512 {
				continue
			}
			if got, want := p.Match(addr), refMatch(p, addr); got != want {
				t.Errorf("pattern %q matches %q: %v, want %v", p, addr, got, want)
			}
		}

		// Every address at a domain: *@domain, or the domain alone.
		all, err := ParsePattern("*@" + p.Domain)
		if err != nil {
			t.Fatalf("ParsePattern(*@%s): %v", p.Domain, err)
		}
		if bare, err := ParsePattern(p.Domain); err != nil || bare != all {
			t.Errorf("ParsePattern(%q) = %#v, %v; want %#v", p.Domain, bare, err, all)
		}
		if !all.AllOfDomain() {
			t.Errorf("%q does not take every address of its domain", all)
		}
		if !strings.ContainsAny(p.Domain, "*?") && !strings.Contains(local, "@") {
			for _, addr := range []string{local + "@" + p.Domain, local + "@" + asciiUpper(p.Domain)} {
				if !all.Match(addr) {
					t.Errorf("%q does not match %q", all, addr)
				}
			}
		}
	})
}

// isAddress tells whether s is one concrete address as ParsePattern takes
// it: one @ with something on both sides, no surrounding space, and none
// of the characters that separate addresses in a list.
func isAddress(s string) bool {
	local, domain, _ := strings.Cut(s, "@")
	return strings.Count(s, "@") == 1 && local != "" && domain != "" &&
		!strings.ContainsFunc(s, unicode.IsSpace) && !strings.ContainsAny(s, ",;<>")
}

func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// refMatch is Pattern.Match written with regular expressions: * is any run
// of bytes and ? one byte, as maildiag.MatchGlob defines them. Each byte
// becomes one rune (Latin-1) so that "." matches one byte, not one UTF-8
// character.
func refMatch(p Pattern, addr string) bool {
	local, domain, ok := strings.Cut(strings.ToLower(addr), "@")
	return ok && globRegexp(p.Local).MatchString(latin1(local)) && globRegexp(p.Domain).MatchString(latin1(domain))
}

func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(glob); i++ {
		switch glob[i] {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(rune(glob[i]))))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}
