package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evil is what a remote server may write into an SMTP reply: an OSC that
// retitles the terminal, a colour, a cursor move, a bidi override and a
// C1 CSI.
const evil = "550 5.1.1 \x1b]0;pwned\x07\x1b[31mno such user\x1b[2J\u202egnp.exe\u009b1m"

// rawControl reports the first byte or rune a terminal would act on.
func rawControl(s string) (int, bool) {
	for i, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e {
			return i, true
		}
	}
	return 0, false
}

// TestPrintableOutput: trace, failures and suppressed printed the SMTP
// replies and the bounce-list error text with their raw ESC and OSC
// sequences, and import echoed the raw first line of an unknown file.
// Table output shows them escaped; JSON keeps them exact.
func TestPrintableOutput(t *testing.T) {
	db := tempDB(t)
	dir := t.TempDir()
	ev := map[string]any{
		"event": "failed", "id": "evil1", "timestamp": 1763596800.5, "recipient": "jane@evil.example",
		"severity": "permanent", "reason": "bounce", "log-level": "error",
		"delivery-status": map[string]any{"code": 550, "message": evil, "description": evil, "mx-host": "mx.evil.example\x1b[8m"},
		"message":         map[string]any{"headers": map[string]any{"message-id": "m1@mg.x.io", "subject": "Hi\x1b]8;;http://x\x07", "from": "a@mg.x.io", "to": "jane@evil.example"}},
		"domain":          map[string]any{"name": "mg.x.io"},
	}
	line, _ := json.Marshal(ev)
	events := filepath.Join(dir, "events.jsonl")
	os.WriteFile(events, append(line, '\n'), 0o600)
	bounces := filepath.Join(dir, "bounces.csv")
	os.WriteFile(bounces, []byte("address,code,error,created_at\njane@evil.example,550,\""+evil+"\",\"Thu, 20 Nov 2025 01:49:40 UTC\"\n"), 0o600)
	unknown := filepath.Join(dir, "notes.txt")
	os.WriteFile(unknown, []byte("hello \x1b]0;pwned\x07 world\n"), 0o600)

	var outputs []string
	runAll := func(args ...string) (int, string) {
		code, out, errs := run(t, "", append([]string{"--db", db, "--now", "2026-11-20T00:00:00Z"}, args...)...)
		outputs = append(outputs, strings.Join(args, " ")+"\x00"+out, strings.Join(args, " ")+" (stderr)\x00"+errs)
		return code, out + errs
	}
	if code, out := runAll("import", events); code != 0 {
		t.Fatalf("import: exit %d: %s", code, out)
	}
	if code, out := runAll("import", "--sending-domain", "mg.x.io", bounces); code != 0 {
		t.Fatalf("import bounces: exit %d: %s", code, out)
	}
	runAll("import", unknown)
	for _, args := range [][]string{
		{"trace", "jane@evil.example"},
		{"failures", "--since", "3650d"},
		{"suppressed", "*@evil.example"},
	} {
		code, out := runAll(args...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", args[0], code, out)
		}
		if !strings.Contains(out, `\x1b]0;pwned\x07`) {
			t.Errorf("%s: the reply is not shown escaped:\n%s", args[0], out)
		}
	}
	for _, o := range outputs {
		name, text, _ := strings.Cut(o, "\x00")
		if i, ok := rawControl(text); ok {
			t.Errorf("%s: a raw control character at %d: %q", name, i, text[max(0, i-20):min(len(text), i+20)])
		}
	}
	// JSON is exact.
	code, out, _ := run(t, "", "--db", db, "--now", "2026-11-20T00:00:00Z", "--output", "json", "trace", "jane@evil.example")
	if code != 0 || !strings.Contains(out, `\u001b]0;pwned\u0007`) {
		t.Errorf("trace --output json: exit %d, the reply not as JSON escapes: %.500s", code, out)
	}
}

func TestPrintable(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain 550 5.1.1 text", "plain 550 5.1.1 text"},
		{"line\nbreak\ttab", "line\nbreak\ttab"},
		{"esc\x1b[31mred", `esc\x1b[31mred`},
		{"osc\x1b]0;title\x07", `osc\x1b]0;title\x07`},
		{"cr\rover", `cr\x0dover`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b1m", `c1\u009b1m`},
		{"bidi\u202eexe.txt", `bidi\u202eexe.txt`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"ünïcode ok — ✓", "ünïcode ok — ✓"},
	} {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
