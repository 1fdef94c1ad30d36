package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/index/pg"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/syncer"
)

const testSigningKey = "whsec-api-test-5f2a"

// storyServer is the team server over an index synced from the
// generator's account with its stories, acting on that account.
type storyServer struct {
	*testServer
	mg     *mgtest.Server
	tokens map[string]string // by role, and "lead2"
}

func newStoryServer(t *testing.T) *storyServer { return newStoryServerOn(t, "sqlite") }

// newStoryServerOn is newStoryServer on an engine: "sqlite" or "postgres".
func newStoryServerOn(t *testing.T, engine string) *storyServer {
	t.Helper()
	mg := mgtest.NewStories(t)
	ctx := context.Background()
	o := syncer.Options{Lookback: 30 * 24 * time.Hour, LateThreshold: 30 * time.Minute, Workers: 8, Now: mg.Clock.Now}
	cfg := Config{SigningKey: testSigningKey, Mailgun: testkit.Client(t, mg.URL, mgtest.Key, 8), APIKey: mgtest.Key, Now: mg.Clock.Now}
	// syncInto fills a freshly opened index with the stories' account.
	syncInto := func(st syncer.Store, w interface {
		syncer.Writer
		Close() error
	}, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := syncer.Run(ctx, st, w, testkit.Client(t, mg.URL, mgtest.Key, 8), o, nil); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	var ts *testServer
	switch engine {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "index.db")
		db, err := index.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := db.NewWriter(ctx)
		syncInto(db, w, err)
		db.Close()
		ts = startServer(t, path, cfg)
	case "postgres":
		u := pgtest.URL(t)
		db, err := pg.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		w, err := db.NewWriter(ctx)
		syncInto(db, w, err)
		db.Close()
		ts = startPGServer(t, u, cfg)
	default:
		t.Fatalf("engine %q", engine)
	}
	mg.Forget()
	s := &storyServer{testServer: ts, mg: mg, tokens: map[string]string{}}
	for _, r := range maildiag.Roles {
		s.tokens[r] = ts.user(t, r, r)
	}
	s.tokens["lead2"] = ts.user(t, "lead2", maildiag.RoleLead)
	return s
}

// Every endpoint times every role: what each may do, and nothing without
// a token. Actions are dry runs here; TestResendApproval and
// TestRemoveAsAgent act for real.
func TestAuthorizationMatrix(t *testing.T) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { authorizationMatrix(t, e) })
	}
}

