package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/synth"
)

// The planted stories of a generated account, each found with the right
// verdict by the built binary on the imported account.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// builtBinary builds maildiag once for the tests that run it as a process.
func builtBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := sharedTempDir("maildiag-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "maildiag")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("build maildiag: %v", binErr)
	}
	return binPath
}

// storyAccount is a generated account imported into an index.
type storyAccount struct {
	db      string
	end     time.Time
	stories *synth.Stories
}

var (
	storyOnce sync.Once
	story     storyAccount
	storyErr  error
)

// storyIndex generates a 40,000-event account, writes it as Events API JSON
// lines and its suppression lists as Mailgun's CSV exports, and imports
// them with the binary.
func storyIndex(t *testing.T) storyAccount {
	t.Helper()
	bin := builtBinary(t)
	storyOnce.Do(func() {
		dir, err := sharedTempDir("maildiag-stories")
		if err != nil {
			storyErr = err
			return
		}
		cfg := synth.Config{Seed: 11, Events: 40_000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
		events := filepath.Join(dir, "events.jsonl")
		f, err := os.Create(events)
		if err != nil {
			storyErr = err
			return
		}
		res, err := synth.Write(context.Background(), f, cfg, synth.Output{Format: synth.FormatEventsJSONL})
		f.Close()
		if err != nil {
			storyErr = err
			return
		}
		story = storyAccount{db: filepath.Join(dir, "index.db"), end: cfg.End, stories: res.Stories}
		if out, err := exec.Command(bin, "--db", story.db, "import", events).CombinedOutput(); err != nil {
			storyErr = errors.New(string(out))
			return
		}
		for _, sd := range res.SendingDomains {
			for _, format := range []synth.Format{synth.FormatBouncesCSV, synth.FormatUnsubscribesCSV, synth.FormatComplaintsCSV} {
				var buf bytes.Buffer
				if _, err := synth.Write(context.Background(), &buf, cfg, synth.Output{Format: format, SendingDomain: sd}); err != nil {
					storyErr = err
					return
				}
				p := filepath.Join(dir, sd+"."+string(format))
				if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
					storyErr = err
					return
				}
				if out, err := exec.Command(bin, "--db", story.db, "--now", listsSeen(cfg.End), "import", "--sending-domain", sd, p).CombinedOutput(); err != nil {
					storyErr = errors.New(string(out))
					return
				}
			}
		}
	})
	if storyErr != nil {
		t.Fatalf("story account: %v", storyErr)
	}
	return story
}

// runJSON runs the binary with --output json and decodes its output.
func runJSON(t *testing.T, now time.Time, db string, v any, wantCode int, args ...string) {
	t.Helper()
	args = append([]string{"--db", db, "--now", now.Format(time.RFC3339), "--output", "json"}, args...)
	out, _ := runBinary(t, wantCode, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("maildiag %s: bad JSON: %v: %.300s", strings.Join(args, " "), err, out)
	}
}

// runBinary runs the built binary, fails the test unless it exits with
// wantCode, and returns what it wrote.
func runBinary(t *testing.T, wantCode int, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != wantCode {
		t.Fatalf("maildiag %s: exit %d, want %d: %s", strings.Join(args, " "), code, wantCode, errb.String())
	}
	return out.String(), errb.String()
}

type traceJSON struct {
	Verdict struct {
		Kind     string `json:"kind"`
		Summary  string `json:"summary"`
		NextStep string `json:"next_step"`
	} `json:"verdict"`
	TypoOf     string `json:"typo_of"`
	Lookalikes []struct {
		Address string `json:"address"`
	} `json:"lookalikes"`
	Messages []struct {
		State string `json:"state"`
	} `json:"messages"`
}

func trace(t *testing.T, a storyAccount, now time.Time, who string) traceJSON {
	t.Helper()
	var tr traceJSON
	runJSON(t, now, a.db, &tr, 0, "trace", who)
	return tr
}

