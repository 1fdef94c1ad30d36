package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/internal/mgtest"
)

// TestKeyInAPIBaseNeverShown: with --api-base http://api:KEY@host the dry
// run of suppressions remove printed the key in its hint and stored it in
// its audit rows, sync --output json printed it in api_base, and a server
// echoing the Authorization header got its base64 form into stderr and
// audit.error. The key works from the URL and is shown nowhere, in no
// encoding.
func TestKeyInAPIBaseNeverShown(t *testing.T) {
	e := newActEnv(t)
	b64 := base64.StdEncoding.EncodeToString([]byte("api:" + mgtest.Key))
	keyBase := "http://api:" + mgtest.Key + "@" + e.Host()

	// The key in the environment too, as a user would have it.
	t.Setenv("MG_API_KEY", mgtest.Key)
	code, _, errs := e.maildiag(t, "suppressions", "remove", "*@acme.com", "--api-base", keyBase, "--retry-delay", "5ms")
	if code != 0 || !strings.Contains(errs, "--api-base 'http://api:[redacted]@"+e.Host()+"' ") {
		t.Errorf("dry run: exit %d, hint without the redacted base: %s", code, errs)
	}

	// sync's JSON names the base without its user info.
	code, out, errs := e.maildiag(t, "--output", "json", "sync", "--api-base", keyBase, "--retry-delay", "5ms", "--no-suppressions")
	var sum struct {
		APIBase string `json:"api_base"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum.APIBase != e.URL {
		t.Errorf("sync: exit %d, api_base %q, want %q: %s", code, sum.APIBase, e.URL, errs)
	}

	// A server that echoes the request in its error answers.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodDelete {
			e.Srv.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		u, p, _ := r.BasicAuth()
		json.NewEncoder(w).Encode(map[string]string{"message": "refused: Authorization " + r.Header.Get("Authorization") + " user " + u + " password " + p})
	}))
	defer echo.Close()
	echoBase := "http://api:" + mgtest.Key + "@" + strings.TrimPrefix(echo.URL, "http://")
	_, _, errs = e.maildiag(t, "suppressions", "remove", "*@acme.com", "--yes", "--api-base", echoBase, "--retry-delay", "5ms", "--retries", "0")
	if !strings.Contains(errs, "refused: Authorization Basic [redacted]") {
		t.Errorf("stderr does not show the echoed answer, redacted: %.600s", errs)
	}
	var rows []map[string]any
	e.jsonRun(t, &rows, 0, "audit")
	refused := 0
	for _, r := range rows {
		text, _ := json.Marshal(r)
		if strings.Contains(string(text), mgtest.Key) || strings.Contains(string(text), b64) {
			t.Errorf("audit row holds the key: %s", text)
		}
		if s, _ := r["error"].(string); strings.Contains(s, "Basic [redacted]") {
			refused++
		}
	}
	if refused == 0 {
		t.Errorf("no audit row records the refusal: %v", rows)
	}
	// The key only in the URL is the key.
	t.Setenv("MG_API_KEY", "")
	t.Setenv("MAILGUN_API_KEY", "")
	if code, _, errs := e.maildiag(t, "sync", "--api-base", keyBase, "--retry-delay", "5ms", "--no-suppressions"); code != 0 {
		t.Errorf("sync with the key in --api-base only: exit %d: %s", code, errs)
	}
	e.mu.Lock()
	for _, o := range e.outputs {
		if strings.Contains(o, b64) || strings.Contains(o, b64[:len(b64)-2]) {
			t.Errorf("the base64 credentials appear in the output: %.300s", o)
		}
	}
	e.mu.Unlock()
	e.checkNoKey(t)
}
