package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a buffer the server's goroutines can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	ready, manifestFile := filepath.Join(dir, "url"), filepath.Join(dir, "manifest.json")
	os.WriteFile(ready, []byte("http://stale.invalid\n"), 0o644)
	const key = "serve-test-secret-key"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--seed", "4", "--events", "1500", "--days", "3",
			"--no-stories", "--end", fixedEnd, "--api-key", key, "--ready-file", ready, "--manifest", manifestFile,
			"--verbose", "--fault-429", "first=1"}, iostreams{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	var base string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && !strings.Contains(string(b), "stale") {
			base = strings.TrimSpace(string(b))
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it was ready: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no ready file after 20s")
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || out.String() != base+"\n" {
		t.Fatalf("ready file %q, stdout %q; want the same loopback base URL", base, out.String())
	}
	get := func(path, user, pass string) (int, []byte, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, resp.Header
	}
	if code, _, h := get("/v3/domains", "api", key); code != 429 || len(h.Get("X-Request-Reset")) != 13 {
		t.Errorf("first request: %d, want the 429 of --fault-429 first=1", code)
	}
	code, body, _ := get("/v3/domains", "api", key)
	var list struct {
		TotalCount int `json:"total_count"`
	}
	if json.Unmarshal(body, &list); code != 200 || list.TotalCount != 4 {
		t.Errorf("domains: %d %s", code, body)
	}
	if code, body, _ := get("/v3/domains", "api", "wrong"); code != 401 || string(body) != "Forbidden" {
		t.Errorf("wrong key: %d %q", code, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after cancel: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s of the signal")
	}
	logs := errb.String()
	if strings.Count(logs, "GET /v3/domains") != 3 {
		t.Errorf("--verbose logged %q, want one line per request", logs)
	}
	if strings.Contains(logs+out.String(), key) {
		t.Error("the API key was printed")
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Errorf("ready file left behind after stopping (%v)", err)
	}
	var m manifest
	b, err := os.ReadFile(manifestFile)
	if err != nil || json.Unmarshal(b, &m) != nil || m.Events != 1500 || len(m.SendingDomains) != 4 {
		t.Errorf("manifest %.200s (%v)", b, err)
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "example.com:80", "[::]:0"} {
		code, _, errs := mgsim(t, "serve", "--addr", addr, "--api-key", "k", "--events", "10")
		if code != exitUsage || !strings.Contains(errs, "loopback") {
			t.Errorf("--addr %s: exit %d, %q; want a usage error about loopback", addr, code, errs)
		}
	}
}

func TestServeUsageErrors(t *testing.T) {
	t.Setenv("MG_API_KEY", "")
	cases := [][]string{
		{"serve"}, // no key
		{"serve", "--api-key", "k", "--fault-429", "sometimes"},
		{"serve", "--api-key", "k", "--late-fraction", "2"},
		{"serve", "--api-key", "k", "--end", "tomorrow"},
		{"serve", "--api-key", "k", "extra"},
	}
	for _, args := range cases {
		if code, _, errs := mgsim(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, errs, exitUsage)
		}
	}
}
