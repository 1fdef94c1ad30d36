package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// printable makes text from outside (SMTP replies, bounce-list errors, file
// contents, API messages) safe to show on a terminal: control characters
// but line breaks and tabs, C1 controls, bidirectional overrides and bytes
// that are not UTF-8 become visible escapes (\x1b, \u009b, \u202e), so an
// ESC or OSC sequence a remote server wrote cannot move the cursor, retitle
// the window or hide text. JSON output keeps the exact text, as JSON escapes.
func printable(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && (s[i] >= 0x20 && s[i] != 0x7f || s[i] == '\n' || s[i] == '\t') {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// printableWriter passes everything written through printable: the
// streams of text output (tables, verdicts, messages on stderr) use it, so
// no command has to remember which of its strings came from outside.
type printableWriter struct {
	w io.Writer
}

func (p *printableWriter) Write(b []byte) (int, error) {
	s := printable(string(b))
	if _, err := io.WriteString(p.w, s); err != nil {
		return 0, err
	}
	return len(b), nil
}
