package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A long reply is cut to what the terminal leaves beside the other
// columns, with an ellipsis; a short one and the other columns stay whole.
func TestFitLastCutsTheReplyToTheTerminal(t *testing.T) {
	long := "5.7.1 Service unavailable, Client host [198.51.100.10] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/198.51.100.10"
	header := []string{"class", "failures", "sample_reply"}
	rows := [][]string{{"blocklisted", "1200", long}, {"user-unknown", "7", "5.1.1 no such user"}}
	fitLast(header, rows, 80)
	// "user-unknown" (12) + 2, "failures" (8) + 2: 56 columns left.
	if got := utf8.RuneCountInString(rows[0][2]); got != 56 {
		t.Errorf("cut reply has %d characters, want 56: %q", got, rows[0][2])
	}
	if !strings.HasSuffix(rows[0][2], "…") || !strings.HasPrefix(long, strings.TrimSuffix(rows[0][2], "…")) {
		t.Errorf("cut reply %q: want the reply's start and an ellipsis", rows[0][2])
	}
	if rows[1][2] != "5.1.1 no such user" || rows[0][0] != "blocklisted" {
		t.Errorf("short cells changed: %q", rows)
	}
	// No terminal: nothing is cut.
	rows = [][]string{{"blocklisted", "1200", long}}
	fitLast(header, rows, 0)
	if rows[0][2] != long {
		t.Errorf("without a width the reply was cut: %q", rows[0][2])
	}
	// A terminal too narrow for the other columns: the reply keeps 20.
	rows = [][]string{{"blocklisted", "1200", long}}
	fitLast(header, rows, 10)
	if got := utf8.RuneCountInString(rows[0][2]); got != 20 {
		t.Errorf("on a narrow terminal the reply has %d characters, want 20", got)
	}
}
