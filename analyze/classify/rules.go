package classify

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/maildiag/maildiag"
)

// The classification rules and the gateway table are data, embedded so
// that a maintainer extends them without writing Go; see the top of each
// file for its format.
var (
	//go:embed rules.txt
	rulesData string
	//go:embed gateways.txt
	gatewaysData string
)

// RulesVersion identifies the embedded rules and gateway tables. The index
// stores it with derived classes and re-derives them when it changes.
var RulesVersion = tablesVersion(rulesData, gatewaysData)

func tablesVersion(rules, gateways string) string {
	h := sha256.New()
	h.Write([]byte(rules))
	h.Write([]byte{0})
	h.Write([]byte(gateways))
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// Rule is one classification rule as written in rules.txt.
type Rule struct {
	ID         string // stable id, shown as "decided by rule ID"
	Class      string // the failure class it assigns
	Hard       bool   // whether failures it decides are hard
	Line       int    // line number in rules.txt
	Conditions string // the conditions as written
}

// rules returns the classification rules in the order they are tried.
func rules() []Rule {
	out := make([]Rule, len(loaded().rules))
	for i := range loaded().rules {
		out[i] = loaded().rules[i].Rule
	}
	return out
}

// ruleOf returns the rule with the given id.
func ruleOf(id string) (Rule, bool) {
	i, ok := loaded().ruleIndex[id]
	if !ok {
		return Rule{}, false
	}
	return loaded().rules[i].Rule, true
}

// tables is the compiled form of both embedded files. It is built once
// and never written again, so any number of goroutines may use it.
type tables struct {
	rules         []rule
	ruleIndex     map[string]int
	gateways      []gatewayEntry
	domainEntries map[string][]int // recipient domain -> gateway entries naming it
	mxSuffix      map[string][]int // host pattern -> gateway entries naming it
	mxGlob        []int            // gateway entries with a * in a host pattern
	match         *matcher
}

// loaded compiles the tables when first needed: commands that never
// classify (status, query, report) do not pay for it at start-up.
var loaded = sync.OnceValue(func() *tables { return mustLoad(rulesData, gatewaysData) })

func mustLoad(rules, gateways string) *tables {
	t, err := load(rules, gateways)
	if err != nil {
		panic("analyze: embedded tables: " + err.Error())
	}
	return t
}

func load(rules, gateways string) (*tables, error) {
	var pt patterns
	t := &tables{}
	var err error
	if t.gateways, err = parseGateways(gateways, &pt); err != nil {
		return nil, fmt.Errorf("gateways.txt:%w", err)
	}
	names := make(map[string]string)
	for _, g := range t.gateways {
		if g.name != providerName {
			names[strings.ToLower(g.name)] = g.name
		}
	}
	t.domainEntries = domainIndex(t.gateways)
	t.mxSuffix, t.mxGlob = mxIndex(t.gateways)
	if t.rules, err = parseRules(rules, &pt, names); err != nil {
		return nil, fmt.Errorf("rules.txt:%w", err)
	}
	t.ruleIndex = make(map[string]int, len(t.rules))
	for i, r := range t.rules {
		t.ruleIndex[r.ID] = i
	}
	if t.match, err = newMatcher(pt.list); err != nil {
		return nil, err
	}
	return t, nil
}

// rule is a compiled Rule. Empty conditions match anything.
type rule struct {
	Rule
	kinds    uint8 // kindFailed | kindRejected
	delayed  int8  // 1 yes, -1 no
	severity uint8 // sevPermanent or sevTemporary
	codes    []span
	reasons  []string
	enh      []enhPattern
	gateways []string
	texts    [][]uint16 // every group must have one pattern in the text
}

type span struct{ lo, hi int }

// enhPattern matches an enhanced status code: class 0 is any class, and
// the detail may be a range.
type enhPattern struct {
	class, subject int16
	lo, hi         int16
}

const (
	kindFailed = 1 << iota
	kindRejected
)

const (
	sevOther uint8 = iota
	sevPermanent
	sevTemporary
)

func parseRules(data string, pt *patterns, gateways map[string]string) ([]rule, error) {
	var rules []rule
	err := eachDataLine(data, "rule", func(no int, line string, fs []string) (string, error) {
		r, err := parseRule(fs, pt, gateways)
		if err != nil {
			return "", err
		}
		r.Line = no
		r.Conditions = conditionText(line)
		rules = append(rules, r)
		return r.ID, nil
	})
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, errors.New("1: no rules")
	}
	if last := rules[len(rules)-1]; last.Conditions != "" && !onlyHard(last) {
		return nil, fmt.Errorf("%d: rule %s: the last rule must have no conditions, so that every failure gets a class", last.Line, last.ID)
	}
	return rules, nil
}

