package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
)

// actKey is recognisable, so that tests can look for it where it must
// never be.
const actKey = "key-ACTTEST-5d8e2b7c9a1f3e40"

// Entries planted at acme.com beside the generator's domain-wide block.
const (
	plantedBounce    = "former.staff@acme.com"      // user unknown, not the block
	plantedUnsub     = "newsletter.reader@acme.com" // unsubscribed from one tag
	plantedComplaint = "angry.reader@acme.com"      // reported spam
)

// actEnv is a generated account served by mgserver on loopback and
// synced into a fresh index, with every request recorded.
type actEnv struct {
	acct  *mgserver.Account
	res   *synth.Result
	srv   *mgserver.Server
	hs    *httptest.Server
	db    string
	end   time.Time
	block *synth.DomainBlock

	mu      sync.Mutex
	reqs    []string // "METHOD path"
	outputs []string // everything maildiag printed
}

// newActEnv serves the account and syncs it, with syncArgs added to the
// sync command.
func newActEnv(t *testing.T, syncArgs ...string) *actEnv {
	t.Helper()
	cfg := synth.Config{Seed: 11, Events: 8000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	acct, res, err := mgserver.FromSynth(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &actEnv{acct: acct, res: res, end: res.End, block: res.Stories.DomainBlock}
	e.plant(t)
	e.srv, err = mgserver.New(acct, mgserver.Options{APIKey: actKey, Now: func() time.Time { return e.end }})
	if err != nil {
		t.Fatal(err)
	}
	e.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.reqs = append(e.reqs, r.Method+" "+r.URL.Path)
		e.mu.Unlock()
		e.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(e.hs.Close)
	e.db = filepath.Join(t.TempDir(), "index.db")
	if code, _, errs := e.maildiag(t, append(append([]string{"sync"}, e.api()...), syncArgs...)...); code != 0 {
		t.Fatalf("sync: exit %d: %s", code, errs)
	}
	e.mu.Lock()
	e.reqs = nil
	e.mu.Unlock()
	return e
}

// plant adds, on the block's sending domain, a bounce at acme.com for
// another reason (with its failed event), an unsubscribe and a complaint.
func (e *actEnv) plant(t *testing.T) {
	t.Helper()
	sd := e.block.SendingDomain
	at := e.end.Add(-10 * 24 * time.Hour).Truncate(time.Second)
	ev := fmt.Sprintf(`{"event":"failed","id":"actTestUserUnknown01","timestamp":%d.000000,"log-level":"error","severity":"permanent",
		"reason":"bounce","recipient":%q,"recipient-domain":"acme.com","envelope":{"sender":"bounce@%s","transport":"smtp","targets":%q},
		"delivery-status":{"code":550,"enhanced-code":"5.1.1","message":"5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table","description":"","attempt-no":1,"mx-host":"eu-smtp-inbound-1.mimecast.com"},
		"message":{"headers":{"message-id":"acttest.1@%s","to":%q,"from":"Billing <billing@%s>","subject":"Your invoice"}},
		"flags":{"is-delayed-bounce":false}}`, at.Unix(), plantedBounce, sd, plantedBounce, plantedBounce, sd, plantedBounce, sd)
	if err := e.acct.AddEvent(sd, []byte(ev), nil); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.acct.AddBounce(sd, synth.Bounce{Address: plantedBounce, Code: "550", Error: "5.1.1 <" + plantedBounce + ">: Recipient address rejected: User unknown in virtual mailbox table", CreatedAt: at.Add(time.Second)}))
	must(e.acct.AddUnsubscribe(sd, synth.Unsubscribe{Address: plantedUnsub, Tags: []string{"newsletter"}, CreatedAt: at.Add(time.Hour)}))
	must(e.acct.AddComplaint(sd, synth.Complaint{Address: plantedComplaint, CreatedAt: at.Add(2 * time.Hour)}))
}

// api are the flags that point a command at the env's server.
func (e *actEnv) api() []string {
	return []string{"--api-base", e.hs.URL, "--api-key", actKey, "--retry-delay", "5ms"}
}

// maildiag runs a command on the env's index with the clock at the
// account's end.
func (e *actEnv) maildiag(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	all := append([]string{"--db", e.db, "--now", e.end.Format(time.RFC3339)}, args...)
	code, out, errs := run(t, "", all...)
	e.mu.Lock()
	e.outputs = append(e.outputs, out, errs)
	e.mu.Unlock()
	return code, out, errs
}

// jsonRun runs a command with --output json, checks its exit code and
// decodes its output into v.
func (e *actEnv) jsonRun(t *testing.T, v any, wantCode int, args ...string) string {
	t.Helper()
	code, out, errs := e.maildiag(t, append([]string{"--output", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("maildiag %s: exit %d, want %d: %s", strings.Join(args, " "), code, wantCode, errs)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("maildiag %s: bad JSON: %v: %.300s", strings.Join(args, " "), err, out)
		}
	}
	return errs
}

// requests counts the requests of a method since sync.
func (e *actEnv) requests(method string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.reqs {
		if strings.HasPrefix(r, method+" ") {
			n++
		}
	}
	return n
}

// listSnapshot is every entry of every list of every sending domain, as
// text that includes codes, errors, tags and creation times.
type listSnapshot map[string]string // "domain list address" -> entry

func (e *actEnv) lists() listSnapshot {
	s := listSnapshot{}
	for _, d := range e.acct.Domains() {
		for _, b := range e.acct.Bounces(d) {
			s[d+" bounces "+b.Address] = fmt.Sprintf("code=%s error=%q created=%s", b.Code, b.Error, b.CreatedAt.UTC().Format(time.RFC3339))
		}
		for _, u := range e.acct.Unsubscribes(d) {
			s[d+" unsubscribes "+u.Address] = fmt.Sprintf("tags=%v created=%s", u.Tags, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		for _, c := range e.acct.Complaints(d) {
			s[d+" complaints "+c.Address] = "created=" + c.CreatedAt.UTC().Format(time.RFC3339)
		}
	}
	return s
}

// without is the snapshot minus the entries drop selects.
func (s listSnapshot) without(drop func(domain, list, address string) bool) listSnapshot {
	out := listSnapshot{}
	for k, v := range s {
		f := strings.SplitN(k, " ", 3)
		if !drop(f[0], f[1], f[2]) {
			out[k] = v
		}
	}
	return out
}

// diff describes how two snapshots differ, "" when they are the same.
func (s listSnapshot) diff(want listSnapshot) string {
	var d []string
	for k, v := range want {
		if g, ok := s[k]; !ok {
			d = append(d, "missing "+k)
		} else if g != v {
			d = append(d, fmt.Sprintf("%s: got %s, want %s", k, g, v))
		}
	}
	for k := range s {
		if _, ok := want[k]; !ok {
			d = append(d, "extra "+k)
		}
	}
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("... %d more", len(d)-10))
	}
	return strings.Join(d, "\n")
}

// checkNoKey fails when the API key appears in anything maildiag printed
// or wrote: outputs, the index file and its WAL, the backups.
func (e *actEnv) checkNoKey(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	for _, o := range e.outputs {
		if strings.Contains(o, actKey) {
			t.Errorf("the API key appears in maildiag's output: %.200s", o)
		}
	}
	e.mu.Unlock()
	filepath.Walk(filepath.Dir(e.db), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), actKey) {
			t.Errorf("the API key is in %s", p)
		}
		return nil
	})
}