func authorizationMatrix(t *testing.T, engine string) {
	s := newStoryServerOn(t, engine)
	m := s.mg.FindMessage(t, 2*time.Hour, 48*time.Hour)
	type call struct {
		method, path string
		body         any
		want         map[string]int // by role; "" is no token
	}
	all := func(code int) map[string]int {
		return map[string]int{"": 401, "viewer": code, "agent": code, "lead": code}
	}
	sd := s.mg.Acct.Domains()[0]
	bounces := writeBackup(t, s.testServer, sd, "bounces", "address,code,error,created_at\nnobody@acme.com,550,no such user,\"Thu, 19 Nov 2026 10:00:00 UTC\"\n")
	complaints := writeBackup(t, s.testServer, sd, "complaints", "address,created_at\nnobody@acme.com,\"Thu, 19 Nov 2026 10:00:00 UTC\"\n")
	calls := []call{
		{"GET", "/api/v1/status", nil, all(200)},
		{"GET", "/api/v1/events?to=*@acme.com&limit=5", nil, all(200)},
		{"GET", "/api/v1/trace/" + url.PathEscape(m.Recipient), nil, all(200)},
		{"GET", "/api/v1/suppressed/acme.com", nil, all(200)},
		{"GET", "/api/v1/failures?by=class", nil, all(200)},
		{"GET", "/api/v1/health?since=7d", nil, all(200)},
		{"GET", "/api/v1/audit", nil, all(200)},
		{"GET", "/api/v1/resend-requests", nil, all(200)},
		{"POST", "/api/v1/suppressions/remove", RemoveRequest{Pattern: "*@acme.com"}, map[string]int{"": 401, "viewer": 403, "agent": 200, "lead": 200}},
		{"POST", "/api/v1/suppressions/remove", RemoveRequest{Pattern: "*@acme.com", Lists: []string{"complaints"}}, map[string]int{"": 401, "viewer": 403, "agent": 403, "lead": 200}},
		{"POST", "/api/v1/suppressions/remove", RemoveRequest{Pattern: "*@acme.com", Lists: []string{"unsubscribes"}}, map[string]int{"": 401, "viewer": 403, "agent": 403, "lead": 200}},
		{"POST", "/api/v1/suppressions/restore", RestoreRequest{Backups: []string{bounces}}, map[string]int{"": 401, "viewer": 403, "agent": 200, "lead": 200}},
		{"POST", "/api/v1/suppressions/restore", RestoreRequest{Backups: []string{complaints}}, map[string]int{"": 401, "viewer": 403, "agent": 403, "lead": 200}},
		{"POST", "/api/v1/suppressions/restore", RestoreRequest{Backups: []string{"../index.db"}}, map[string]int{"": 401, "viewer": 403, "agent": 400, "lead": 400}},
		{"POST", "/api/v1/resend", ResendAsk{Query: m.ID, Anyway: true}, map[string]int{"": 401, "viewer": 403, "agent": 200, "lead": 200}},
		{"POST", "/api/v1/resend-requests/999/approve", nil, map[string]int{"": 401, "viewer": 403, "agent": 403, "lead": 404}},
		{"POST", "/api/v1/resend-requests/999/decline", nil, map[string]int{"": 401, "viewer": 403, "agent": 403, "lead": 404}},
	}
	var bodies []string
	for _, c := range calls {
		for _, role := range []string{"", "viewer", "agent", "lead"} {
			code, body := s.do(t, c.method, c.path, s.tokens[role], c.body)
			if code != c.want[role] {
				t.Errorf("%s %s as %q: %d %s, want %d", c.method, c.path, role, code, truncate(body), c.want[role])
			}
			bodies = append(bodies, string(body))
			t.Logf("%-4s %-45s %-6s %d", c.method, c.path, role, code)
		}
	}
	if n := len(s.mg.Acct.Sends()); n != 0 {
		t.Errorf("dry runs sent %d messages", n)
	}
	if n := s.mg.Requests("POST"); n != 0 {
		t.Errorf("dry runs made %d POST requests to Mailgun", n)
	}
	noSecrets(t, s, bodies)
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// noSecrets fails when a key or a token is in an answer or the log.
func noSecrets(t *testing.T, s *storyServer, bodies []string) {
	t.Helper()
	secrets := []string{mgtest.Key, testSigningKey}
	for _, tok := range s.tokens {
		secrets = append(secrets, tok)
	}
	for _, sec := range secrets {
		for _, b := range bodies {
			if strings.Contains(b, sec) {
				t.Errorf("a secret (%.8s...) is in an answer", sec)
			}
		}
		if strings.Contains(s.Log.String(), sec) {
			t.Errorf("a secret (%.8s...) is in the log", sec)
		}
	}
}

// A resend to another address is a request an agent files and a second
// person with the lead role approves; the audit names both with times.
func TestResendApproval(t *testing.T) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { resendApproval(t, e) })
	}
}

