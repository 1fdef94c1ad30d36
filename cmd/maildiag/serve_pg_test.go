package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/server"
	"github.com/maildiag/maildiag/synth"
)

// Two maildiag serve processes on one PostgreSQL index, as behind a load
// balancer: users and tokens made with the CLI on PostgreSQL open both, a
// webhook one process stored is a replay at the other, both see the same
// index, and neither shows the database password or a key.
func TestServeTwoProcessesPostgres(t *testing.T) {
	u := pgIndex(t)
	if code, _, errs := run(t, "", "--db", u, "users", "add", "vic", "--role", "viewer"); code != 0 {
		t.Fatalf("users add on PostgreSQL: %d %s", code, errs)
	}
	if code, _, _ := run(t, "", "--db", u, "users", "add", "vic", "--role", "lead"); code != exitFailure {
		t.Errorf("adding vic again: exit %d, want 3", code)
	}
	if code, _, _ := run(t, "", "--db", u, "tokens", "create", "nobody"); code != exitNo {
		t.Errorf("a token for no user: exit %d, want 1", code)
	}
	code, out, errs := run(t, "", "--db", u, "--output", "json", "tokens", "create", "vic", "--label", "helpdesk")
	var tok tokenOut
	if err := json.Unmarshal([]byte(out), &tok); code != 0 || err != nil || !strings.HasPrefix(tok.Token, "mdg_") {
		t.Fatalf("tokens create on PostgreSQL: %d %s %s", code, out, errs)
	}
	code, out, _ = run(t, "", "--db", u, "--output", "json", "users", "list")
	if code != 0 || !strings.Contains(out, `"name": "vic"`) {
		t.Errorf("users list on PostgreSQL: %d %s", code, out)
	}

	cfg := mgtest.Config(200, mgtest.Domains[0])
	var hooks bytes.Buffer
	res, err := synth.Write(context.Background(), &hooks, cfg, synth.Output{Format: synth.FormatWebhooks})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(hooks.Bytes()), []byte("\n"))
	bin := builtBinary(t)
	type proc struct {
		addr string
		cmd  *exec.Cmd
		errb bytes.Buffer
	}
	start := func() *proc {
		p := &proc{addr: freeAddr(t)}
		p.cmd = exec.Command(bin, "--db", u, "serve", "--listen", p.addr, "--webhook-max-age", "87600h")
		p.cmd.Env = append(os.Environ(), "MG_WEBHOOK_SIGNING_KEY="+res.SigningKey, "MG_API_KEY=", "MAILGUN_API_KEY=")
		p.cmd.Stderr = &p.errb
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
		waitUp(t, p.addr)
		return p
	}
	a, b := start(), start()
	hook := func(p *proc, body []byte) int {
		t.Helper()
		resp, err := http.Post("http://"+p.addr+"/webhooks/mailgun", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	half := len(lines) / 2
	for i, l := range lines {
		p := a
		if i >= half {
			p = b
		}
		if code := hook(p, l); code != 200 {
			t.Fatalf("webhook %d: %d", i, code)
		}
	}
	if code := hook(b, lines[0]); code != 406 {
		t.Errorf("a webhook the first process stored, replayed at the second: %d, want 406", code)
	}
	if code := hook(a, lines[len(lines)-1]); code != 406 {
		t.Errorf("a webhook the second process stored, replayed at the first: %d, want 406", code)
	}
	for _, p := range []*proc{a, b} {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st server.Status
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || st.Index == nil || st.Index.Events != int64(len(lines)) || st.Sync.Enabled {
			t.Errorf("status at %s: %d %v %+v, want %d events, sync off", p.addr, resp.StatusCode, err, st.Index, len(lines))
		}
	}
	for _, p := range []*proc{a, b} {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve at %s stopped: %v: %s", p.addr, err, p.errb.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("serve at %s did not stop on SIGINT", p.addr)
		}
		logs := p.errb.String()
		noSecret(t, "serve's log", logs)
		if strings.Contains(logs, res.SigningKey) || strings.Contains(logs, tok.Token) {
			t.Error("a key or a token is in serve's log")
		}
		if !strings.Contains(logs, "[redacted]") || !strings.Contains(logs, "stopped") {
			t.Errorf("serve's log should name the index without its password, and stop:\n%s", logs)
		}
	}
}

// Killed with -9 under webhook load on a PostgreSQL index, the server
// loses nothing it answered 2xx to: its webhook writer merges a batch's
// events at the commit it answers after.
func TestServeKilledUnderWebhookLoadPostgres(t *testing.T) {
	bin := builtBinary(t)
	u := pgIndex(t)
	cfg := synth.Config{Seed: 5, Events: 20000, Days: 7, End: synth.DefaultEnd, NoStories: true}
	var hooks bytes.Buffer
	res, err := synth.Write(context.Background(), &hooks, cfg, synth.Output{Format: synth.FormatWebhooks})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(hooks.Bytes()), []byte("\n"))
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--db", u, "serve", "--listen", addr, "--webhook-max-age", "87600h")
	cmd.Env = append(os.Environ(), "MG_WEBHOOK_SIGNING_KEY="+res.SigningKey, "MG_API_KEY=", "MAILGUN_API_KEY=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitUp(t, addr)
	answered := loadUntilKilled(t, cmd, addr, lines)
	conn := pgtest.Conn(t, u)
	rows, err := conn.Query(context.Background(), `SELECT token FROM webhook_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		seen[tok] = true
	}
	rows.Close()
	lost := 0
	for _, tok := range answered {
		if !seen[tok] {
			lost++
		}
	}
	var events int64
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d webhooks answered 200 before the kill, %d tokens and %d events in the index", len(answered), len(seen), events)
	if lost > 0 || events < int64(len(answered)) {
		t.Errorf("%d of %d webhooks answered 200 are not in the index (%d events)", lost, len(answered), events)
	}
}
