package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestDocumentedCommandLines: every maildiag command line the README shows
// in its shell blocks, and every example of every --help, names a command
// that exists, with flags it has and arguments it accepts. A renamed flag
// breaks the documentation here rather than for a reader.
func TestDocumentedCommandLines(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "```") {
			in = !in && (l == "```" || l == "```sh")
			continue
		}
		if in {
			lines = append(lines, "README: "+l)
		}
	}
	root := newRootCmd(&streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard, bars: io.Discard}, &globals{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, l := range strings.Split(c.Example, "\n") {
			lines = append(lines, c.CommandPath()+" --help: "+l)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	checked := 0
	carry := ""
	for _, l := range lines {
		where, text, _ := strings.Cut(l, ": ")
		if carry != "" {
			text = carry + "\n" + text
		}
		// A quote left open continues on the next line, as in a shell.
		if _, err := shellWords(text); errors.Is(err, errUnbalanced) {
			carry = text
			continue
		}
		carry = ""
		args := maildiagArgs(t, text)
		if args == nil {
			continue
		}
		checked++
		// A fresh tree for each line: parsed flags stay set on a command.
		root := newRootCmd(&streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard, bars: io.Discard}, &globals{})
		c, rest, err := root.Find(args)
		if err == nil {
			err = c.ParseFlags(rest)
		}
		if err == nil && c.Args != nil {
			err = c.Args(c, c.Flags().Args())
		}
		if err == nil && !c.Runnable() {
			err = errNotRunnable
		}
		if err != nil {
			t.Errorf("%s: %s\n  %v", where, strings.TrimSpace(text), err)
		}
	}
	if carry != "" {
		t.Errorf("a quote is never closed: %q", carry)
	}
	if checked < 50 {
		t.Errorf("checked %d documented command lines; the README and the examples show more", checked)
	}
}

var (
	errNotRunnable = usageErrorf("names a group of commands, not one")
	errUnbalanced  = usageErrorf("unbalanced quote")
)

// maildiagArgs returns the arguments of the first maildiag command of a
// shell line, up to a pipe, a list operator, a redirection or a comment,
// with quotes removed; nil when the line runs no maildiag.
func maildiagArgs(t *testing.T, line string) []string {
	words, err := shellWords(line)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	end := func(w word) bool {
		return !w.quoted && isOperator(w.text)
	}
	start := true
	for i, w := range words {
		switch {
		case end(w):
			start = true
		case start && strings.Contains(w.text, "=") && !strings.HasPrefix(w.text, "-"):
			// an environment assignment before the command
		case start && (w.text == "maildiag" || strings.HasSuffix(w.text, "/maildiag")):
			args := []string{}
			for _, a := range words[i+1:] {
				if end(a) {
					break
				}
				args = append(args, a.text)
			}
			return args
		default:
			start = false
		}
	}
	return nil
}

// isOperator: a word that ends a simple command or redirects it.
func isOperator(w string) bool {
	return w == "|" || w == "||" || w == "&&" || w == ";" || w == "\\" ||
		strings.HasPrefix(w, "#") || strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "2>")
}

// word is one shell word, quotes removed; quoted words are never
// operators.
type word struct {
	text   string
	quoted bool
}

// shellWords splits a line as a POSIX shell would for what the
// documentation shows: single and double quotes, backslash escapes, and
// an unquoted # starting a comment (kept as a word for the caller).
func shellWords(line string) ([]word, error) {
	var words []word
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord, quoted = append(words, word{cur.String(), quoted}), false, false
				cur.Reset()
			}
			continue
		case c == '#' && !inWord:
			return append(words, word{text: line[i:]}), nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, errUnbalanced
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			quoted = true
		case c == '"':
			// Inside double quotes a backslash escapes the next byte.
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errUnbalanced
			}
			quoted = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		default:
			cur.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, word{cur.String(), quoted})
	}
	return words, nil
}