func resendApproval(t *testing.T, engine string) {
	s := newStoryServerOn(t, engine)
	m := s.mg.FindMessage(t, 2*time.Hour, 48*time.Hour)
	other := "jane.doe@elsewhere.example"
	code, body := s.do(t, "POST", "/api/v1/resend", s.tokens["agent"], ResendAsk{Query: m.ID, To: other, Reason: "the customer asked by phone", Yes: true})
	var ans ResendAnswer
	if err := json.Unmarshal(body, &ans); code != 202 || err != nil || ans.Request == nil || ans.Request.Status != "pending" {
		t.Fatalf("request: %d %s, want 202 with a pending request", code, body)
	}
	id := ans.Request.ID
	if n := len(s.mg.Acct.Sends()); n != 0 {
		t.Fatalf("a request sent %d messages before approval", n)
	}
	approve := fmt.Sprintf("/api/v1/resend-requests/%d/approve", id)
	if code, body := s.do(t, "POST", approve, s.tokens["agent"], nil); code != 403 {
		t.Errorf("an agent approves: %d %s, want 403", code, body)
	}
	// A lead may not approve their own request.
	code, body = s.do(t, "POST", "/api/v1/resend", s.tokens["lead2"], ResendAsk{Query: m.ID, To: "other2@elsewhere.example"})
	if code != 202 {
		t.Fatalf("lead2's request: %d %s", code, body)
	}
	json.Unmarshal(body, &ans)
	if code, body := s.do(t, "POST", fmt.Sprintf("/api/v1/resend-requests/%d/approve", ans.Request.ID), s.tokens["lead2"], nil); code != 403 {
		t.Errorf("a lead approves their own request: %d %s, want 403", code, body)
	}
	code, body = s.do(t, "POST", approve, s.tokens["lead"], nil)
	var req maildiag.ResendRequest
	if err := json.Unmarshal(body, &req); code != 200 || err != nil || req.Status != "sent" || req.DecidedBy != "lead" {
		t.Fatalf("approval: %d %s, want 200 sent by lead", code, body)
	}
	sends := s.mg.Acct.Sends()
	if len(sends) != 1 || !slices.Equal(sends[0].To, []string{other}) {
		t.Fatalf("sends %+v, want one to %s", sends, other)
	}
	if code, body := s.do(t, "POST", approve, s.tokens["lead2"], nil); code != 409 {
		t.Errorf("approving again: %d %s, want 409", code, body)
	}
	code, body = s.do(t, "GET", "/api/v1/audit", s.tokens["viewer"], nil)
	var audit []maildiag.AuditEntry
	if err := json.Unmarshal(body, &audit); code != 200 || err != nil {
		t.Fatalf("audit: %d %s", code, truncate(body))
	}
	var sent *maildiag.AuditEntry
	for i := range audit {
		if audit[i].Action == maildiag.AuditResend && audit[i].Result == maildiag.AuditSent {
			sent = &audit[i]
		}
	}
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	if sent == nil || sent.User != "agent" || !strings.HasPrefix(sent.ApprovedBy, "lead at ") || !stamp.MatchString(sent.ApprovedBy) ||
		!strings.Contains(sent.Command, "of agent at ") || sent.Address != other || sent.Detail != sends[0].NewMessageID {
		t.Errorf("audit of the resend %+v: want agent's request with its time, approved by lead with the time", sent)
	}
}

// An agent removes the bounces of a customer domain for real: backup
// first, the deletes reach the account, the audit names the agent.
func TestRemoveAsAgent(t *testing.T) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { removeAsAgent(t, e) })
	}
}

func removeAsAgent(t *testing.T, engine string) {
	s := newStoryServerOn(t, engine)
	code, body := s.do(t, "POST", "/api/v1/suppressions/remove", s.tokens["agent"], RemoveRequest{Pattern: "*@acme.com", Yes: true})
	var res struct {
		DryRun  bool `json:"dry_run"`
		Removed int  `json:"removed"`
		Backups []struct {
			File string `json:"file"`
		} `json:"backups"`
	}
	if err := json.Unmarshal(body, &res); code != 200 || err != nil || res.DryRun || res.Removed == 0 || len(res.Backups) == 0 {
		t.Fatalf("remove: %d %s, want bounces removed after a backup", code, truncate(body))
	}
	code, body = s.do(t, "GET", "/api/v1/audit", s.tokens["viewer"], nil)
	var audit []maildiag.AuditEntry
	if err := json.Unmarshal(body, &audit); code != 200 || err != nil {
		t.Fatalf("audit: %d %s", code, truncate(body))
	}
	removed := 0
	for _, a := range audit {
		if a.Action == maildiag.AuditRemove && a.Result == maildiag.AuditRemoved {
			removed++
			if a.User != "agent" || !strings.HasPrefix(a.Command, "maildiag serve: POST /api/v1/suppressions/remove") {
				t.Errorf("audit %+v: want the agent and the request", a)
			}
		}
	}
	if removed != res.Removed {
		t.Errorf("%d removals audited, want %d", removed, res.Removed)
	}
}

