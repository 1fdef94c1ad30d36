package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/synth"
)

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitUp waits until the server answers /healthz.
func waitUp(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the server at %s never answered", addr)
}

// users add, tokens create and serve, end to end: the token opens the
// API, the server stops on cancel, and no key is printed.
func TestServeUsersTokens(t *testing.T) {
	db := tempDB(t)
	if code, _, errs := run(t, "", "--db", db, "users", "add", "vic", "--role", "boss"); code != exitUsage || !strings.Contains(errs, "viewer, agent, lead") {
		t.Errorf("a bad role: exit %d %s, want 2", code, errs)
	}
	if code, _, errs := run(t, "", "--db", db, "users", "add", "vic", "--role", "viewer"); code != 0 {
		t.Fatalf("users add: %d %s", code, errs)
	}
	if code, _, _ := run(t, "", "--db", db, "users", "add", "vic", "--role", "lead"); code != exitFailure {
		t.Errorf("adding vic again: exit %d, want 3", code)
	}
	if code, _, _ := run(t, "", "--db", db, "tokens", "create", "nobody"); code != exitNo {
		t.Errorf("a token for no user: exit %d, want 1", code)
	}
	code, out, errs := run(t, "", "--db", db, "--output", "json", "tokens", "create", "vic", "--label", "helpdesk")
	var tok tokenOut
	if err := json.Unmarshal([]byte(out), &tok); code != 0 || err != nil || !strings.HasPrefix(tok.Token, "mdg_") || tok.Role != "viewer" {
		t.Fatalf("tokens create: %d %s %s", code, out, errs)
	}
	if rows := queryJSON(t, db, "SELECT COUNT(*) AS n FROM api_tokens WHERE hex(hash) LIKE '%'"); rows[0]["n"] != float64(1) {
		t.Errorf("tokens stored: %v", rows)
	}
	const sigKey = "whsec-serve-cmd-test"
	t.Setenv("MG_WEBHOOK_SIGNING_KEY", sigKey)
	t.Setenv("MG_API_KEY", "")
	t.Setenv("MAILGUN_API_KEY", "")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var outb, errb syncBuf
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"--db", db, "serve", "--listen", addr}, strings.NewReader(""), &outb, &errb)
	}()
	waitUp(t, addr)
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "sync is off") {
		t.Errorf("status: %d %s", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve stopped with exit %d: %s", code, errb.String())
	}
	logs := errb.String()
	if !strings.Contains(logs, "http://"+addr+"/") || !strings.Contains(logs, "stopped") || !strings.Contains(logs, "sync is off") {
		t.Errorf("serve's stderr: %s", logs)
	}
	if strings.Contains(logs+outb.String(), sigKey) || strings.Contains(logs, tok.Token) {
		t.Error("a secret is in serve's output")
	}
}

// syncBuf is a buffer two goroutines use.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Killed with -9 under webhook load, the server loses nothing it
// answered 2xx to: every such webhook's token and event are in the index.
func TestServeKilledUnderWebhookLoad(t *testing.T) {
	bin := buildMaildiag(t)
	db := tempDB(t)
	cfg := synth.Config{Seed: 5, Events: 20000, Days: 7, End: synth.DefaultEnd, NoStories: true}
	var hooks bytes.Buffer
	res, err := synth.Write(context.Background(), &hooks, cfg, synth.Output{Format: synth.FormatWebhooks})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(hooks.Bytes()), []byte("\n"))
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--db", db, "serve", "--listen", addr, "--webhook-max-age", "87600h")
	cmd.Env = append(os.Environ(), "MG_WEBHOOK_SIGNING_KEY="+res.SigningKey, "MG_API_KEY=", "MAILGUN_API_KEY=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitUp(t, addr)
	answered := loadUntilKilled(t, cmd, addr, lines)
	ro, err := index.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	seen := map[string]bool{}
	for _, r := range testkit.Query(t, ro, "SELECT token FROM webhook_tokens") {
		seen[r[0].(string)] = true
	}
	lost := 0
	for _, tok := range answered {
		if !seen[tok] {
			lost++
		}
	}
	events := testkit.Query(t, ro, "SELECT COUNT(*) FROM events")[0][0].(int64)
	t.Logf("%d webhooks answered 200 before the kill, %d tokens and %d events in the index", len(answered), len(seen), events)
	if lost > 0 || events < int64(len(answered)) {
		t.Errorf("%d of %d webhooks answered 200 are not in the index (%d events)", lost, len(answered), events)
	}
}

// loadUntilKilled posts webhooks to the server cmd runs at addr from 16
// clients, kills it with -9 once 1500 are answered (with requests in
// flight), and returns the tokens of those answered 200.
func loadUntilKilled(t *testing.T, cmd *exec.Cmd, addr string, lines [][]byte) []string {
	t.Helper()
	var mu sync.Mutex
	var answered []string // tokens of the webhooks answered 200
	next := make(chan []byte)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range next {
				resp, err := client.Post("http://"+addr+"/webhooks/mailgun", "application/json", bytes.NewReader(l))
				if err != nil {
					continue // killed
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					var w struct{ Signature struct{ Token string } }
					json.Unmarshal(l, &w)
					mu.Lock()
					answered = append(answered, w.Signature.Token)
					mu.Unlock()
				}
			}
		}()
	}
	killed := false
	for i, l := range lines {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if !killed && (n >= 1500 || i == len(lines)-1) {
			cmd.Process.Kill() // SIGKILL, with requests in flight
			killed = true
		}
		next <- l
	}
	close(next)
	wg.Wait()
	cmd.Wait()
	if len(answered) < 1000 {
		t.Fatalf("only %d webhooks answered before the kill", len(answered))
	}
	return answered
}
