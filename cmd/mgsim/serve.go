package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
	"github.com/spf13/cobra"
)

// serveOptions are the flags of mgsim serve.
type serveOptions struct {
	IO        iostreams
	Now       func() time.Time
	Addr      string
	Seed      int64
	Events    int
	Days      int
	End       string
	Domains   []string
	NoStories bool
	Profile   string
	APIKey    string

	LateFraction       float64
	LateDelay          time.Duration
	StoredRetention    time.Duration
	EventRetention     time.Duration
	RewriteStorageURLs bool

	Fault429      string
	Fault429Reset time.Duration
	Fault5xx      string
	Truncate      string
	Drop          string
	Refuse        []string
	Latency       time.Duration
	LatencyJitter time.Duration

	ReadyFile string
	Manifest  string
	Verbose   bool

	end     time.Time
	profile synth.Profile
	faults  mgserver.Faults
}

// newCmdServe builds the serve command; now is its clock (the default
// --end and the server clock), runF replaces serveRun in tests.
func newCmdServe(s iostreams, now func() time.Time, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: s, Now: now}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a synthetic account over Mailgun's HTTP API on loopback",
		Long: `Serve generates a synthetic account and answers Mailgun's API for it on a
loopback address: the Events API (/v3/{domain}/events), the Logs API
(/v1/analytics/logs), the Metrics API (/v1/analytics/metrics: counts by hour,
day or month, hourly kept 60 days and daily a year), suppression lists (bounces, unsubscribes, complaints,
whitelists), the domains list, and stored messages with resend. Clients
authenticate with user "api" and --api-key (default $MG_API_KEY); point them
at the printed base URL, e.g. mailgun-go v5 SetAPIBase(URL).

The base URL is printed on stdout, and written to --ready-file when given,
once the server accepts connections. Events after the current time (with a
future --end) are not shown until they happen. Ctrl-C or SIGTERM stops it.

Faults are rules of comma-separated settings, applied in a fixed order and
deterministic by --seed:
  first=N   the first N requests        every=K  requests K, 2K, 3K, ...
  p=F       a fraction F of requests    burst=B  each hit also hits B-1 more
  limit=L   at most L hits in all`,
		Example: `  # A month of traffic for make demo, ready when the file appears
  mgsim serve --events 100000 --api-key demo-key --ready-file .demo/url

  # A rate-limit storm, then every 7th request a 5xx pair, and late events
  mgsim serve --api-key k --fault-429 first=30 --fault-5xx every=7,burst=2 \
      --late-fraction 0.05 --late-delay 20m

  # A restricted key: the allowlist of one domain refused, no Logs API
  mgsim serve --api-key k --refuse 403:/v3/mg.example.com/whitelists \
      --refuse 404:/v1/analytics/logs`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("serve takes no arguments, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Addr, "addr", "127.0.0.1:0", "loopback address to listen on (port 0 picks a free one)")
	f.Int64Var(&opts.Seed, "seed", 1, "account seed; also chooses late events and faults")
	f.IntVar(&opts.Events, "events", synth.DefaultEvents, "number of events in the account")
	f.IntVar(&opts.Days, "days", synth.DefaultDays, "length of the time range in days")
	f.StringVar(&opts.End, "end", "", "end of the time range, RFC 3339 or YYYY-MM-DD (default: now, truncated to the hour)")
	f.StringSliceVar(&opts.Domains, "domains", nil, "sending domains (default: four sample brands)")
	f.BoolVar(&opts.NoStories, "no-stories", false, "leave out the planted stories")
	f.StringVar(&opts.Profile, "profile", string(synth.ProfileMarketing), "kind of sender: marketing (customers mailed again and again, campaigns) or transactional (nearly every message to a new address, outcomes only)")
	f.StringVar(&opts.APIKey, "api-key", "", "API key clients must send (default $MG_API_KEY); never printed")
	f.Float64Var(&opts.LateFraction, "late-fraction", 0, "fraction of events that arrive late")
	f.DurationVar(&opts.LateDelay, "late-delay", 0, "how long after their time late events appear")
	f.DurationVar(&opts.StoredRetention, "stored-retention", 72*time.Hour, "how long stored messages can be fetched and resent")
	f.DurationVar(&opts.EventRetention, "event-retention", 0, "hide events older than this (0: keep all)")
	f.BoolVar(&opts.RewriteStorageURLs, "rewrite-storage-urls", false, "point storage URLs in served events at this server")
	f.StringVar(&opts.Fault429, "fault-429", "", "rule for 429 answers with X-Request-Reset (see above)")
	f.DurationVar(&opts.Fault429Reset, "fault-429-reset", time.Second, "how far ahead X-Request-Reset lies")
	f.StringVar(&opts.Fault5xx, "fault-5xx", "", "rule for 500/502/503 answers")
	f.StringVar(&opts.Truncate, "truncate", "", "rule for 200 answers with the body cut in half")
	f.StringVar(&opts.Drop, "drop", "", "rule for connections closed without an answer")
	f.StringArrayVar(&opts.Refuse, "refuse", nil, "answer the requests under a path 403 or 404, as STATUS:PATH (repeatable): a key that may not read everything")
	f.DurationVar(&opts.Latency, "latency", 0, "delay added to every request")
	f.DurationVar(&opts.LatencyJitter, "latency-jitter", 0, "up to this much more delay, chosen by the seed")
	f.StringVar(&opts.ReadyFile, "ready-file", "", "write the base URL to this file once listening")
	f.StringVar(&opts.Manifest, "manifest", "", "write the account's JSON manifest (counts, lists, stories) to this file")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log one line per request on stderr")
	return cmd
}

