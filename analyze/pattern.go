package analyze

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/maildiag/maildiag"
)

// Pattern matches whole addresses with * (any run of characters) and ?
// (any one byte: one character of an ASCII address), case-insensitively: *@acme.com, *@*.acme.com,
// j*@acme.com. A bare domain (acme.com) means every address at it.
type Pattern struct {
	Local  string // glob of the local part, lower case
	Domain string // glob of the domain, lower case
}

// ParsePattern reads a pattern as users type it.
func ParsePattern(s string) (Pattern, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return Pattern{}, fmt.Errorf("empty pattern: give an address, a domain or a pattern such as '*@acme.com'")
	}
	if strings.ContainsFunc(t, unicode.IsSpace) || strings.ContainsAny(t, ",;<>") {
		return Pattern{}, fmt.Errorf("pattern %q: one address pattern at a time, without spaces or commas", s)
	}
	local, domain, ok := strings.Cut(t, "@")
	if !ok {
		local, domain = "*", t
	}
	if strings.Contains(domain, "@") {
		return Pattern{}, fmt.Errorf("pattern %q has more than one @", s)
	}
	if local == "" || domain == "" {
		return Pattern{}, fmt.Errorf("pattern %q: need something on both sides of @ (use * for anything)", s)
	}
	return Pattern{Local: local, Domain: domain}, nil
}

// String is the pattern in its full form.
func (p Pattern) String() string { return p.Local + "@" + p.Domain }

// Exact tells whether the pattern is one address.
func (p Pattern) Exact() bool { return !strings.ContainsAny(p.String(), "*?") }

// AllOfDomain tells whether the pattern takes every address of the
// domains it matches.
func (p Pattern) AllOfDomain() bool { return strings.Trim(p.Local, "*") == "" }

// Match tells whether an address matches.
func (p Pattern) Match(addr string) bool {
	local, domain, ok := strings.Cut(strings.ToLower(addr), "@")
	if !ok {
		return false
	}
	return maildiag.MatchGlob(p.Local, local) && maildiag.MatchGlob(p.Domain, domain)
}

// resolved is a pattern resolved against a store: the domains it matches
// and, when it names only some addresses of them, those (nil when it takes
// every address).
type resolved struct {
	domains    []string
	recipients map[RecipientID]string
}

// resolve looks a pattern's domains and addresses up in a store.
func resolve(ctx context.Context, db DirectoryReader, p Pattern) (*resolved, error) {
	doms, err := db.MatchDomains(ctx, p.Domain)
	if err != nil {
		return nil, err
	}
	r := &resolved{domains: make([]string, 0, len(doms))}
	for _, d := range doms {
		r.domains = append(r.domains, d.Name)
	}
	if p.AllOfDomain() {
		return r, nil
	}
	r.recipients = map[RecipientID]string{}
	if p.Exact() {
		id, err := db.FindRecipient(ctx, p.String())
		if err != nil {
			return nil, err
		}
		if id != 0 {
			r.recipients[id] = p.String()
		}
		return r, nil
	}
	for _, d := range r.domains {
		rs, err := db.Recipients(ctx, d, p.String())
		if err != nil {
			return nil, err
		}
		for _, x := range rs {
			r.recipients[x.ID] = x.Address
		}
	}
	return r, nil
}

// maxListedRecipients is the most recipients a failure scan asks for one by
// one; with more, it reads their domains and keeps theirs.
const maxListedRecipients = 2000

// filter narrows a failure filter to the pattern: its domains, and its
// addresses one by one when there are few enough.
func (r *resolved) filter(f *FailureFilter) {
	f.RecipientDomains = r.domains
	if r.recipients != nil && len(r.recipients) <= maxListedRecipients {
		f.Recipients = append(sortedKeys(r.recipients), -1) // -1: none matched selects nothing
	}
}

// has tells whether a recipient matches.
func (r *resolved) has(id RecipientID) bool {
	if r == nil || r.recipients == nil {
		return true
	}
	_, ok := r.recipients[id]
	return ok
}