// removeJSON is remove's --output json.
type removeJSON struct {
	DryRun    bool   `json:"dry_run"`
	Matched   int    `json:"matched"`
	BackupDir string `json:"backup_dir"`
	Backups   []struct {
		File          string `json:"file"`
		SendingDomain string `json:"sending_domain"`
		List          string `json:"list"`
		Entries       int    `json:"entries"`
	} `json:"backups"`
	Removed  int `json:"removed"`
	NotFound int `json:"not_found"`
	Failed   int `json:"failed"`
	Entries  []struct {
		Address       string `json:"address"`
		List          string `json:"list"`
		SendingDomain string `json:"sending_domain"`
		Class         string `json:"class"`
		Source        string `json:"source"`
		Backup        string `json:"backup"`
		Result        string `json:"result"`
		Error         string `json:"error"`
	} `json:"entries"`
}

// auditJSON is one row of maildiag audit --output json.
type auditJSON struct {
	User          string `json:"os_user"`
	Action        string `json:"action"`
	Command       string `json:"command"`
	Address       string `json:"address"`
	List          string `json:"list"`
	SendingDomain string `json:"sending_domain"`
	BackupFile    string `json:"backup_file"`
	MessageID     string `json:"message_id"`
	ApprovedBy    string `json:"approved_by"`
	OriginalTo    string `json:"original_to"`
	Result        string `json:"result"`
	Detail        string `json:"detail"`
}
