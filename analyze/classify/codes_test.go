package classify

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var enhancedStrict = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)

// FuzzEnhancedIn: the result is an RFC 3463 code standing on its own
// in the text; a code in a text with no other digits is always found.
func FuzzEnhancedIn(f *testing.F) {
	for _, s := range []string{
		"smtp; 550-5.1.1 The email account that you tried to reach does not exist.",
		"4.7.652 The mail server [xxx.xxx.xxx.xxx] has exceeded the maximum number of connections.",
		"Client host [2.5.1.1] blocked", "10.4.4.1 5.7.1", "5.1.1.", "x5.1.1", "5.1.1x", "5.1.1.2 4.2.2",
	} {
		f.Add(s, uint8(0), uint16(1), uint16(1))
	}
	f.Fuzz(func(t *testing.T, s string, class uint8, sub, det uint16) {
		got := EnhancedIn(s)
		if got != "" {
			if !enhancedStrict.MatchString(got) {
				t.Fatalf("EnhancedIn(%q) = %q, not an enhanced code", s, got)
			}
			if !standsAlone(s, got) {
				t.Fatalf("EnhancedIn(%q) = %q, which is part of a longer token", s, got)
			}
		}
		code := fmt.Sprintf("%c.%d.%d", "245"[class%3], sub%1000, det%1000)
		noDigits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return -1
			}
			return r
		}, s)
		text := noDigits + " " + code + " " + noDigits
		if got := EnhancedIn(text); got != code {
			t.Fatalf("EnhancedIn(%q) = %q, want %q", text, got, code)
		}
	})
}

// standsAlone tells whether code occurs in s not glued to a word or a
// longer dotted number.
func standsAlone(s, code string) bool {
	isWord := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; ; {
		k := strings.Index(s[i:], code)
		if k < 0 {
			return false
		}
		a, b := i+k, i+k+len(code)
		okBefore := a == 0 || !isWord(s[a-1]) && s[a-1] != '.'
		okAfter := b == len(s) || !isWord(s[b]) && !(s[b] == '.' && b+1 < len(s) && s[b+1] >= '0' && s[b+1] <= '9')
		if okBefore && okAfter {
			return true
		}
		i = a + 1
	}
}

// FuzzCodeIn: the result is the leading 3-digit code of the text.
func FuzzCodeIn(f *testing.F) {
	for _, s := range []string{"smtp;550 5.1.1 RESOLVER", "smtp; 550-5.1.1 The email", "SMTP; 421 try later", "5.1.1 text", "2500 x", "550", " 451 x", "OK", "smtp;", "699"} {
		f.Add(s, uint16(550))
	}
	f.Fuzz(func(t *testing.T, s string, n uint16) {
		got := CodeIn(s)
		if got != 0 {
			if got < 200 || got > 599 || got/100 == 3 {
				t.Fatalf("CodeIn(%q) = %d", s, got)
			}
			rest := strings.TrimSpace(s)
			if len(rest) >= 5 && strings.EqualFold(rest[:5], "smtp;") {
				rest = strings.TrimSpace(rest[5:])
			}
			p := strconv.Itoa(got)
			if !strings.HasPrefix(rest, p) || len(rest) > 3 && rest[3] >= '0' && rest[3] <= '9' {
				t.Fatalf("CodeIn(%q) = %d, not the leading code", s, got)
			}
		}
		code := [3]int{200, 400, 500}[n%3] + int(n/3)%100
		suffix := strings.TrimLeft(s, "0123456789")
		for _, text := range []string{strconv.Itoa(code) + " " + suffix, "smtp; " + strconv.Itoa(code) + "-" + suffix, " SMTP;" + strconv.Itoa(code)} {
			if got := CodeIn(text); got != code {
				t.Fatalf("CodeIn(%q) = %d, want %d", text, got, code)
			}
		}
	})
}

func TestEnhancedIn(t *testing.T) {
	for in, want := range map[string]string{
		"smtp; 550-5.1.1 The email account that you tried to reach does not exist.": "5.1.1",
		"4.7.652 The mail server [xxx.xxx.xxx.xxx] has exceeded":                    "4.7.652",
		"550 5.7.26 Unauthenticated email from example.com is not accepted":         "5.7.26",
		"451 4.7.650 The mail server [1.2.3.4] has been temporarily rate limited":   "4.7.650",
		"Client host [2.5.1.1] blocked":                                             "",
		"connect to 10.4.4.1 failed, 5.4.1 then":                                    "5.4.1",
		"version 1.5.1.1":                                                           "",
		"rejected: 5.1.1.":                                                          "5.1.1",
		"5.1.1":                                                                     "5.1.1",
		"x5.1.1 y":                                                                  "",
		"3.1.1 not a class":                                                         "",
		"5.1234.1":                                                                  "",
		"":                                                                          "",
		"No MX for [example.com]":                                                   "",
	} {
		if got := EnhancedIn(in); got != want {
			t.Errorf("EnhancedIn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCodeIn(t *testing.T) {
	for in, want := range map[string]int{
		"smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound": 550,
		"smtp; 550-5.1.1 The email":                 550,
		"SMTP; 421 try later":                       421,
		"  451 4.7.1 greylisted":                    451,
		"250":                                       250,
		"5.1.1 The email account":                   0,
		"2500 too long":                             0,
		"650 not smtp":                              0,
		"No Such User Here":                         0,
		"":                                          0,
		"smtp;":                                     0,
	} {
		if got := CodeIn(in); got != want {
			t.Errorf("CodeIn(%q) = %d, want %d", in, got, want)
		}
	}
}
