package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maildiag/maildiag/synth"
	"github.com/spf13/cobra"
)

// generateOptions are the flags of mgsim generate.
type generateOptions struct {
	IO            iostreams
	Now           func() time.Time
	Seed          int64
	Events        int
	Days          int
	End           string
	Format        string
	Output        string
	Gzip          bool
	Pretty        bool
	Manifest      string
	SendingDomain string
	Domains       []string
	NoStories     bool
	Profile       string

	end     time.Time
	format  synth.Format
	profile synth.Profile
}

// newCmdGenerate builds the generate command; now is its clock (the
// default --end), runF replaces generateRun in tests.
func newCmdGenerate(s iostreams, now func() time.Time, runF func(context.Context, *generateOptions) error) *cobra.Command {
	opts := &generateOptions{IO: s, Now: now}
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a synthetic Mailgun account in one of Mailgun's shapes",
		Long: `Generate writes the events of a synthetic Mailgun account, in ascending time
order, or one sending domain's suppression list. The same flags always give
the same bytes. Memory stays small whatever --events is, so output can be
piped straight into another program.

Formats:
  events-jsonl      one Events API item per line
  events-array      one JSON array of Events API items (--pretty to indent)
  events-pages      Events API pages, one per line, per sending domain
  logs-jsonl        one Logs API item per line
  logs-pages        Logs API responses, one per line
  webhooks          signed webhook payloads, one per line
  legacy-webhooks   pre-2018 flat webhook payloads, one per line
  csv               events as CSV with a header row
  bounces-csv, unsubscribes-csv, complaints-csv
                    a suppression list in Mailgun's import format (needs --sending-domain)

The planted stories (a domain-wide block at acme.com, an IP block at
contoso.com, a Gmail rate-limit wave, the typo domain gmial.com, lookalike
addresses and a never-opened confirmation at initech.com, complaints, an
event id shared across days) lie at least two days before --end; --manifest
writes where to find them.`,
		Example: `  # A month of events, ending at the current hour, on stdout
  mgsim generate --events 100000 > events.jsonl

  # A fixed account for tests, with its manifest
  mgsim generate --seed 7 --events 1000 --end 2026-11-20T00:00:00Z -o events.jsonl --manifest stories.json

  # Ten million events straight into the importer
  mgsim generate --events 10000000 | maildiag import -

  # Logs API pages, gzipped
  mgsim generate --format logs-pages --gzip -o logs.jsonl.gz

  # A transactional sender: nearly every message to a new address
  mgsim generate --profile transactional --events 1000000 -o txn.jsonl

  # The bounce list of one sending domain, as Mailgun imports it
  mgsim generate --format bounces-csv --sending-domain mg.brightcart.io -o bounces.csv`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("generate takes no arguments, got %q (did you mean -o %s?)", args, args[0])
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
			return generateRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&opts.Seed, "seed", 1, "account seed: the same seed and flags give the same output")
	f.IntVar(&opts.Events, "events", synth.DefaultEvents, "exact number of events to write")
	f.IntVar(&opts.Days, "days", synth.DefaultDays, "length of the time range in days")
	f.StringVar(&opts.End, "end", "", "end of the time range, RFC 3339 or YYYY-MM-DD (default: now, truncated to the hour)")
	f.StringVar(&opts.Format, "format", string(synth.FormatEventsJSONL), "output format (see above)")
	f.StringVarP(&opts.Output, "output", "o", "-", `output file, "-" for stdout`)
	f.BoolVar(&opts.Gzip, "gzip", false, "gzip the output")
	f.BoolVar(&opts.Pretty, "pretty", false, "indent events-array output")
	f.StringVar(&opts.Manifest, "manifest", "", "write a JSON manifest (counts, lists, stories) to this file")
	f.StringVar(&opts.SendingDomain, "sending-domain", "", "sending domain whose suppression list to write")
	f.StringSliceVar(&opts.Domains, "domains", nil, "sending domains (default: four sample brands)")
	f.BoolVar(&opts.NoStories, "no-stories", false, "leave out the planted stories")
	f.StringVar(&opts.Profile, "profile", string(synth.ProfileMarketing), "kind of sender: marketing (customers mailed again and again, campaigns) or transactional (nearly every message to a new address, outcomes only)")
	return cmd
}

