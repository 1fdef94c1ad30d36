package maildiag

import (
	"strings"
	"testing"
)

func TestClassesAreWellFormed(t *testing.T) {
	seen := make(map[string]bool)
	for i, c := range Classes {
		if c.Name == "" || strings.Trim(c.Name, "abcdefghijklmnopqrstuvwxyz-") != "" ||
			strings.HasPrefix(c.Name, "-") || strings.HasSuffix(c.Name, "-") || strings.Contains(c.Name, "--") {
			t.Errorf("class %d: name %q is not kebab-case", i, c.Name)
		}
		if seen[c.Name] {
			t.Errorf("class %q listed twice", c.Name)
		}
		seen[c.Name] = true
		if c.Title == "" {
			t.Errorf("class %q: no title", c.Name)
		}
		if len(c.Action) < 40 || !strings.HasSuffix(c.Action, ".") {
			t.Errorf("class %q: action %q is not a sentence a support engineer can act on", c.Name, c.Action)
		}
		if n := strings.Count(c.Action, ". "); n > 2 {
			t.Errorf("class %q: action has %d sentences, want one or two (at most three)", c.Name, n+1)
		}
	}
}

func TestClassesHoldTheTaxonomy(t *testing.T) {
	want := []string{
		ClassSuppressedBounce, ClassSuppressedComplaint, ClassSuppressedUnsubscribe, ClassSuppressedListQuality,
		ClassUserUnknown, ClassMailboxDisabled, ClassMailboxFull, ClassDomainNotFound, ClassPolicyBlock,
		ClassBlocklisted, ClassRateLimited, ClassAuthentication, ClassSpamContent, ClassMessageTooLarge,
		ClassGreylisted, ClassConnection, ClassExpired, ClassDelayedBounce, ClassRejectedByMailgun, ClassOther,
	}
	if len(Classes) != len(want) {
		t.Errorf("got %d classes, want %d", len(Classes), len(want))
	}
	for _, name := range want {
		c, ok := ClassOf(name)
		if !ok {
			t.Errorf("ClassOf(%q): not found", name)
			continue
		}
		if c.Name != name {
			t.Errorf("ClassOf(%q).Name = %q", name, c.Name)
		}
	}
	if Classes[len(Classes)-1].Name != ClassOther {
		t.Errorf("last class is %q, want %q last in display order", Classes[len(Classes)-1].Name, ClassOther)
	}
}

func TestClassHardness(t *testing.T) {
	// Hard means the address itself is at fault.
	hard := map[string]bool{
		ClassUserUnknown: true, ClassMailboxDisabled: true, ClassDomainNotFound: true,
		ClassSuppressedBounce: true, ClassSuppressedComplaint: true, ClassSuppressedUnsubscribe: true,
		ClassDelayedBounce: true,
	}
	for _, c := range Classes {
		if c.Hard != hard[c.Name] {
			t.Errorf("class %q: Hard = %v, want %v", c.Name, c.Hard, hard[c.Name])
		}
	}
}

func TestClassOfUnknown(t *testing.T) {
	for _, name := range []string{"", "User-Unknown", "user unknown", "bounce"} {
		if c, ok := ClassOf(name); ok {
			t.Errorf("ClassOf(%q) = %+v, want not found", name, c)
		}
	}
}