func (o *serveOptions) validate() error {
	if err := checkLoopback(o.Addr); err != nil {
		return usageError{err}
	}
	var err error
	if o.profile, err = synth.ParseProfile(o.Profile); err != nil {
		return usagef("--%v", err)
	}
	if o.APIKey == "" {
		o.APIKey = os.Getenv("MG_API_KEY")
	}
	if o.APIKey == "" {
		return usagef("--api-key (or $MG_API_KEY) is required: clients must authenticate")
	}
	if o.Events < 1 || o.Events > synth.MaxEvents {
		return usagef("--events: %d out of range 1..%d", o.Events, synth.MaxEvents)
	}
	if o.Days < 1 {
		return usagef("--days: %d, want at least 1", o.Days)
	}
	if o.LateFraction < 0 || o.LateFraction > 1 {
		return usagef("--late-fraction: %v out of range 0..1", o.LateFraction)
	}
	if o.End == "" {
		o.end = o.Now().UTC().Truncate(time.Hour)
	} else if o.end, err = parseEnd(o.End); err != nil {
		return usageError{err}
	}
	rules := []struct {
		flag, spec string
		dst        *mgserver.FaultRule
	}{
		{"--fault-429", o.Fault429, &o.faults.RateLimit},
		{"--fault-5xx", o.Fault5xx, &o.faults.ServerError},
		{"--truncate", o.Truncate, &o.faults.Truncate},
		{"--drop", o.Drop, &o.faults.Drop},
	}
	for _, r := range rules {
		if r.spec == "" {
			continue
		}
		if *r.dst, err = mgserver.ParseFaultRule(r.spec); err != nil {
			return usagef("%s: %v", r.flag, err)
		}
	}
	for _, spec := range o.Refuse {
		r, err := mgserver.ParseRefusal(spec)
		if err != nil {
			return usagef("--refuse: %v", err)
		}
		o.faults.Refuse = append(o.faults.Refuse, r)
	}
	o.faults.Latency, o.faults.LatencyJitter, o.faults.RateLimitReset = o.Latency, o.LatencyJitter, o.Fault429Reset
	return nil
}

// checkLoopback refuses any address that is not a loopback one: the
// server has a fixed key and synthetic data, and is not meant to be
// reachable from the network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q: not a loopback address (use 127.0.0.1, ::1 or localhost)", addr)
}

func serveRun(ctx context.Context, o *serveOptions) error {
	if o.ReadyFile != "" {
		// A file left by an earlier run must not announce this one.
		if err := os.Remove(o.ReadyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old ready file: %w", err)
		}
	}
	start := time.Now()
	cfg := synth.Config{
		Seed: o.Seed, Events: o.Events, Days: o.Days, End: o.end,
		SendingDomains: o.Domains, NoStories: o.NoStories, Profile: o.profile,
	}
	acct, res, err := mgserver.FromSynth(ctx, cfg)
	if err != nil {
		return err
	}
	if o.Manifest != "" {
		mo := &generateOptions{Seed: o.Seed, format: synth.FormatEventsPages}
		if err := writeFileAtomic(o.Manifest, func(w io.Writer) error { return writeManifest(w, mo, res) }); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	sopts := mgserver.Options{
		APIKey: o.APIKey, Now: o.Now, Seed: o.Seed,
		LateFraction: o.LateFraction, LateDelay: o.LateDelay,
		StoredRetention: o.StoredRetention, EventRetention: o.EventRetention,
		RewriteStorageURLs: o.RewriteStorageURLs, Faults: o.faults,
	}
	if o.Verbose {
		sopts.Log = o.IO.Err
	}
	srv, err := mgserver.New(acct, sopts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		return fmt.Errorf("listen: %s is not a loopback address", ln.Addr())
	}
	base := "http://" + ln.Addr().String()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	// Stderr first: once the URL is out, request logs may start.
	fmt.Fprintf(o.IO.Err, "mgsim: serving %d events of %d sending domains at %s (ready in %s)\n",
		res.Events, len(res.SendingDomains), base, time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(o.IO.Out, base)
	if o.ReadyFile != "" {
		if err := writeFileAtomic(o.ReadyFile, func(w io.Writer) error { _, err := fmt.Fprintln(w, base); return err }); err != nil {
			hs.Close()
			return fmt.Errorf("write ready file: %w", err)
		}
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil {
		hs.Close()
	}
	if o.ReadyFile != "" {
		os.Remove(o.ReadyFile)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	s := srv.Stats()
	fmt.Fprintf(o.IO.Err, "mgsim: stopped after %d requests (%d faults injected)\n", s.Requests, s.Faults())
	return nil
}
