package report

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestRedactAddress(t *testing.T) {
	const salt = "s3cret"
	got := RedactAddress("John.Smith@acme.com", salt)
	if !regexp.MustCompile(`^u-[0-9a-f]{6}@acme\.com$`).MatchString(got) {
		t.Fatalf("got %q, want u-xxxxxx@acme.com", got)
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"stable", RedactAddress("John.Smith@acme.com", salt) == got},
		{"case-blind", RedactAddress("john.smith@ACME.com", salt)[:8] == got[:8]},
		{"lookalikes differ", RedactAddress("john_smith@acme.com", salt) != got},
		{"domain in the hash", RedactAddress("John.Smith@globex.net", salt)[:8] != got[:8]},
		{"salt in the hash", RedactAddress("John.Smith@acme.com", "other") != got},
		{"idempotent", RedactAddress(got, salt) == got},
		{"no local part", RedactAddress("@acme.com", salt) == "@acme.com"},
		{"no domain", RedactAddress("john@", salt) == "john@"},
		{"not an address", RedactAddress("acme.com", salt) == "acme.com"},
	} {
		if !tc.ok {
			t.Errorf("%s: failed", tc.name)
		}
	}
}

func TestRedactText(t *testing.T) {
	in := "550 5.1.1 <john_smith@initech.com>: Recipient address rejected; cc jane@initech.com"
	out := RedactText(in, "k")
	if strings.Contains(out, "john_smith") || strings.Contains(out, "jane@") {
		t.Errorf("address left in %q", out)
	}
	if !strings.HasPrefix(out, "550 5.1.1 <u-") || !strings.Contains(out, "@initech.com>: Recipient address rejected; cc u-") {
		t.Errorf("text around the addresses changed: %q", out)
	}
	if got := RedactText("--to *@acme.com", "k"); got != "--to *@acme.com" {
		t.Errorf("pattern redacted: %q", got)
	}
}

var addrFind = regexp.MustCompile(`([A-Za-z0-9._%+'-]+)@[a-z0-9.-]+\.[a-z]{2,}`)

// TestRedactRendered redacts the sample and renders it: no local part of
// any address in the data may remain anywhere in the file.
func TestRedactRendered(t *testing.T) {
	d := sampleData()
	d.Filters.To = "olivia.nguyen@acme.com"
	raw, _ := json.Marshal(d)
	locals := map[string]bool{}
	for _, m := range addrFind.FindAllStringSubmatch(string(raw), -1) {
		locals[m[1]] = true
	}
	if len(locals) < 50 {
		t.Fatalf("fixture has only %d local parts", len(locals))
	}
	Redact(d, "per-report-salt")
	if !d.Redacted {
		t.Error("Redact did not set Redacted")
	}
	out := renderString(t, d, Options{MaxAddresses: 10000})
	for l := range locals {
		if strings.Contains(out, l+"@") {
			t.Errorf("local part %q@ remains", l)
		}
		// Bare, too, where it is distinctive enough not to be a word.
		if len(l) >= 8 && strings.Contains(out, l) {
			t.Errorf("local part %q remains", l)
		}
	}
	if !strings.Contains(out, "on: local parts of addresses are replaced by short hashes") {
		t.Error("header does not say redaction is on")
	}
	// Domains survive: the report is about them.
	if !strings.Contains(out, "@acme.com") || !strings.Contains(out, `data-domain="acme.com"`) {
		t.Error("redaction removed domains")
	}
}

// TestRedactEveryField puts an address into every string field: Redact must
// reach all of them.
func TestRedactEveryField(t *testing.T) {
	d := sampleData()
	fillStrings(reflect.ValueOf(d).Elem(), func() string { return "reply from zed.secret@acme.com here" })
	Redact(d, "k")
	raw, _ := json.Marshal(d)
	if strings.Contains(string(raw), "zed.secret") {
		t.Error("a field kept the address")
	}
}