func (o *generateOptions) validate() error {
	var err error
	if o.format, err = synth.ParseFormat(o.Format); err != nil {
		return usageError{err}
	}
	if o.profile, err = synth.ParseProfile(o.Profile); err != nil {
		return usagef("--%v", err)
	}
	if o.Events < 1 || o.Events > synth.MaxEvents {
		return usagef("--events: %d out of range 1..%d", o.Events, synth.MaxEvents)
	}
	if o.Days < 1 {
		return usagef("--days: %d, want at least 1", o.Days)
	}
	if o.format.IsSuppressionList() && o.SendingDomain == "" {
		return usagef("--format %s needs --sending-domain", o.format)
	}
	if !o.format.IsSuppressionList() && o.SendingDomain != "" {
		return usagef("--sending-domain applies only to the suppression-list formats")
	}
	if o.Pretty && o.format != synth.FormatEventsArray {
		return usagef("--pretty applies only to --format events-array")
	}
	switch {
	case o.End == "":
		o.end = o.Now().UTC().Truncate(time.Hour)
	default:
		o.end, err = parseEnd(o.End)
		if err != nil {
			return usageError{err}
		}
	}
	return nil
}

func parseEnd(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--end %q: want RFC 3339 (2026-11-20T00:00:00Z) or a date (2026-11-20)", s)
}

func generateRun(ctx context.Context, o *generateOptions) error {
	cfg := synth.Config{
		Seed: o.Seed, Events: o.Events, Days: o.Days, End: o.end,
		SendingDomains: o.Domains, NoStories: o.NoStories, Profile: o.profile,
	}
	start := time.Now()
	var res *synth.Result
	write := func(w io.Writer) error {
		var err error
		res, err = synth.Write(ctx, w, cfg, synth.Output{Format: o.format, Pretty: o.Pretty, SendingDomain: o.SendingDomain})
		return err
	}
	if o.Gzip {
		inner := write
		write = func(w io.Writer) error {
			// Fastest level: these files are big and read once.
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			if err := inner(zw); err != nil {
				return err
			}
			return zw.Close()
		}
	}
	cw := &countingWriter{}
	if o.Output == "-" || o.Output == "" {
		cw.w = o.IO.Out
		if err := write(cw); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	} else {
		err := writeFileAtomic(o.Output, func(w io.Writer) error {
			cw.w = w
			return write(cw)
		})
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	if o.Manifest != "" {
		if err := writeFileAtomic(o.Manifest, func(w io.Writer) error { return writeManifest(w, o, res) }); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	if o.Output != "-" && o.Output != "" {
		what := fmt.Sprintf("%d events", res.Events)
		if o.format.IsSuppressionList() {
			what = "the " + strings.TrimSuffix(string(o.format), "-csv") + " list of " + o.SendingDomain
		}
		fmt.Fprintf(o.IO.Err, "mgsim: wrote %s (%s, %s) to %s in %s\n",
			what, o.format, humanBytes(cw.n), o.Output, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// writeFileAtomic writes a file through a temporary file in the same
// directory, synced and renamed, so a reader never sees half a file.
// Anything that is not a regular file (/dev/null, a named pipe, a
// terminal) is written in place: renaming over it would replace it.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return writeInPlace(path, write)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	// CreateTemp makes 0600; the result is an ordinary output file.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func writeInPlace(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// manifest is what --manifest writes: enough to find every planted story
// and check counts without reading the events.
type manifest struct {
	Seed           int64                   `json:"seed"`
	Profile        string                  `json:"profile"`
	Events         int                     `json:"events"`
	Messages       int                     `json:"messages"`
	Start          time.Time               `json:"start"`
	End            time.Time               `json:"end"`
	Format         string                  `json:"format"`
	SendingDomains []string                `json:"sending_domains"`
	SendingIPs     map[string][]string     `json:"sending_ips"`
	AccountID      string                  `json:"account_id"`
	SigningKey     string                  `json:"webhook_signing_key"`
	ByType         map[string]int          `json:"events_by_type"`
	ByDomain       map[string]int          `json:"events_by_domain"`
	Suppressions   map[string]listCounts   `json:"suppressions"`
	Stories        *synth.Stories          `json:"stories"`
	Allowlists     map[string][]allowEntry `json:"allowlists"`
}

type listCounts struct {
	Bounces      int `json:"bounces"`
	Unsubscribes int `json:"unsubscribes"`
	Complaints   int `json:"complaints"`
	Allowlist    int `json:"allowlist"`
}

type allowEntry struct {
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

func writeManifest(w io.Writer, o *generateOptions, res *synth.Result) error {
	m := manifest{
		Seed: o.Seed, Profile: string(res.Profile), Events: res.Events, Messages: res.Messages, Start: res.Start, End: res.End,
		Format: string(o.format), SendingDomains: res.SendingDomains, SendingIPs: res.SendingIPs,
		AccountID: res.AccountID, SigningKey: res.SigningKey, ByType: res.ByType, ByDomain: res.ByDomain,
		Suppressions: map[string]listCounts{}, Stories: res.Stories, Allowlists: map[string][]allowEntry{},
	}
	for d, s := range res.Suppressions {
		m.Suppressions[d] = listCounts{len(s.Bounces), len(s.Unsubscribes), len(s.Complaints), len(s.Allowlist)}
		for _, a := range s.Allowlist {
			m.Allowlists[d] = append(m.Allowlists[d], allowEntry(a))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}