func onlyHard(r rule) bool {
	return r.kinds == 0 && r.delayed == 0 && r.severity == 0 && r.codes == nil && r.reasons == nil &&
		r.enh == nil && r.gateways == nil && r.texts == nil
}

// conditionText is what follows the id and class on a rule's line.
func conditionText(line string) string {
	s := strings.TrimSpace(line)
	for i := 0; i < 2; i++ {
		j := strings.IndexAny(s, " \t")
		if j < 0 {
			return ""
		}
		s = strings.TrimSpace(s[j:])
	}
	return s
}

func parseRule(fs []string, pt *patterns, gateways map[string]string) (rule, error) {
	var r rule
	r.ID = fs[0]
	if !validID(r.ID) {
		return r, errors.New("id must be lower-case letters, digits and dashes")
	}
	if len(fs) < 2 {
		return r, errors.New("no class")
	}
	info, ok := maildiag.ClassOf(fs[1])
	if !ok {
		return r, fmt.Errorf("unknown class %q", fs[1])
	}
	r.Class, r.Hard = info.Name, info.Hard
	_, err := eachCondition(fs[2:], func(key, value string, alts []string) error {
		var err error
		switch key {
		case "type":
			r.kinds, err = parseKinds(alts)
		case "severity":
			r.severity, err = parseSeverity(value)
		case "delayed":
			var b bool
			b, err = parseYesNo(value)
			r.delayed = -1
			if b {
				r.delayed = 1
			}
		case "hard":
			r.Hard, err = parseYesNo(value)
		case "reason":
			for _, a := range alts {
				r.reasons = append(r.reasons, strings.ToLower(a))
			}
		case "code":
			r.codes, err = parseSpans(alts)
		case "enh":
			r.enh, err = parseEnhPatterns(alts)
		case "gateway":
			for _, a := range alts {
				name, ok := gateways[strings.ToLower(a)]
				if !ok {
					return fmt.Errorf("gateway %q is not named in gateways.txt", a)
				}
				r.gateways = append(r.gateways, name)
			}
		case "text":
			var ids []uint16
			ids, err = pt.intern(alts)
			r.texts = append(r.texts, ids)
		default:
			return fmt.Errorf("unknown condition %q", key)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	return r, err
}

// eachDataLine calls fn with the fields of each line of a data file that
// has any, and checks that the ids fn returns are unique. Errors name the
// line; what names the kind of entry (rule, entry).
func eachDataLine(data, what string, fn func(no int, line string, fs []string) (id string, err error)) error {
	seen := make(map[string]int)
	for no, line := range strings.Split(data, "\n") {
		no++
		fs, err := splitFields(line)
		if err != nil {
			return fmt.Errorf("%d: %w", no, err)
		}
		if len(fs) == 0 {
			continue
		}
		id, err := fn(no, line, fs)
		if err != nil {
			return fmt.Errorf("%d: %s %s: %w", no, what, fs[0], err)
		}
		if prev, ok := seen[id]; ok {
			return fmt.Errorf("%d: %s %s: id already used on line %d", no, what, id, prev)
		}
		seen[id] = no
	}
	return nil
}

// eachCondition reads the key=value|value conditions of a data line,
// checking what rules.txt and gateways.txt share: the form, no empty
// alternative, no key twice but text. It returns the keys used.
func eachCondition(fields []string, fn func(key, value string, alts []string) error) (map[string]bool, error) {
	used := make(map[string]bool)
	for _, f := range fields {
		key, value, ok := strings.Cut(f, "=")
		if !ok || key == "" {
			return used, fmt.Errorf("condition %q is not key=value", f)
		}
		if used[key] && key != "text" {
			return used, fmt.Errorf("%s given twice", key)
		}
		used[key] = true
		alts := strings.Split(value, "|")
		for _, a := range alts {
			if a == "" {
				return used, fmt.Errorf("%s: empty alternative in %q", key, value)
			}
		}
		if err := fn(key, value, alts); err != nil {
			return used, err
		}
	}
	return used, nil
}

func validID(id string) bool {
	if id == "" || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func parseKinds(alts []string) (uint8, error) {
	var k uint8
	for _, a := range alts {
		switch a {
		case maildiag.Failed:
			k |= kindFailed
		case maildiag.Rejected:
			k |= kindRejected
		default:
			return 0, fmt.Errorf("%q: want failed or rejected", a)
		}
	}
	return k, nil
}

func parseSeverity(s string) (uint8, error) {
	switch s {
	case maildiag.SeverityPermanent:
		return sevPermanent, nil
	case maildiag.SeverityTemporary:
		return sevTemporary, nil
	}
	return 0, fmt.Errorf("%q: want permanent or temporary", s)
}

func parseYesNo(s string) (bool, error) {
	switch s {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("%q: want yes or no", s)
}

// parseSpans reads codes like 605, 500-599 and 0 (no code).
func parseSpans(alts []string) ([]span, error) {
	var out []span
	for _, a := range alts {
		lo, hi, isRange := strings.Cut(a, "-")
		l, err := strconv.Atoi(lo)
		if err != nil || l < 0 || l > 999 {
			return nil, fmt.Errorf("%q: not a code or range", a)
		}
		h := l
		if isRange {
			if h, err = strconv.Atoi(hi); err != nil || h < l || h > 999 {
				return nil, fmt.Errorf("%q: not a code range", a)
			}
		}
		out = append(out, span{l, h})
	}
	return out, nil
}

// parseEnhPatterns reads enhanced codes like 5.7.1, x.1.1 (any class),
// 5.7.606-649 and 4.7.* .
func parseEnhPatterns(alts []string) ([]enhPattern, error) {
	var out []enhPattern
	for _, a := range alts {
		parts := strings.Split(a, ".")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%q: want class.subject.detail", a)
		}
		var p enhPattern
		switch parts[0] {
		case "x":
		case "2", "4", "5":
			p.class = int16(parts[0][0] - '0')
		default:
			return nil, fmt.Errorf("%q: class must be 2, 4, 5 or x", a)
		}
		s, err := strconv.Atoi(parts[1])
		if err != nil || s < 0 || s > 999 {
			return nil, fmt.Errorf("%q: bad subject", a)
		}
		p.subject = int16(s)
		if parts[2] == "*" {
			p.lo, p.hi = 0, 999
		} else {
			sp, err := parseSpans([]string{parts[2]})
			if err != nil {
				return nil, fmt.Errorf("%q: bad detail", a)
			}
			p.lo, p.hi = int16(sp[0].lo), int16(sp[0].hi)
		}
		out = append(out, p)
	}
	return out, nil
}

// patterns interns the text patterns of both tables, so that the automaton
// holds each once and a pattern's id indexes a hitSet.
type patterns struct {
	ids  map[string]uint16
	list []string
}

func (pt *patterns) intern(alts []string) ([]uint16, error) {
	if pt.ids == nil {
		pt.ids = make(map[string]uint16)
	}
	var out []uint16
	for _, a := range alts {
		p := normPattern(a)
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("%q: blank text", a)
		}
		id, ok := pt.ids[p]
		if !ok {
			if len(pt.list) == maxPatterns {
				return nil, fmt.Errorf("more than %d distinct texts", maxPatterns)
			}
			id = uint16(len(pt.list))
			pt.ids[p] = id
			pt.list = append(pt.list, p)
		}
		out = append(out, id)
	}
	return out, nil
}

// splitFields splits a table line into fields at white space. Double
// quotes group a value that holds spaces (text="envelope blocked"), with
// \" and \\ as escapes inside them. Blank lines and lines whose first
// non-blank character is # give no fields.
func splitFields(line string) ([]string, error) {
	s := strings.TrimSpace(line)
	if s == "" || s[0] == '#' {
		return nil, nil
	}
	var out []string
	var b strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		case c == '"':
			quoted, in = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if in {
		out = append(out, b.String())
	}
	return out, nil
}