func TestStoryDomainWideBlock(t *testing.T) {
	a := storyIndex(t)
	s := a.stories.DomainBlock
	var res struct {
		Addresses []struct {
			Address, List string
			Cause         *struct{ Class, Gateway string }
		} `json:"addresses"`
		Verdicts []struct {
			Domain, Kind, Gateway, Class string
			InWindow                     int `json:"addresses_in_window"`
		} `json:"verdicts"`
	}
	runJSON(t, a.end, a.db, &res, 0, "suppressed", "*@"+s.Domain)
	if len(res.Verdicts) != 1 {
		t.Fatalf("verdicts: %+v", res.Verdicts)
	}
	v := res.Verdicts[0]
	if v.Kind != "domain-wide-block" || v.Gateway != s.Gateway || v.Class != "policy-block" || v.InWindow < len(s.Addresses)*9/10 {
		t.Errorf("verdict %+v, want a domain-wide block by %s with about %d addresses", v, s.Gateway, len(s.Addresses))
	}
	listed := map[string]bool{}
	for _, x := range res.Addresses {
		if x.List == "bounces" && x.Cause != nil && x.Cause.Class == "policy-block" {
			listed[x.Address] = true
		}
	}
	for _, addr := range s.Addresses {
		if !listed[addr] {
			t.Errorf("%s is not shown as suppressed by the Mimecast block", addr)
		}
	}
	// A bare domain means every address at it; no match exits 1.
	var again struct {
		Addresses []any `json:"addresses"`
	}
	runJSON(t, a.end, a.db, &again, 0, "suppressed", s.Domain)
	if len(again.Addresses) != len(res.Addresses) {
		t.Errorf("'%s' found %d addresses, '*@%s' %d", s.Domain, len(again.Addresses), s.Domain, len(res.Addresses))
	}
	runJSON(t, a.end, a.db, &again, 1, "suppressed", "*@nowhere.example")
}

func TestStoryIPBlock(t *testing.T) {
	a := storyIndex(t)
	s := a.stories.IPBlock
	var res struct {
		Groups []struct {
			Key      []string `json:"key"`
			Failures int      `json:"failures"`
		} `json:"groups"`
	}
	runJSON(t, a.end, a.db, &res, 0, "failures", "--to", "*@"+s.Domain, "--by", "class,gateway")
	got := map[string]int{}
	for _, g := range res.Groups {
		got[strings.Join(g.Key, "/")] += g.Failures
	}
	if got["rate-limited/Microsoft 365"] == 0 || got["blocklisted/Microsoft 365"] == 0 {
		t.Errorf("failures at %s by class and gateway: %v; want rate-limited deferrals and blocklisted blocks through Microsoft 365", s.Domain, got)
	}
}

func TestStoryRateLimitWave(t *testing.T) {
	a := storyIndex(t)
	s := a.stories.RateLimit
	var res struct {
		Groups []struct {
			Key      []string `json:"key"`
			Failures int      `json:"failures"`
		} `json:"groups"`
	}
	runJSON(t, a.end, a.db, &res, 0, "failures", "--to", "*@"+s.RecipientDomain, "--enhanced", "4.7.28",
		"--since", s.Start.Format(time.RFC3339), "--until", s.End.Add(time.Hour).Format(time.RFC3339), "--by", "class")
	if len(res.Groups) == 0 || res.Groups[0].Key[0] != "rate-limited" || res.Groups[0].Failures < s.Deferrals*9/10 {
		t.Errorf("the 4.7.28 wave: %+v, want about %d rate-limited deferrals", res.Groups, s.Deferrals)
	}
	// The wave ends in deliveries.
	for _, m := range s.Messages {
		if m.Outcome != "delivered" {
			continue
		}
		tr := trace(t, a, a.end, m.Recipient)
		found := false
		for _, x := range tr.Messages {
			found = found || x.State == "delivered"
		}
		if !found {
			t.Errorf("trace %s: no delivered message after the wave", m.Recipient)
		}
		break
	}
}

func TestStoryTypoDomain(t *testing.T) {
	a := storyIndex(t)
	s := a.stories.TypoDomain
	tr := trace(t, a, a.end, s.Addresses[0])
	if tr.Verdict.Kind != "typo-domain" || tr.TypoOf != s.Intended {
		t.Errorf("trace %s: %+v typo_of %q, want typo-domain of %s", s.Addresses[0], tr.Verdict, tr.TypoOf, s.Intended)
	}
}

func TestStoryLookalike(t *testing.T) {
	a := storyIndex(t)
	s := a.stories.Lookalike
	tr := trace(t, a, a.end, s.BouncedAddress)
	if tr.Verdict.Kind != "user-unknown" || len(tr.Lookalikes) == 0 || tr.Lookalikes[0].Address != s.DeliveredAddress {
		t.Errorf("trace %s: %+v lookalikes %+v, want user-unknown pointing at %s", s.BouncedAddress, tr.Verdict, tr.Lookalikes, s.DeliveredAddress)
	}
	if !strings.Contains(tr.Verdict.NextStep, s.DeliveredAddress) {
		t.Errorf("next step %q does not name %s", tr.Verdict.NextStep, s.DeliveredAddress)
	}
}

