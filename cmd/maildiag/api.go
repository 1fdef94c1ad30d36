package main

import (
	"errors"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/maildiag/maildiag/ingest"
)

// apiOptions are the flags of every command that talks to the Mailgun API
// (sync, suppressions remove and restore, resend), resolved one way.
type apiOptions struct {
	region     string
	apiBase    string
	apiKey     string
	retries    int
	timeout    time.Duration
	retryDelay time.Duration

	base   string // resolved by resolve, without user info
	urlKey string // the password of --api-base, never shown
}

// addFlags registers the flags; retriesHelp says what a retry repeats.
func (a *apiOptions) addFlags(f *pflag.FlagSet, retriesHelp string) {
	f.StringVar(&a.region, "region", "us", "Mailgun region: us (api.mailgun.net) or eu (api.eu.mailgun.net)")
	f.StringVar(&a.apiBase, "api-base", "", "API base URL instead of the region's, e.g. a local test server")
	f.StringVar(&a.apiKey, "api-key", "", "private API key (default $MG_API_KEY, else $MAILGUN_API_KEY)")
	f.IntVar(&a.retries, "retries", 8, retriesHelp)
	f.DurationVar(&a.timeout, "timeout", 60*time.Second, "time limit of one request")
	f.DurationVar(&a.retryDelay, "retry-delay", 250*time.Millisecond, "first backoff after a failed request, doubled for each retry (at most 30s)")
	f.MarkHidden("retry-delay") // for tests and benchmarks
}

// resolve finds the API base (--api-base, else --region) and the key
// (--api-key, else $MG_API_KEY, else $MAILGUN_API_KEY), and checks the
// retry flags.
func (a *apiOptions) resolve() error {
	switch a.region {
	case "us":
		a.base = ingest.BaseUS
	case "eu":
		a.base = ingest.BaseEU
	default:
		return usageErrorf("--region must be us or eu, not %q", a.region)
	}
	if a.apiBase != "" {
		// http://api:KEY@host: the key is sent as the Authorization
		// header, and the base is shown and stored without it.
		a.base, a.urlKey = ingest.SplitCredentials(a.apiBase)
	}
	if a.apiKey == "" {
		a.apiKey = a.urlKey
	}
	if a.apiKey == "" {
		a.apiKey = os.Getenv("MG_API_KEY")
	}
	if a.apiKey == "" {
		a.apiKey = os.Getenv("MAILGUN_API_KEY")
	}
	if a.apiKey == "" {
		return usageErrorf("no API key: pass --api-key or set MG_API_KEY")
	}
	switch {
	case a.retries < 0 || a.retries > 100:
		return usageErrorf("--retries must be from 0 to 100, not %d", a.retries)
	case a.timeout <= 0 || a.retryDelay <= 0:
		return usageErrorf("--timeout and --retry-delay must be positive")
	}
	return nil
}

// client returns a client for the resolved API with the shared rate
// limiter (at most rate requests a second; 0: as fast as Mailgun's 429s
// allow) and retry rules: 429s wait for Mailgun's reset, 5xx and network
// errors are retried with backoff (POSTs only after 429s).
func (a *apiOptions) client(rate float64) (*ingest.Client, error) {
	c, err := ingest.NewClient(ingest.ClientOptions{
		BaseURL: a.base, APIKey: a.apiKey, Limiter: ingest.NewLimiter(rate),
		Retry: ingest.RetryPolicy{Retries: retriesFlag(a.retries), AttemptTimeout: a.timeout, BaseDelay: a.retryDelay},
	})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return c, nil
}

// retriesFlag maps --retries 0 (no retries) onto the policy's "none".
func retriesFlag(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// redactKey takes the API key out of an error's text, should any layer
// ever have put it there, in every form it is sent in (plain, URL-escaped,
// base64 of the Basic credentials).
func redactKey(err error, keys ...string) error {
	if err == nil {
		return err
	}
	text := err.Error()
	for _, k := range keys {
		text = ingest.RedactKey(text, k)
	}
	if text == err.Error() {
		return err
	}
	code := exitFailure
	if ee, ok := err.(*exitError); ok {
		code = ee.code
	}
	return &exitError{code: code, err: errors.New(text)}
}
