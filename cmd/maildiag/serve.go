package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/server"
	"github.com/maildiag/maildiag/syncer"
)

type serveOptions struct {
	listen        string
	keyFile       string
	maxAge        time.Duration
	syncEvery     time.Duration
	noSync        bool
	syncSince     string
	source        string
	domains       []string
	secureCookies bool
	backupDir     string
	api           apiOptions
}

func newServeCmd(s *streams, g *globals) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the team server: web UI, JSON API, Mailgun webhooks, continuous sync",
		Long: `Serve runs maildiag for a team over HTTP, on the configured index:

  /                   status: what the index holds, the sync, webhooks
  /search, /address/ADDRESS, /domain/DOMAIN, /health, /audit, /resends
                      the web UI (log in with an API token)
  /api/v1/...         the JSON API, the contracts of --output json
                      (description: /api/v1/openapi.json), Authorization: Bearer TOKEN
  /webhooks/mailgun   Mailgun's webhooks, signed with the webhook signing key

Users and their tokens are made with maildiag users add and maildiag tokens
create. Roles: viewer (search, trace, reports), agent (also remove and
restore bounces, resend to the original recipient), lead (also remove and
restore complaints and unsubscribes, approve a resend to another address).

The index is a SQLite file or PostgreSQL (--db postgres://...); several serve
processes may share a PostgreSQL index behind a load balancer (give them one
shared --backup-dir).

The webhook signing key comes from $MG_WEBHOOK_SIGNING_KEY or
--webhook-signing-key-file; without it webhooks are refused. With a Mailgun
API key (--api-key, $MG_API_KEY) the server syncs every --sync-every (one
server at a time when several share the index) and may act on the account
(remove, resend); without one it serves what the index holds. Keys are never
shown in a page, an answer, the log or the audit.

The log (requests, sync passes) goes to stderr. SIGINT or SIGTERM stops it
gracefully: requests in flight finish, webhooks answered are committed.`,
		Example: `  maildiag users add alice --role lead
  maildiag tokens create alice
  MG_WEBHOOK_SIGNING_KEY=... MG_API_KEY=... maildiag serve
  maildiag serve --listen 127.0.0.1:9000 --no-sync
  maildiag serve --api-base http://127.0.0.1:8025 --api-key test-key --sync-every 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.dbTarget()
			if err != nil {
				return err
			}
			return serveRun(cmd.Context(), s, g, t, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", server.DefaultListen, "address to listen on (loopback by default; 8025 is the local Mailgun server's)")
	f.StringVar(&o.keyFile, "webhook-signing-key-file", "", "file holding Mailgun's webhook signing key (default $MG_WEBHOOK_SIGNING_KEY)")
	f.DurationVar(&o.maxAge, "webhook-max-age", server.DefaultWebhookMaxAge, "refuse webhooks signed longer ago (or further ahead) than this")
	f.DurationVar(&o.syncEvery, "sync-every", 5*time.Minute, "time between sync passes")
	f.BoolVar(&o.noSync, "no-sync", false, "do not sync, even with an API key")
	f.StringVar(&o.syncSince, "sync-since", "30d", "how far back a sync pass reads (as sync --since)")
	f.StringVar(&o.source, "source", ingest.SourceLogs, "where sync reads events: logs or events")
	f.StringArrayVar(&o.domains, "domain", nil, "sending domain to sync (repeatable; default every domain of the account)")
	f.BoolVar(&o.secureCookies, "secure-cookies", false, "mark cookies Secure also when requests arrive over plain HTTP (behind a TLS proxy)")
	f.StringVar(&o.backupDir, "backup-dir", "", "where removals write their CSV backups and restores read them (default: backups next to the index file; on PostgreSQL $XDG_DATA_HOME/maildiag/backups, to share between servers)")
	o.api.addFlags(f, "retries of a request after 5xx answers, timeouts or dropped connections")
	return cmd
}

// signingKey reads the webhook signing key: the file, else the environment.
func (o *serveOptions) signingKey() (string, error) {
	if o.keyFile != "" {
		b, err := os.ReadFile(o.keyFile)
		if err != nil {
			return "", usageErrorf("--webhook-signing-key-file: %v", err)
		}
		k := strings.TrimSpace(string(b))
		if k == "" {
			return "", usageErrorf("--webhook-signing-key-file %s is empty", o.keyFile)
		}
		return k, nil
	}
	return strings.TrimSpace(os.Getenv("MG_WEBHOOK_SIGNING_KEY")), nil
}

// haveKey tells whether an API key was given anywhere.
func (a *apiOptions) haveKey() bool {
	return a.apiKey != "" || os.Getenv("MG_API_KEY") != "" || os.Getenv("MAILGUN_API_KEY") != "" ||
		(a.apiBase != "" && func() bool { _, k := ingest.SplitCredentials(a.apiBase); return k != "" }())
}

func serveRun(ctx context.Context, s *streams, g *globals, t target, o *serveOptions) error {
	sigKey, err := o.signingKey()
	if err != nil {
		return err
	}
	if o.maxAge < time.Second || o.syncEvery < time.Second {
		return usageErrorf("--webhook-max-age and --sync-every must be at least 1s")
	}
	if o.source != ingest.SourceLogs && o.source != ingest.SourceEvents {
		return usageErrorf("--source must be events or logs, not %q", o.source)
	}
	cfg := server.Config{SigningKey: sigKey, WebhookMaxAge: o.maxAge, SyncEvery: o.syncEvery, SecureCookies: o.secureCookies,
		Log: slog.New(slog.NewTextHandler(s.err, nil))}
	if o.api.haveKey() {
		if err := o.api.resolve(); err != nil {
			return err
		}
		if cfg.Mailgun, err = o.api.client(0); err != nil {
			return err
		}
		cfg.APIKey = o.api.apiKey
		if !o.noSync {
			so := syncer.Options{Source: o.source, Fallback: true, Domains: o.domains, LateThreshold: 30 * time.Minute, Workers: 4}
			d, err := maildiag.ParseSpan(o.syncSince)
			if err != nil || d <= 0 {
				return usageErrorf("--sync-since: %q is not a span such as 30d or 36h", o.syncSince)
			}
			so.Lookback = d
			cfg.Sync = &so
		}
	}
	st, err := openServeStore(ctx, t) // the team's tables are migrated in
	if err != nil {
		return failure(err)
	}
	defer st.close()
	cfg.Store, cfg.NewWriter = st.store, st.newWriter
	// On PostgreSQL the default is the data directory, which servers
	// behind one load balancer should share (--backup-dir) so that a
	// restore through any of them finds a removal's backup.
	cfg.BackupDir = o.backupDir
	if cfg.BackupDir == "" {
		if cfg.BackupDir, err = defaultBackupDir(t); err != nil {
			return err
		}
	}
	if abs, err := filepath.Abs(cfg.BackupDir); err == nil {
		cfg.BackupDir = abs
	}
	srv, err := server.New(cfg)
	if err != nil {
		return failure(err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return failure(fmt.Errorf("listen: %w", err))
	}
	fmt.Fprintf(s.err, "maildiag serve: http://%s/ (index %s)\n", ln.Addr(), st.where)
	if sigKey == "" {
		fmt.Fprintln(s.err, "maildiag serve: no webhook signing key: webhooks are refused (set MG_WEBHOOK_SIGNING_KEY or --webhook-signing-key-file)")
	}
	if cfg.Sync == nil {
		fmt.Fprintln(s.err, "maildiag serve: sync is off (no API key, or --no-sync)")
	}
	err = srv.Run(ctx, ln)
	if err != nil && !errors.Is(err, context.Canceled) {
		return failure(redactKey(err, o.api.apiKey, o.api.urlKey))
	}
	fmt.Fprintln(s.err, "maildiag serve: stopped")
	return nil
}

// serveStore is the SQLite index as the server's store.
type serveStore struct{ *index.DB }

// Summary is the status page's view of the index's status.
func (st serveStore) Summary(ctx context.Context) (*server.IndexSummary, error) {
	return summaryOf(ctx, st.DB)
}

// summaryOf is the status page's view of an index's status, of either engine.
func summaryOf(ctx context.Context, db interface {
	Status(context.Context) (*maildiag.IndexStatus, error)
}) (*server.IndexSummary, error) {
	s, err := db.Status(ctx)
	if err != nil {
		return nil, err
	}
	sum := &server.IndexSummary{Events: s.Events, Domains: []server.DomainSummary{}}
	if s.FirstUS != 0 {
		sum.First, sum.Last = time.UnixMicro(s.FirstUS).UTC(), time.UnixMicro(s.LastUS).UTC()
	}
	byName := map[string]*server.DomainSummary{}
	get := func(name string) *server.DomainSummary {
		if d := byName[name]; d != nil {
			return d
		}
		sum.Domains = append(sum.Domains, server.DomainSummary{Name: name})
		d := &sum.Domains[len(sum.Domains)-1]
		byName[name] = d
		return d
	}
	for _, c := range s.EventCounts {
		get(c.SendingDomain)
	}
	for _, c := range s.Syncs {
		get(c.SendingDomain)
	}
	// Pointers into the slice are stable from here on.
	for i := range sum.Domains {
		byName[sum.Domains[i].Name] = &sum.Domains[i]
	}
	for _, c := range s.EventCounts {
		byName[c.SendingDomain].Events += c.Events
	}
	for _, c := range s.Syncs {
		d := byName[c.SendingDomain]
		if t := time.UnixMicro(c.ToUS).UTC(); t.After(d.SyncedTo) {
			d.SyncedTo = t
		}
		if t := time.UnixMicro(c.LastSyncUS).UTC(); t.After(d.LastSync) {
			d.LastSync = t
		}
	}
	for _, c := range s.Suppressions {
		sum.Suppressions += c.Active
	}
	return sum, nil
}