func TestStoryConfirmationDelivered(t *testing.T) {
	a := storyIndex(t)
	s := a.stories.NeverOpened
	// An hour after delivery: delivered with 250, look in spam at the MX.
	tr := trace(t, a, s.DeliveredAt.Add(time.Hour), s.Address)
	if tr.Verdict.Kind != "delivered" || !strings.Contains(tr.Verdict.Summary, s.MXHost) || !strings.Contains(tr.Verdict.Summary, "250") {
		t.Errorf("an hour after delivery: %+v, want delivered with 250 naming %s", tr.Verdict, s.MXHost)
	}
	// Two days after: the link has expired.
	tr = trace(t, a, s.DeliveredAt.Add(48*time.Hour), s.Address)
	if tr.Verdict.Kind != "link-expired" {
		t.Errorf("two days after delivery: %+v, want link-expired", tr.Verdict)
	}
	// By message-id too.
	var byID traceJSON
	runJSON(t, s.DeliveredAt.Add(time.Hour), a.db, &byID, 0, "trace", "<"+s.MessageID+">")
	if byID.Verdict.Kind != "delivered" || len(byID.Messages) != 1 {
		t.Errorf("trace by message-id: %+v, %d messages", byID.Verdict, len(byID.Messages))
	}
}

func TestStoryComplaint(t *testing.T) {
	a := storyIndex(t)
	c := a.stories.Complaints.Complaints[0]
	tr := trace(t, a, a.end, c.Address)
	if tr.Verdict.Kind != "complained" || !strings.Contains(tr.Verdict.NextStep, "consent") {
		t.Errorf("trace %s: %+v, want complained, removed only with consent", c.Address, tr.Verdict)
	}
}

func TestStoryNotFound(t *testing.T) {
	a := storyIndex(t)
	var tr traceJSON
	runJSON(t, a.end, a.db, &tr, 1, "trace", "nobody@never-mailed.example")
	if tr.Verdict.Kind != "not-found" || !strings.Contains(tr.Verdict.NextStep, "covers") {
		t.Errorf("unknown address: %+v, want not-found naming the index's range", tr.Verdict)
	}
}

func TestStoryReportAlert(t *testing.T) {
	a := storyIndex(t)
	s := a.stories.DomainBlock
	var d struct {
		Blocks []struct {
			Domain, Gateway string
		} `json:"domain_blocks"`
	}
	out := filepath.Join(t.TempDir(), "week.html")
	since := s.BlockStart.Add(-72 * time.Hour)
	runJSON(t, a.end, a.db, &d, 0, "report", "--since", since.Format(time.RFC3339), "-o", out)
	if len(d.Blocks) == 0 || d.Blocks[0].Domain != s.Domain || d.Blocks[0].Gateway != s.Gateway {
		t.Errorf("report blocks %+v, want %s behind %s first", d.Blocks, s.Domain, s.Gateway)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte(s.Domain+": domain-wide block")) {
		t.Errorf("the report file does not call out the block at %s", s.Domain)
	}
}

// Mailgun's own log-search example works, with meaning added.
func TestFailuresMailgunExample(t *testing.T) {
	a := storyIndex(t)
	var res struct {
		Failures int `json:"failures"`
		Groups   []struct {
			Key    []string `json:"key"`
			Sample struct {
				Code      int    `json:"code"`
				Recipient string `json:"recipient"`
			} `json:"sample"`
			FailureRate float64 `json:"failure_rate"`
		} `json:"groups"`
	}
	runJSON(t, a.end, a.db, &res, 0, "failures", "--code", "550", "--to", "*@gmail.com")
	if res.Failures == 0 || len(res.Groups) == 0 {
		t.Fatalf("no 550s at gmail.com: %+v", res)
	}
	for _, g := range res.Groups {
		if g.Sample.Code != 550 || !strings.HasSuffix(g.Sample.Recipient, "@gmail.com") || g.FailureRate <= 0 || g.FailureRate >= 1 {
			t.Errorf("group %v: sample %+v, rate %v", g.Key, g.Sample, g.FailureRate)
		}
	}
	var none struct {
		Failures int `json:"failures"`
	}
	runJSON(t, a.end, a.db, &none, 1, "failures", "--code", "299")
}

// Every group shows what was said about its sample failure, a message
// Mailgun rejected (no SMTP reply, only Mailgun's reason) included.
func TestFailuresSampleText(t *testing.T) {
	a := storyIndex(t)
	var res struct {
		Groups []struct {
			Key    []string `json:"key"`
			Sample struct {
				Reply string `json:"reply"`
			} `json:"sample"`
		} `json:"groups"`
	}
	runJSON(t, a.end, a.db, &res, 0, "failures", "--by", "class", "--top", "100")
	rejected := false
	for _, g := range res.Groups {
		rejected = rejected || g.Key[0] == "rejected-by-mailgun"
		if g.Sample.Reply == "" {
			t.Errorf("group %v: sample says nothing", g.Key)
		}
	}
	if !rejected {
		t.Error("no rejected-by-mailgun group in the story account")
	}
}

// listsSeen is when the story account's list exports are seen: its end,
// so that notes saying when do not depend on the hour the tests run.
func listsSeen(end time.Time) string { return end.Format(time.RFC3339) }
