package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mgsim runs the command with args and returns exit code, stdout, stderr.
func mgsim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, iostreams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

const fixedEnd = "2026-11-20T00:00:00Z"

func TestGenerateToStdout(t *testing.T) {
	code, out, errs := mgsim(t, "generate", "--seed", "3", "--events", "1000", "--end", fixedEnd)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if errs != "" {
		t.Errorf("stderr should stay quiet when writing to stdout, got %q", errs)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["event"] == nil {
			t.Fatalf("line %d: %v: %.200s", n+1, err, sc.Text())
		}
		n++
	}
	if n != 1000 {
		t.Errorf("%d lines, want 1000", n)
	}
	_, again, _ := mgsim(t, "generate", "--seed", "3", "--events", "1000", "--end", fixedEnd)
	if again != out {
		t.Error("two runs with the same flags differ")
	}
}

func TestGenerateGzipFileAndManifest(t *testing.T) {
	dir := t.TempDir()
	file, manifestFile := filepath.Join(dir, "logs.jsonl.gz"), filepath.Join(dir, "stories.json")
	code, _, errs := mgsim(t, "generate", "--events", "1500", "--end", "2026-11-20", "--format", "logs-pages",
		"--gzip", "-o", file, "--manifest", manifestFile)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "wrote 1500 events (logs-pages") {
		t.Errorf("summary %q", errs)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("output is not gzip: %v", err)
	}
	items := 0
	dec := json.NewDecoder(zr)
	for dec.More() {
		var page struct{ Items []json.RawMessage }
		if err := dec.Decode(&page); err != nil {
			t.Fatal(err)
		}
		items += len(page.Items)
	}
	if items != 1500 {
		t.Errorf("%d items in the pages, want 1500", items)
	}
	var m struct {
		Events  int
		End     time.Time
		Stories struct {
			DomainBlock struct{ Addresses []string } `json:"domain_block"`
			NeverOpened struct{ Address string }     `json:"never_opened"`
		}
		Suppressions map[string]struct{ Bounces int }
	}
	b, err := os.ReadFile(manifestFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Events != 1500 || !m.End.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) ||
		len(m.Stories.DomainBlock.Addresses) < 40 || m.Stories.NeverOpened.Address != "jane.doe@initech.com" ||
		m.Suppressions["mg.brightcart.io"].Bounces == 0 {
		t.Errorf("manifest %+v", m)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestGenerateTransactional(t *testing.T) {
	dir := t.TempDir()
	file, manifestFile := filepath.Join(dir, "txn.jsonl"), filepath.Join(dir, "m.json")
	code, _, errs := mgsim(t, "generate", "--profile", "transactional", "--events", "4000", "--end", "2026-11-20",
		"-o", file, "--manifest", manifestFile)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m struct {
		Profile  string
		Events   int
		Messages int
		ByType   map[string]int `json:"events_by_type"`
	}
	b, err := os.ReadFile(manifestFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// Outcomes only, about one event a message: the stories' accepted
	// events are the only ones.
	if m.Profile != "transactional" || m.Events != 4000 || m.Messages < 3000 || m.ByType["accepted"] > 200 || m.ByType["delivered"] < 2500 {
		t.Errorf("manifest: %+v; want a transactional account of 4000 events, nearly one a message", m)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	recips := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct{ Recipient string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		recips[e.Recipient] = true
	}
	if len(recips) < 2800 {
		t.Errorf("%d distinct recipients in 4000 events, want about 0.75 per event", len(recips))
	}
}

func TestGenerateSuppressionList(t *testing.T) {
	code, out, errs := mgsim(t, "generate", "--events", "2000", "--end", fixedEnd,
		"--format", "bounces-csv", "--sending-domain", "mail.ledgerly.com")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "address,code,error,created_at" {
		t.Fatalf("bounces CSV: %d rows, header %v", len(rows), rows[0])
	}
	acme := 0
	for _, r := range rows[1:] {
		if strings.HasSuffix(r[0], "@acme.com") {
			acme++
		}
	}
	if acme < 40 {
		t.Errorf("%d acme.com addresses on mail.ledgerly.com's bounce list, want the 40+ of the domain block", acme)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{"generate", "--format", "xml"},
		{"generate", "--format", "bounces-csv"},
		{"generate", "--sending-domain", "mg.brightcart.io"},
		{"generate", "--end", "yesterday"},
		{"generate", "--events", "0"},
		{"generate", "--pretty"},
		{"generate", "--no-such-flag"},
		{"generate", "out.jsonl"},
		{"generate", "--profile", "newsletter"},
		{"serve", "--api-key", "k", "--profile", "bulk"},
	}
	for _, args := range cases {
		code, out, errs := mgsim(t, args...)
		if code != exitUsage || out != "" || !strings.HasPrefix(errs, "mgsim: ") {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q; want exit %d and a message", args, code, len(out), errs, exitUsage)
		}
	}
	if code, _, errs := mgsim(t, "generate", "--events", "100", "--end", fixedEnd); code != exitError || !strings.Contains(errs, "too few") {
		t.Errorf("100 events with stories: exit %d, %q; want exit %d explaining the minimum", code, errs, exitError)
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := mgsim(t, "generate", "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"mgsim generate --events 10000000 | maildiag import -", "--sending-domain", "legacy-webhooks", "Examples:"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestEndDefaultsToTheHour(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 21, 14, 37, 12, 5, time.FixedZone("CET", 3600)) }
	var got *generateOptions
	cmd := newCmdGenerate(iostreams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, now, func(_ context.Context, o *generateOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs([]string{"--events", "5"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC); got == nil || !got.end.Equal(want) || got.end.Location() != time.UTC {
		t.Errorf("default end %v, want %v", got.end, want)
	}
}
