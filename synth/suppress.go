package synth

import (
	"sort"
	"strings"
	"time"
)

// Suppressions are one sending domain's suppression lists at the end of the
// generated range, each sorted by address (value for the allowlist) as
// Mailgun lists them.
type Suppressions struct {
	Bounces      []Bounce
	Unsubscribes []Unsubscribe
	Complaints   []Complaint
	Allowlist    []AllowEntry
}

// Bounce is an entry of the bounces list.
type Bounce struct {
	Address   string
	Code      string // as Mailgun stores it: "550"
	Error     string // the reply that put the address on the list
	CreatedAt time.Time
}

// Unsubscribe is an entry of the unsubscribes list.
type Unsubscribe struct {
	Address   string
	Tags      []string // ["*"] for everything
	CreatedAt time.Time
}

// Complaint is an entry of the complaints list.
type Complaint struct {
	Address   string
	CreatedAt time.Time
}

// AllowEntry is an entry of the allowlist (Mailgun's "whitelists").
type AllowEntry struct {
	Type      string // address or domain
	Value     string
	Reason    string
	CreatedAt time.Time
}

var allTags = []string{"*"}

// listBuilder collects the entries made by emitted events, so the lists
// match the output exactly even when the stream is cut at Events.
type listBuilder struct {
	bounces map[string]*Bounce
	unsubs  map[string]*Unsubscribe
	compl   map[string]*Complaint
	allow   []AllowEntry
}

func newListBuilder() *listBuilder {
	return &listBuilder{bounces: map[string]*Bounce{}, unsubs: map[string]*Unsubscribe{}, compl: map[string]*Complaint{}}
}

// The add methods copy the address: entries live to the end, and a string
// carved from the generator's slabs would keep its chunk alive (or be
// overwritten when the chunk is recycled). addBounce's text must be the
// caller's own copy.

func (l *listBuilder) addBounce(addr, code, text string, at int64) {
	if l.bounces[addr] == nil {
		addr = strings.Clone(addr)
		l.bounces[addr] = &Bounce{Address: addr, Code: code, Error: text, CreatedAt: utcSecond(at)}
	}
}

func (l *listBuilder) addUnsub(addr string, tags []string, at int64) {
	if l.unsubs[addr] == nil {
		addr = strings.Clone(addr)
		l.unsubs[addr] = &Unsubscribe{Address: addr, Tags: tags, CreatedAt: utcSecond(at)}
	}
}

func (l *listBuilder) addComplaint(addr string, at int64) {
	if l.compl[addr] == nil {
		addr = strings.Clone(addr)
		l.compl[addr] = &Complaint{Address: addr, CreatedAt: utcSecond(at)}
	}
}

// utcSecond truncates to seconds: list timestamps have no fraction.
func utcSecond(us int64) time.Time { return time.Unix(us/1e6, 0).UTC() }

func (l *listBuilder) build() *Suppressions {
	s := &Suppressions{Allowlist: l.allow}
	for _, b := range l.bounces {
		s.Bounces = append(s.Bounces, *b)
	}
	for _, u := range l.unsubs {
		s.Unsubscribes = append(s.Unsubscribes, *u)
	}
	for _, c := range l.compl {
		s.Complaints = append(s.Complaints, *c)
	}
	sort.Slice(s.Bounces, func(i, j int) bool { return s.Bounces[i].Address < s.Bounces[j].Address })
	sort.Slice(s.Unsubscribes, func(i, j int) bool { return s.Unsubscribes[i].Address < s.Unsubscribes[j].Address })
	sort.Slice(s.Complaints, func(i, j int) bool { return s.Complaints[i].Address < s.Complaints[j].Address })
	sort.Slice(s.Allowlist, func(i, j int) bool { return s.Allowlist[i].Value < s.Allowlist[j].Value })
	return s
}

// allowlistFor makes a sending domain's few allowlist entries: its own
// company's domain and a seed-list address, as teams usually add.
func allowlistFor(s *sender, start int64) []AllowEntry {
	return []AllowEntry{
		{Type: "domain", Value: s.site, Reason: "internal team mailboxes", CreatedAt: utcSecond(start - 210*dayUS)},
		{Type: "address", Value: "deliverability-seed@" + s.site, Reason: "seed list for inbox placement tests", CreatedAt: utcSecond(start - 95*dayUS)},
	}
}

func (l *listBuilder) allowed(addr string) bool {
	for _, a := range l.allow {
		if a.Type == "address" && a.Value == addr || a.Type == "domain" && domainOf(addr) == a.Value {
			return true
		}
	}
	return false
}

func domainOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[i+1:]
		}
	}
	return ""
}
