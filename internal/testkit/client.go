package testkit

import (
	"testing"
	"time"

	"github.com/maildiag/maildiag/ingest"
)

// Client is a client of the test server at url with a fast retry policy
// (5 ms first back-off, 10 s an attempt) and no rate limit of its own;
// retries < 0 retries nothing.
func Client(t testing.TB, url, key string, retries int) *ingest.Client {
	t.Helper()
	c, err := ingest.NewClient(ingest.ClientOptions{BaseURL: url, APIKey: key, Limiter: ingest.NewLimiter(0),
		Retry: ingest.RetryPolicy{Retries: retries, AttemptTimeout: 10 * time.Second, BaseDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
