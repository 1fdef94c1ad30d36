package mgserver

import (
	"reflect"
	"strconv"
	"testing"
)

// FuzzFilterExpr checks the filter-expression parser on any input: no
// panics; the same text always parses to the same expression; an
// expression written back out (renderExpr, fully parenthesised) parses to
// the same expression, and writes out the same again; parentheses around
// an expression and NOT before it mean what they say; and a compiled
// filter evaluates on any event of any field without panicking, refusing
// comparisons where the field is not a number. Fuzz it with
//
//	go test -run='^$' -fuzz=FuzzFilterExpr -fuzztime=60s ./mgserver
func FuzzFilterExpr(f *testing.F) {
	for _, s := range []string{
		"failed", "rejected OR failed", "NOT delivered", "-failed", "NOT (delivered OR failed)",
		"password reset", "password AND jane", `"reset your password"`, "password -jane",
		"transactional AND NOT password-reset", ">10000 <12000", ">=15000 <=15000", "15000",
		"<20261101.1.ABC@mg.brightcart.io>", "a OR b c", "a b OR c", "(a OR b) c", "NOT NOT a",
		"--a", "-", "->5", "NOT >5", ">", ">=", "<=-5", ">+5", `""`, `"a" "b"`, "and or not",
		"", "(", ")", "(a", "a)", "OR", "a OR", "AND a", "NOT", `"open`, "\t\r\n", "a\vb",
	} {
		f.Add(s)
	}
	events := []*Event{
		{Type: "failed", Severity: "permanent", Recipient: "Jane.Doe@Initech.example", MessageID: "20261101.1.ABC@mg.brightcart.io",
			from: "Brightcart <no-reply@mg.brightcart.io>", to: "jane.doe@initech.example", subject: "Reset your password, Jane.",
			tags: []string{"password-reset"}, attachments: []string{"invoice.pdf"}, size: 15000},
		{size: -1},
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := parseExpr(s)
		y, err2 := parseExpr(s)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(x, y) {
			t.Fatalf("%q parses to %#v, %v, then to %#v, %v", s, x, err, y, err2)
		}
		for _, name := range []string{"event", "severity", "recipient", "message-id", "tags", "list", "attachment", "from", "to", "subject", "size"} {
			match, cerr := compileFilters([][2]string{{name, s}})
			field, _ := fieldByName(name)
			if wantErr := err != nil || (!field.numeric() && hasCompare(x)); (cerr != nil) != wantErr {
				t.Fatalf("%s=%q: compile error %v, want one: %v", name, s, cerr, wantErr)
			}
			if cerr == nil {
				for _, e := range events {
					match(e)
				}
			}
		}
		if err != nil {
			return
		}
		r := renderExpr(x)
		back, err := parseExpr(r)
		if err != nil || !reflect.DeepEqual(back, x) {
			t.Fatalf("%q parses to %#v, written back as %q, which parses to %#v, %v", s, x, r, back, err)
		}
		if r2 := renderExpr(back); r2 != r {
			t.Fatalf("%q is written %q, then %q", s, r, r2)
		}
		if p, err := parseExpr("(" + s + ")"); err != nil || !reflect.DeepEqual(p, x) {
			t.Fatalf("(%s) parses to %#v, %v; want %#v", s, p, err, x)
		}
		if n, err := parseExpr("NOT (" + s + ")"); err != nil || !reflect.DeepEqual(n, notExpr{x}) {
			t.Fatalf("NOT (%s) parses to %#v, %v; want NOT %#v", s, n, err, x)
		}
	})
}

// renderExpr writes an expression in the syntax parseExpr reads, every
// AND and OR in parentheses. A negated word is written -word: parseExpr
// reads a word that starts with "-" as a negation, so a term like "-x"
// exists only under one ("--x").
func renderExpr(x expr) string {
	switch x := x.(type) {
	case andExpr:
		return "(" + renderExpr(x.a) + " AND " + renderExpr(x.b) + ")"
	case orExpr:
		return "(" + renderExpr(x.a) + " OR " + renderExpr(x.b) + ")"
	case notExpr:
		if t, ok := x.x.(termExpr); ok && !t.phrase {
			return "-" + t.s
		}
		return "NOT " + renderExpr(x.x)
	case termExpr:
		if x.phrase {
			return `"` + x.s + `"`
		}
		return x.s
	case cmpExpr:
		return x.op + strconv.FormatInt(x.n, 10)
	}
	panic("renderExpr: unknown expression")
}
