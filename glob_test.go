package maildiag

import "testing"

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"mx*.mail.icloud.com", "mx01.mail.icloud.com", true},
		{"mx*.mail.icloud.com", "mx.mail.icloud.com", true},
		{"mx*.mail.icloud.com", "mx01.mail.icloud.com.evil", false},
		{"inbound-smtp.*.amazonaws.com", "inbound-smtp.eu-west-1.amazonaws.com", true},
		{"inbound-smtp.*.amazonaws.com", "inbound-smtp.amazonaws.com", false},
		{"*", "", true},
		{"a*b*c", "abbbc", true},
		{"a*b*c", "acb", false},
		{"", "", true},
		{"", "x", false},
		{"j?hn@*.com", "john@acme.com", true},
		{"j?hn@*.com", "jhn@acme.com", false},
	}
	for _, c := range cases {
		if got := MatchGlob(c.pat, c.s); got != c.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}