// The OpenAPI description lists every route of the API the mux serves,
// and nothing it does not.
func TestOpenAPIListsRoutes(t *testing.T) {
	ts := startServer(t, "", Config{})
	code, body := ts.do(t, "GET", "/api/v1/openapi.json", "", nil)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); code != 200 || err != nil {
		t.Fatalf("openapi.json: %d %v", code, err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	for _, r := range ts.srv.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/webhooks/") || path == "/healthz" {
			served[method+" "+path] = true
			if !documented[r] {
				t.Errorf("%s is served but not in openapi.json", r)
			}
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("%s is in openapi.json but not served", r)
		}
	}
	if len(served) < 15 {
		t.Errorf("only %d API routes served", len(served))
	}
}

// browser is a client with cookies, not following redirects.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page: status and body.
func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// logIn logs a browser in with a token.
func logIn(t *testing.T, c *http.Client, base, token string) (int, string) {
	t.Helper()
	_, page := get(t, c, base+"/login")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the log-in page:\n%s", page)
	}
	return postForm(t, c, base+"/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/search"}})
}

// The UI: log-in, pages readable without JavaScript, CSRF on every form,
// roles, a rate-limited log-in; sessions and log-in failures are kept in
// the index, SQLite or PostgreSQL.
func TestUI(t *testing.T) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { testUI(t, e) })
	}
}

func testUI(t *testing.T, engine string) {
	s := newStoryServerOn(t, engine)
	c := browser(t)
	if code, _ := get(t, c, s.URL+"/search"); code != 303 {
		t.Errorf("search before log-in: %d, want a redirect to the log-in", code)
	}
	if code, _ := logIn(t, c, s.URL, s.tokens["agent"]); code != 303 {
		t.Fatalf("log-in: %d", code)
	}
	code, page := get(t, c, s.URL+"/search?to=*%40acme.com&event=failed")
	if code != 200 || !strings.Contains(page, `id="results"`) || !strings.Contains(page, "@acme.com</a>") {
		t.Fatalf("search page: %d\n%.2000s", code, page)
	}
	code, page = get(t, c, s.URL+"/domain/acme.com")
	m := csrfField.FindStringSubmatch(page)
	if code != 200 || m == nil || !strings.Contains(page, `id="remove"`) {
		t.Fatalf("domain page: %d, want a remove form\n%.2000s", code, page)
	}
	if code, _ := postForm(t, c, s.URL+"/domain/acme.com/remove", url.Values{"list": {"bounces"}}); code != 403 {
		t.Errorf("remove without the CSRF token: %d, want 403", code)
	}
	if code, _ := postForm(t, c, s.URL+"/domain/acme.com/remove", url.Values{"list": {"bounces"}, "csrf": {"forged"}}); code != 403 {
		t.Errorf("remove with a forged CSRF token: %d, want 403", code)
	}
	code, page = postForm(t, c, s.URL+"/domain/acme.com/remove", url.Values{"list": {"bounces"}, "csrf": {m[1]}})
	if code != 200 || !strings.Contains(page, "Dry run") || !strings.Contains(page, `id="removal"`) {
		t.Errorf("remove (dry run) with the CSRF token: %d\n%.2000s", code, page)
	}
	if code, _ = postForm(t, c, s.URL+"/domain/acme.com/remove", url.Values{"list": {"complaints"}, "csrf": {m[1]}}); code != 403 {
		t.Errorf("an agent removes complaints in the UI: %d, want 403", code)
	}
	if code, page = get(t, c, s.URL+"/address/"+url.PathEscape(s.mg.FindMessage(t, 2*time.Hour, 48*time.Hour).Recipient)); code != 200 || !strings.Contains(page, `id="verdict"`) {
		t.Errorf("address page: %d", code)
	}
	for _, p := range []string{"/", "/audit", "/resends", "/health"} {
		if code, _ := get(t, c, s.URL+p); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	resp, err := c.Get(s.URL + "/search")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("content policy %q", csp)
	}

	// Log-in failures are limited per client, in the index.
	c2 := browser(t)
	for i := range loginBurst {
		if code, _ := logIn(t, c2, s.URL, "mdg_wrong"); code != 401 {
			t.Errorf("bad token %d: %d, want 401", i+1, code)
		}
	}
	if code, _ := logIn(t, c2, s.URL, s.tokens["viewer"]); code != 429 {
		t.Errorf("a good token after %d failures: %d, want 429", loginBurst, code)
	}
	noSecrets(t, s, nil)
}
