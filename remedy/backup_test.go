package remedy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

func TestBackupNameRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC)
	name := backupName("mg.example.com", "unsubscribes", at)
	if name != "mg.example.com_unsubscribes_20261120T091500Z.csv" {
		t.Errorf("backupName = %q", name)
	}
	for _, c := range []struct {
		path, sd, list string
		ok             bool
	}{
		{"/x/" + name, "mg.example.com", "unsubscribes", true},
		{"mg.example.com_bounces_20261120T091500Z-2.csv", "mg.example.com", "bounces", true},
		{"Mail.Ledgerly.com_complaints_20261120T091500Z.csv", "mail.ledgerly.com", "complaints", true},
		{"mg.example.com_allowlist_20261120T091500Z.csv", "", "", false},
		{"mg_example_bounces_20261120T091500Z.csv", "", "", false},
		{"localhost_bounces_20261120T091500Z.csv", "", "", false},
		{"mg.example.com_bounces_20261399T091500Z.csv", "", "", false},
		{"bounces.csv", "", "", false},
	} {
		sd, list, ok := parseBackupName(c.path)
		if sd != c.sd || list != c.list || ok != c.ok {
			t.Errorf("parseBackupName(%q) = %q, %q, %v; want %q, %q, %v", c.path, sd, list, ok, c.sd, c.list, c.ok)
		}
	}
}

func FuzzParseBackupName(f *testing.F) {
	f.Add("mg.example.com_bounces_20261120T091500Z.csv")
	f.Add("a.b_complaints_20000101T000000Z-17.csv")
	f.Add("_bounces_20261120T091500Z.csv")
	f.Fuzz(func(t *testing.T, s string) {
		sd, list, ok := parseBackupName(s)
		if !ok {
			return
		}
		again, l2, ok2 := parseBackupName(backupName(sd, list, time.Unix(0, 0)))
		if !ok2 || again != sd || l2 != list {
			t.Errorf("%q parsed as %q %q, which does not name a backup again", s, sd, list)
		}
	})
}

// A backup reads back through maildiag import's reader with every field:
// commas, quotes and line breaks in the error, several tags.
func TestBackupCSVReadsBack(t *testing.T) {
	at := time.Date(2025, 12, 11, 1, 49, 40, 0, time.UTC)
	cases := map[string][]*Removal{
		maildiag.ListBounces: {
			{Address: "a@acme.com", ListCode: "550", ListError: "5.7.1 \"blocked\", see\nhttps://x.example", Since: at},
			{Address: "b@acme.com", ListCode: "5.1.1", ListError: "", Since: at.Add(time.Second)},
		},
		maildiag.ListUnsubscribes: {
			{Address: "c@acme.com", Tags: []string{"newsletter", "promo"}, Since: at},
			{Address: "d@acme.com", Since: at},
		},
		maildiag.ListComplaints: {{Address: "e@acme.com", Since: at}},
	}
	for list, entries := range cases {
		data, err := backupCSV(list, entries)
		if err != nil {
			t.Fatal(err)
		}
		var got []maildiag.Suppression
		_, err = ingest.Read(context.Background(), bytes.NewReader(data), ingest.Options{SendingDomain: "mg.example.com", Workers: 1}, func(b *ingest.Batch) error {
			if len(b.Rejects) > 0 {
				t.Errorf("%s: rejected %s", list, b.Rejects[0].Reason)
			}
			got = append(got, b.Suppressions...)
			return nil
		})
		if err != nil || len(got) != len(entries) {
			t.Fatalf("%s: read %d entries (%v), want %d:\n%s", list, len(got), err, len(entries), data)
		}
		for i, g := range got {
			w := entries[i]
			tags := w.Tags
			if list == maildiag.ListUnsubscribes && len(tags) == 0 {
				tags = []string{"*"}
			}
			if list != maildiag.ListUnsubscribes {
				tags = nil
			}
			if g.List != list || g.Address != w.Address || g.Code != w.ListCode || g.Error != w.ListError ||
				g.CreatedUS != w.Since.UnixMicro() || !slices.Equal(g.Tags, tags) || g.SendingDomain != "mg.example.com" {
				t.Errorf("%s entry %d read back as %+v, want %+v", list, i, g, *w)
			}
		}
	}
	if data, _ := backupCSV(maildiag.ListBounces, cases[maildiag.ListBounces][:1]); !strings.Contains(string(data), "Thu, 11 Dec 2025 01:49:40 UTC") {
		t.Errorf("created_at not in Mailgun's form: %s", data)
	}
}

func TestWriteNewFileNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	p1, err := writeNewFile(dir, "d.example_bounces_20261120T000000Z.csv", []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := writeNewFile(dir, "d.example_bounces_20261120T000000Z.csv", []byte("second"))
	if err != nil {
		t.Fatal(err)
	}
	if p1 == p2 || filepath.Base(p2) != "d.example_bounces_20261120T000000Z-2.csv" {
		t.Errorf("second write went to %s (first %s), want a numbered name", p2, p1)
	}
	if b, _ := os.ReadFile(p1); string(b) != "first" {
		t.Errorf("the first file now holds %q", b)
	}
	if sd, _, ok := parseBackupName(p2); !ok || sd != "d.example" {
		t.Errorf("the numbered name does not parse: %q %v", sd, ok)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		fi, _ := e.Info()
		if strings.HasSuffix(e.Name(), ".tmp") || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (want 0600, and no temporary file left)", e.Name(), fi.Mode().Perm())
		}
	}
}
