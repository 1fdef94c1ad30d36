package mgserver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Mailgun's filter expressions (Events API): "foo bar" and "foo AND bar"
// need both terms, "foo OR bar" either, "NOT foo" and "-foo" exclude a
// term, a quoted "foo bar" is a literal phrase, ">10000 <20000" compare
// numbers (size only), and parentheses group. There is no wildcard.

// expr is a parsed filter expression.
type expr interface {
	eval(e *Event, f field) bool
}

type andExpr struct{ a, b expr }
type orExpr struct{ a, b expr }
type notExpr struct{ x expr }
type termExpr struct {
	s      string // lower case
	phrase bool
}
type cmpExpr struct {
	op string
	n  int64
}

func (x andExpr) eval(e *Event, f field) bool { return x.a.eval(e, f) && x.b.eval(e, f) }
func (x orExpr) eval(e *Event, f field) bool  { return x.a.eval(e, f) || x.b.eval(e, f) }
func (x notExpr) eval(e *Event, f field) bool { return !x.x.eval(e, f) }
func (x termExpr) eval(e *Event, f field) bool {
	if x.phrase {
		return f.phrase(e, x.s)
	}
	return f.term(e, x.s)
}
func (x cmpExpr) eval(e *Event, f field) bool { return f.compare(e, x.op, x.n) }

// filter is one compiled filter parameter.
type filter struct {
	f field
	x expr
}

// compileFilters compiles the filter parameters of a query (name, value
// pairs); all of them must match, as Mailgun combines repeated fields.
func compileFilters(params [][2]string) (func(*Event) bool, error) {
	var fs []filter
	for _, p := range params {
		f, ok := fieldByName(p[0])
		if !ok {
			return nil, fmt.Errorf("%q is not a filter field", p[0])
		}
		x, err := parseExpr(p[1])
		if err != nil {
			return nil, fmt.Errorf("filter %s=%q: %w", p[0], p[1], err)
		}
		if !f.numeric() && hasCompare(x) {
			return nil, fmt.Errorf("filter %s=%q: range expressions apply to numeric fields only", p[0], p[1])
		}
		fs = append(fs, filter{f, x})
	}
	return func(e *Event) bool {
		for _, f := range fs {
			if !f.x.eval(e, f.f) {
				return false
			}
		}
		return true
	}, nil
}

func hasCompare(x expr) bool {
	switch x := x.(type) {
	case andExpr:
		return hasCompare(x.a) || hasCompare(x.b)
	case orExpr:
		return hasCompare(x.a) || hasCompare(x.b)
	case notExpr:
		return hasCompare(x.x)
	case cmpExpr:
		return true
	}
	return false
}

// Tokens of the expression language.
type tokKind int

const (
	tokWord tokKind = iota
	tokPhrase
	tokOpen
	tokClose
)

type token struct {
	kind tokKind
	s    string
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokOpen, "("})
			i++
		case c == ')':
			out = append(out, token{tokClose, ")"})
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			out = append(out, token{tokPhrase, s[i+1 : i+1+j]})
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()\"", rune(s[j])) {
				j++
			}
			out = append(out, token{tokWord, s[i:j]})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks []token
	i    int
}

func parseExpr(s string) (expr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty expression")
	}
	p := &parser{toks: toks}
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i].s)
	}
	return x, nil
}

func (p *parser) peekWord(w string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == tokWord && p.toks[p.i].s == w
}

func (p *parser) or() (expr, error) {
	x, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("OR") {
		p.i++
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		x = orExpr{x, y}
	}
	return x, nil
}

func (p *parser) and() (expr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.kind == tokClose || p.peekWord("OR") {
			break
		}
		if p.peekWord("AND") {
			p.i++
		}
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		x = andExpr{x, y}
	}
	return x, nil
}

func (p *parser) unary() (expr, error) {
	if p.i >= len(p.toks) {
		return nil, errors.New("expression ends early")
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case tokOpen:
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != tokClose {
			return nil, errors.New("missing )")
		}
		p.i++
		return x, nil
	case tokClose:
		return nil, errors.New("unexpected )")
	case tokPhrase:
		return termExpr{strings.ToLower(t.s), true}, nil
	}
	switch w := t.s; {
	case w == "NOT":
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	case w == "AND" || w == "OR":
		return nil, fmt.Errorf("unexpected %s", w)
	case len(w) > 1 && w[0] == '-':
		return notExpr{termExpr{strings.ToLower(w[1:]), false}}, nil
	case w[0] == '>' || w[0] == '<':
		// ">10000" compares; "<id@host>" is a message id.
		op, num := w[:1], w[1:]
		if strings.HasPrefix(num, "=") {
			op, num = w[:2], w[2:]
		}
		if n, err := strconv.ParseInt(num, 10, 64); err == nil {
			return cmpExpr{op, n}, nil
		}
	}
	return termExpr{strings.ToLower(t.s), false}, nil
}

