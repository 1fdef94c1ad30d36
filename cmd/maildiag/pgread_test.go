package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/testkit"
)

// The read commands give the same answers on PostgreSQL as on SQLite: the
// same files imported into both, the same commands run by the built
// binary, their JSON compared byte for byte.

// agree runs a command on both indexes and fails when their exit status or
// output differ; it returns the output.
func agree(t *testing.T, lite, pgURL string, now time.Time, args ...string) string {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	runOn := func(db string) result {
		argv := append([]string{"--db", db, "--now", now.Format(time.RFC3339), "--output", "json"}, args...)
		code, out, errs := runBinaryCode(t, argv...)
		return result{code, out, errs}
	}
	a, b := runOn(lite), runOn(pgURL)
	noSecret(t, strings.Join(args, " "), b.out, b.err)
	if a.code != b.code {
		t.Errorf("%s: exit %d on SQLite, %d on PostgreSQL: %s", strings.Join(args, " "), a.code, b.code, b.err)
	}
	if a.code > 1 {
		t.Errorf("%s: exit %d on SQLite: %s", strings.Join(args, " "), a.code, a.err)
	}
	if a.out != b.out {
		al, bl := strings.Split(a.out, "\n"), strings.Split(b.out, "\n")
		for i := range min(len(al), len(bl)) {
			if al[i] != bl[i] {
				t.Errorf("%s: the engines differ at line %d:\n SQLite:     %.300s\n PostgreSQL: %.300s", strings.Join(args, " "), i+1, al[i], bl[i])
				break
			}
		}
		if len(al) != len(bl) {
			t.Errorf("%s: %d lines on SQLite, %d on PostgreSQL", strings.Join(args, " "), len(al), len(bl))
		}
	}
	return a.out
}

