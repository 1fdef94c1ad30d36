package mgserver

import (
	"fmt"
	"sort"
	"strings"

	"github.com/maildiag/maildiag/synth"
)

// List names a suppression list by its path segment in Mailgun's API.
type List string

// The suppression lists of a sending domain.
const (
	Bounces      List = "bounces"
	Unsubscribes List = "unsubscribes"
	Complaints   List = "complaints"
	Allowlist    List = "whitelists"
)

// AllLists returns the suppression lists, in the order Mailgun documents them.
func AllLists() []List { return []List{Bounces, Unsubscribes, Complaints, Allowlist} }

func parseList(s string) (List, bool) {
	for _, l := range AllLists() {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

type suppressionLists struct {
	bounces    sortedList[synth.Bounce]
	unsubs     sortedList[synth.Unsubscribe]
	complaints sortedList[synth.Complaint]
	allow      sortedList[synth.AllowEntry]
}

// sortedList keeps entries in Mailgun's listing order: alphabetical by
// address (value, for the allowlist), compared without case.
type sortedList[T any] struct {
	items []listEntry[T]
}

type listEntry[T any] struct {
	key string
	v   T
}

func listKey(address string) string { return strings.ToLower(strings.TrimSpace(address)) }

// search returns the index of the first entry whose key is >= key.
func (l *sortedList[T]) search(key string) int {
	return sort.Search(len(l.items), func(i int) bool { return l.items[i].key >= key })
}

func (l *sortedList[T]) get(address string) (T, bool) {
	k := listKey(address)
	i := l.search(k)
	if i < len(l.items) && l.items[i].key == k {
		return l.items[i].v, true
	}
	var zero T
	return zero, false
}

// put adds or replaces the entry for address.
func (l *sortedList[T]) put(address string, v T) {
	k := listKey(address)
	i := l.search(k)
	if i < len(l.items) && l.items[i].key == k {
		l.items[i].v = v
		return
	}
	if i == len(l.items) {
		l.items = append(l.items, listEntry[T]{k, v})
		return
	}
	l.items = append(l.items, listEntry[T]{})
	copy(l.items[i+1:], l.items[i:])
	l.items[i] = listEntry[T]{k, v}
}

func (l *sortedList[T]) remove(address string) bool {
	k := listKey(address)
	i := l.search(k)
	if i < len(l.items) && l.items[i].key == k {
		l.items = append(l.items[:i], l.items[i+1:]...)
		return true
	}
	return false
}

func (l *sortedList[T]) clear() int {
	n := len(l.items)
	l.items = nil
	return n
}

func (l *sortedList[T]) values() []T {
	out := make([]T, len(l.items))
	for i, e := range l.items {
		out[i] = e.v
	}
	return out
}

// withLists runs f on domain's lists under the lock (write when w is set).
func (a *Account) withLists(domain string, w bool, f func(*suppressionLists)) error {
	if w {
		a.mu.Lock()
		defer a.mu.Unlock()
	} else {
		a.mu.RLock()
		defer a.mu.RUnlock()
	}
	d := a.domain(domain)
	if d == nil {
		return fmt.Errorf("sending domain %q: %w", domain, ErrUnknownDomain)
	}
	f(&d.lists)
	return nil
}

// Bounces returns a snapshot of domain's bounce list in listing order.
func (a *Account) Bounces(domain string) []synth.Bounce {
	var out []synth.Bounce
	a.withLists(domain, false, func(l *suppressionLists) { out = l.bounces.values() })
	return out
}

// Unsubscribes returns a snapshot of domain's unsubscribe list.
func (a *Account) Unsubscribes(domain string) []synth.Unsubscribe {
	var out []synth.Unsubscribe
	a.withLists(domain, false, func(l *suppressionLists) { out = l.unsubs.values() })
	return out
}

// Complaints returns a snapshot of domain's complaint list.
func (a *Account) Complaints(domain string) []synth.Complaint {
	var out []synth.Complaint
	a.withLists(domain, false, func(l *suppressionLists) { out = l.complaints.values() })
	return out
}

// Allowlist returns a snapshot of domain's allowlist.
func (a *Account) Allowlist(domain string) []synth.AllowEntry {
	var out []synth.AllowEntry
	a.withLists(domain, false, func(l *suppressionLists) { out = l.allow.values() })
	return out
}

// AddBounce adds or replaces a bounce entry.
func (a *Account) AddBounce(domain string, b synth.Bounce) error {
	return a.withLists(domain, true, func(l *suppressionLists) { l.bounces.put(b.Address, b) })
}

// AddUnsubscribe adds an unsubscribe entry; an address already on the
// list gains the new tags.
func (a *Account) AddUnsubscribe(domain string, u synth.Unsubscribe) error {
	return a.withLists(domain, true, func(l *suppressionLists) { l.addUnsub(u) })
}

// AddComplaint adds or replaces a complaint entry.
func (a *Account) AddComplaint(domain string, c synth.Complaint) error {
	return a.withLists(domain, true, func(l *suppressionLists) { l.complaints.put(c.Address, c) })
}

// AddAllow adds or replaces an allowlist entry.
func (a *Account) AddAllow(domain string, w synth.AllowEntry) error {
	return a.withLists(domain, true, func(l *suppressionLists) { l.allow.put(w.Value, w) })
}

// Delete removes address from one of domain's lists and reports whether
// it was there.
func (a *Account) Delete(domain string, list List, address string) (bool, error) {
	var found bool
	err := a.withLists(domain, true, func(l *suppressionLists) {
		switch list {
		case Bounces:
			found = l.bounces.remove(address)
		case Unsubscribes:
			found = l.unsubs.remove(address)
		case Complaints:
			found = l.complaints.remove(address)
		case Allowlist:
			found = l.allow.remove(address)
		}
	})
	return found, err
}

// Clear empties one of domain's lists and returns how many entries it had.
func (a *Account) Clear(domain string, list List) (int, error) {
	var n int
	err := a.withLists(domain, true, func(l *suppressionLists) { n = l.clearList(list) })
	return n, err
}

// addUnsub merges tags into an existing entry, as Mailgun does when an
// address unsubscribes from one more tag.
func (l *suppressionLists) addUnsub(u synth.Unsubscribe) {
	if len(u.Tags) == 0 {
		u.Tags = []string{"*"}
	}
	old, ok := l.unsubs.get(u.Address)
	if !ok {
		l.unsubs.put(u.Address, u)
		return
	}
	tags := append([]string(nil), old.Tags...)
	for _, t := range u.Tags {
		has := false
		for _, o := range tags {
			has = has || o == t
		}
		if !has {
			tags = append(tags, t)
		}
	}
	old.Tags = tags
	l.unsubs.put(old.Address, old)
}

// removeUnsubTag takes one tag off an entry, and the entry off the list
// when no tag is left.
func (l *suppressionLists) removeUnsubTag(address, tag string) bool {
	old, ok := l.unsubs.get(address)
	if !ok {
		return false
	}
	var tags []string
	for _, t := range old.Tags {
		if t != tag {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		l.unsubs.remove(address)
		return true
	}
	old.Tags = tags
	l.unsubs.put(address, old)
	return true
}