// field is how one filter field of an event is matched.
type field interface {
	term(e *Event, t string) bool
	phrase(e *Event, p string) bool
	numeric() bool
	compare(e *Event, op string, n int64) bool
}

func fieldByName(name string) (field, bool) {
	switch name {
	case "event":
		return exactField(func(e *Event) []string { return []string{e.Type} }), true
	case "severity":
		return exactField(func(e *Event) []string { return []string{e.Severity} }), true
	case "recipient":
		return exactField(func(e *Event) []string { return []string{e.Recipient} }), true
	case "message-id":
		return messageIDField{}, true
	case "tags":
		return exactField(func(e *Event) []string { return e.tags }), true
	case "list":
		return exactField(func(e *Event) []string { return []string{e.list} }), true
	case "attachment":
		return exactField(func(e *Event) []string { return e.attachments }), true
	case "from":
		return textField(func(e *Event) string { return e.from }), true
	case "to":
		return textField(func(e *Event) string { return e.to }), true
	case "subject":
		return textField(func(e *Event) string { return e.subject }), true
	case "size":
		return sizeField{}, true
	}
	return nil, false
}

// exactField matches terms against whole values: an address, a type, a tag.
type exactField func(e *Event) []string

func (f exactField) term(e *Event, t string) bool {
	for _, v := range f(e) {
		if v != "" && strings.EqualFold(v, t) {
			return true
		}
	}
	return false
}

func (f exactField) phrase(e *Event, p string) bool   { return f.term(e, p) }
func (exactField) numeric() bool                      { return false }
func (exactField) compare(*Event, string, int64) bool { return false }

// messageIDField matches the Message-Id with or without angle brackets.
type messageIDField struct{}

func (messageIDField) term(e *Event, t string) bool {
	return e.MessageID != "" && strings.EqualFold(e.MessageID, strings.Trim(t, "<>"))
}

func (f messageIDField) phrase(e *Event, p string) bool   { return f.term(e, p) }
func (messageIDField) numeric() bool                      { return false }
func (messageIDField) compare(*Event, string, int64) bool { return false }

// textField matches terms against the words and addresses of a header:
// "Brightcart <no-reply@mg.brightcart.io>" has the terms "brightcart" and
// "no-reply@mg.brightcart.io"; a term made of several words is a phrase.
type textField func(e *Event) string

func (f textField) term(e *Event, t string) bool {
	v := f(e)
	if v == "" {
		return false
	}
	if len(words(t)) > 1 {
		return f.phrase(e, t)
	}
	t = strings.Trim(t, edgePunct)
	for _, w := range words(v) {
		if strings.EqualFold(strings.Trim(w, edgePunct), t) {
			return true
		}
	}
	return false
}

func (f textField) phrase(e *Event, p string) bool {
	return p != "" && strings.Contains(strings.ToLower(f(e)), p)
}

func (textField) numeric() bool                      { return false }
func (textField) compare(*Event, string, int64) bool { return false }

// edgePunct is trimmed off words before comparing: "Hello." is "hello".
const edgePunct = ".,;:!?'-"

// words splits a header value into terms: addresses stay whole, other
// text breaks at anything but letters, digits and address characters.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@.-_+'%", r))
	})
}

// sizeField compares the message size; a bare number must equal it.
type sizeField struct{}

func (f sizeField) term(e *Event, t string) bool {
	n, err := strconv.ParseInt(t, 10, 64)
	return err == nil && f.compare(e, "=", n)
}

func (f sizeField) phrase(e *Event, p string) bool { return f.term(e, p) }
func (sizeField) numeric() bool                    { return true }

func (sizeField) compare(e *Event, op string, n int64) bool {
	if e.size < 0 {
		return false
	}
	v := int64(e.size)
	switch op {
	case ">":
		return v > n
	case ">=":
		return v >= n
	case "<":
		return v < n
	case "<=":
		return v <= n
	}
	return v == n
}