// runBinaryCode runs the built binary and returns its exit status and
// output.
func runBinaryCode(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// importBoth imports files into a new SQLite index and a new PostgreSQL
// one with the binary, each list with its sending domain, seen at one
// instant on both: the state notes quote when.
func importBoth(t *testing.T, events []string, lists map[string][]string) (lite, pgURL string) {
	t.Helper()
	lite, pgURL = filepath.Join(t.TempDir(), "index.db"), pgIndex(t)
	seen := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	for _, db := range []string{lite, pgURL} {
		runBinary(t, 0, append([]string{"--db", db, "import"}, events...)...)
		for sd, files := range lists {
			runBinary(t, 0, append([]string{"--db", db, "--now", seen, "import", "--sending-domain", sd}, files...)...)
		}
	}
	return lite, pgURL
}

func TestEnginesAgreeOnScenarios(t *testing.T) {
	dir := t.TempDir()
	scenarios := testkit.Scenarios()
	events, lists, firstIDs := testkit.ScenarioFiles(scenarios)
	ev := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(ev, events, 0o600); err != nil {
		t.Fatal(err)
	}
	byDomain := map[string][]string{}
	for key, data := range lists {
		p := filepath.Join(dir, key[0]+"_"+key[1]+".csv")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		byDomain[key[0]] = append(byDomain[key[0]], p)
	}
	lite, pgURL := importBoth(t, []string{ev}, byDomain)
	verdicts := 0
	for i, s := range scenarios {
		now := testkit.ScenarioT0.Add(s.Now)
		args := []string{"trace", s.Person}
		if s.Subject != "" {
			args = append(args, "--subject", s.Subject)
		}
		if s.SendingDomain != "" {
			args = append(args, "--sending-domain", s.SendingDomain)
		}
		if s.EventIDOf > 0 && s.EventIDOf <= len(firstIDs[i]) {
			args = append(args, "--event-id", firstIDs[i][s.EventIDOf-1])
		}
		out := agree(t, lite, pgURL, now, args...)
		var res struct {
			Verdict struct {
				Kind string `json:"kind"`
			} `json:"verdict"`
		}
		switch {
		case len(s.Entries) > 0 && s.Entries[0].Removed != 0:
			// The removal is marked by the in-process corpus test only.
		case json.Unmarshal([]byte(out), &res) == nil && res.Verdict.Kind == s.Kind:
			verdicts++
		default:
			t.Errorf("%s: verdict %q, want %q", s.Name, res.Verdict.Kind, s.Kind)
		}
		agree(t, lite, pgURL, now, "suppressed", "*@"+s.Person[strings.IndexByte(s.Person, '@')+1:], "--with-removed")
		agree(t, lite, pgURL, now, "events", "--to", s.Person, "--limit", "0")
	}
	if verdicts == 0 {
		t.Fatal("no scenario gave its verdict")
	}
	end := testkit.ScenarioT0.Add(30 * 24 * time.Hour)
	agree(t, lite, pgURL, end, "failures", "--since", "60d", "--by", "class")
	agree(t, lite, pgURL, end, "failures", "--since", "60d", "--by", "domain,code")
	agree(t, lite, pgURL, end, "report", "--since", "60d")
}

// addressRE finds the addresses a story manifest names.
var addressRE = regexp.MustCompile(`[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]+`)

func TestEnginesAgreeOnStories(t *testing.T) {
	a := storyIndex(t)
	dir := filepath.Dir(a.db)
	csvs, _ := filepath.Glob(filepath.Join(dir, "*-csv"))
	lists := map[string][]string{}
	for _, p := range csvs {
		// sending-domain.format, as storyIndex names them
		base := filepath.Base(p)
		for _, f := range []string{".bounces-csv", ".unsubscribes-csv", ".complaints-csv"} {
			if i := strings.Index(base, f); i > 0 {
				lists[base[:i]] = append(lists[base[:i]], p)
			}
		}
	}
	if len(lists) == 0 {
		t.Fatalf("no suppression lists beside %s", a.db)
	}
	pgURL := pgIndex(t)
	runBinary(t, 0, "--db", pgURL, "import", filepath.Join(dir, "events.jsonl"))
	for sd, files := range lists {
		// Seen when the SQLite index's lists were: the state notes say when.
		runBinary(t, 0, append([]string{"--db", pgURL, "--now", listsSeen(a.end), "import", "--sending-domain", sd}, files...)...)
	}
	lite := a.db
	manifest, err := json.Marshal(a.stories)
	if err != nil {
		t.Fatal(err)
	}
	addrs := slices.Compact(slices.Sorted(slices.Values(addressRE.FindAllString(string(manifest), -1))))
	if len(addrs) < 10 {
		t.Fatalf("the stories name %d addresses", len(addrs))
	}
	now := a.end
	for _, addr := range addrs {
		agree(t, lite, pgURL, now, "trace", addr)
	}
	domains := map[string]bool{}
	for _, addr := range addrs {
		domains[addr[strings.IndexByte(addr, '@')+1:]] = true
	}
	for _, d := range slices.Sorted(maps.Keys(domains)) {
		agree(t, lite, pgURL, now, "suppressed", "*@"+d)
		agree(t, lite, pgURL, now, "report", "--since", "7d", "--to", "*@"+d)
	}
	for _, by := range []string{"class", "domain", "gateway,code", "day,sending-domain", "provider,severity"} {
		agree(t, lite, pgURL, now, "failures", "--since", "7d", "--by", by)
	}
	agree(t, lite, pgURL, now, "failures", "--by", "class", "--enhanced", "5.7.")
	agree(t, lite, pgURL, now, "report", "--since", "7d")
	agree(t, lite, pgURL, now, "report", "--since", "30d")
	for _, f := range [][]string{
		{"--limit", "50"},
		{"--limit", "50", "--asc"},
		{"--to", "*@acme.com", "--limit", "30"},
		{"--to-contains", "gmail", "--code", "550", "--limit", "30"},
		{"--event", "permanent-fail", "--limit", "30"},
		{"--class", "suppressed-bounce", "--limit", "30"},
		{"--subject", "password reset", "--limit", "30"},
		{"--from", "ledgerly", "--limit", "30"},
		{"--sending-ip", "198.51.100.10", "--limit", "30"},
		{"--gateway", "Microsoft 365", "--limit", "30"},
		{"--mx", "*.mimecast.com", "--limit", "30"},
		{"--since", "3d", "--until", "2d", "--limit", "0"},
	} {
		agree(t, lite, pgURL, now, append([]string{"events"}, f...)...)
	}
	for _, m := range a.stories.Verify.Messages {
		agree(t, lite, pgURL, now, "trace", "<"+m.MessageID+">")
		agree(t, lite, pgURL, now, "show", m.MessageID)
	}
}
