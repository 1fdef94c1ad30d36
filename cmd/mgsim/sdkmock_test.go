package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sdk-mock serves mailgun-go's mock on loopback until interrupted, and
// announces its URL on stdout and in the ready file.
func TestSDKMockServes(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sdk-mock", "--ready-file", ready}, iostreams{Out: &out, Err: &errb})
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil {
			base = strings.TrimSpace(string(b))
			break
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("ready file says %q, want a loopback URL", base)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v4/domains", nil)
	req.SetBasicAuth("api", "any")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /v4/domains: %d", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 || !strings.Contains(out.String(), base) {
		t.Errorf("exit %d, stdout %q", code, out.String())
	}
	if _, err := os.Stat(ready); err == nil {
		t.Error("the ready file outlived the server")
	}
}
