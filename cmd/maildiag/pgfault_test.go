package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/pgtest"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
)

// Faults of the PostgreSQL server: restarted (pg_ctl restart -m immediate)
// in the middle of a sync and of an import, the run in flight fails with a
// one-line error and exit 3, the next run completes, and the index holds
// the source's events exactly: none lost, none twice, counted once.

// started is a maildiag process running in the background.
type started struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	done     chan struct{}
	code     int
}

func startBinary(t *testing.T, stdin io.Reader, args ...string) *started {
	t.Helper()
	p := &started{cmd: exec.Command(builtBinary(t), args...), done: make(chan struct{})}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = stdin, &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *started) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// restartWhen restarts the server once cond holds while p runs; it fails
// the test when p ends first.
func restartWhen(t *testing.T, p *started, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if !p.running() {
			t.Fatalf("the run ended before %s (exit %d): %s", what, p.code, p.err.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 2 minutes", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !p.running() {
		t.Fatalf("the run ended before the restart (exit %d): %s", p.code, p.err.String())
	}
	pgtest.Restart(t)
}

// pgValue reads one number on a connection of its own (one made before a
// restart is gone after it); -1 when the server does not answer.
func pgValue(u, q string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return -1
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		return -1
	}
	return n
}

// checkInterrupted holds the interrupted run to exit 3 and one line that
// says what happened and what to do.
func checkInterrupted(t *testing.T, p *started) {
	t.Helper()
	errs := strings.TrimSpace(p.err.String())
	noSecret(t, "the interrupted run", p.out.String(), errs)
	last := errs[strings.LastIndexByte(errs, '\n')+1:]
	if p.code != exitFailure || !strings.HasPrefix(last, "maildiag: lost the connection to the PostgreSQL server") ||
		!strings.Contains(last, "run the command again") {
		t.Errorf("interrupted run: exit %d, last line %q (stderr %q); want 3 and one line saying the server went away", p.code, last, errs)
	}
	for _, l := range strings.Split(errs, "\n") {
		if strings.Contains(l, "goroutine ") || strings.Contains(l, "panic") {
			t.Errorf("the interrupted run printed %q", l)
		}
	}
}

// checkCounted holds the rollups kept at ingest to the events: an event
// stored twice, or counted twice, shows.
func checkCounted(t *testing.T, u string, want int64) {
	t.Helper()
	for _, q := range []string{`SELECT COUNT(*) FROM events`, `SELECT COALESCE(SUM(n), 0)::bigint FROM daily_counts`,
		`SELECT COALESCE(SUM(n), 0)::bigint FROM hourly_counts`} {
		if n := pgValue(u, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
}

func TestPostgresRestartDuringSync(t *testing.T) {
	if !pgtest.Own() {
		t.Skip("the server is $MAILDIAG_TEST_PG's, not the tests' own: a fault test does not restart it")
	}
	domains := mgtest.Domains[:2]
	s := mgtest.New(t, mgtest.Config(12000, domains...), mgserver.Options{})
	// Slow pages (the sync commits every second): the restart lands while
	// the sync stores, however fast the machine.
	if err := s.Srv.SetFaults(mgserver.Faults{Latency: 150 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	u := pgIndex(t)
	args := []string{"--db", u, "--now", s.Res.End.UTC().Format(time.RFC3339Nano), "sync", "--api-base", s.URL,
		"--api-key", mgtest.Key, "--retry-delay", "5ms", "--since", "8d", "--no-suppressions"}
	p := startBinary(t, nil, args...)
	restartWhen(t, p, "events stored", func() bool { return pgValue(u, `SELECT COUNT(*) FROM events`) > 0 })
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the sync did not end after the server restarted")
	}
	checkInterrupted(t, p)
	stored := pgValue(u, `SELECT COUNT(*) FROM events`)
	want := accountKeys(s, domains)
	if stored <= 0 || stored >= int64(len(want)) {
		t.Errorf("after the restart %d of %d events are stored: the restart was not in the middle", stored, len(want))
	}

	if err := s.Srv.SetFaults(mgserver.Faults{}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runBinaryCode(t, args...)
	noSecret(t, "sync", out, errs)
	if code != 0 {
		t.Fatalf("the sync after the restart: exit %d: %s", code, errs)
	}
	if got := pgEventKeys(t, u); !slices.Equal(identities(got), identities(want)) {
		t.Errorf("after the restart and a second sync: %d events stored, the account has %d (first differences: %v)", len(got), len(want), firstDiff(got, want))
	}
	checkCounted(t, u, int64(len(want)))
}

func TestPostgresRestartDuringImport(t *testing.T) {
	if !pgtest.Own() {
		t.Skip("the server is $MAILDIAG_TEST_PG's, not the tests' own: a fault test does not restart it")
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := synth.Config{Seed: 5, Events: 40_000, Days: 10, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), NoStories: true}
	if _, err := synth.Write(context.Background(), f, cfg, synth.Output{Format: synth.FormatEventsJSONL}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := fileKeys(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	half := bytes.IndexByte(data[len(data)*6/10:], '\n') + len(data)*6/10 + 1

	// The file comes through a pipe: its first 60% first (a commit every
	// 5,000 records), then, once some are committed and while the import
	// holds more in a transaction, the server restarts, and the rest
	// follows. However fast the import, the restart lands in its middle.
	u := pgIndex(t)
	r, w := io.Pipe()
	p := startBinary(t, r, "--db", u, "import", "--commit-every", "5000", "-")
	go w.Write(data[:half])
	restartWhen(t, p, "a commit", func() bool { return pgValue(u, `SELECT COUNT(*) FROM events`) >= 5000 })
	go func() {
		w.Write(data[half:])
		w.Close()
	}()
	<-p.done
	r.Close()
	checkInterrupted(t, p)
	if n := pgValue(u, `SELECT COUNT(*) FROM events`); n <= 0 || n >= int64(len(want)) {
		t.Errorf("after the restart %d of %d events are stored: the restart was not in the middle", n, len(want))
	}

	code, out, errs := runBinaryCode(t, "--db", u, "import", path)
	noSecret(t, "import", out, errs)
	if code != 0 {
		t.Fatalf("the import after the restart: exit %d: %s", code, errs)
	}
	if got := pgEventKeys(t, u); !slices.Equal(identities(got), identities(want)) {
		t.Errorf("after the restart and a second import: %d events stored, the file has %d (first differences: %v)", len(got), len(want), firstDiff(got, want))
	}
	checkCounted(t, u, int64(len(want)))
}

// identities are keys as the index keeps events: a rejected message has
// no recipient.
func identities(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if strings.HasPrefix(k, "rejected ") {
			f := strings.Fields(k)
			k = f[0] + " " + f[1]
		}
		out[i] = k
	}
	slices.Sort(out)
	return out
}

// fileKeys are the distinct events of a JSON-lines file, as pgEventKeys.
func fileKeys(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := ingest.ParseEvent(line)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		seen[ev.Type+" "+ev.ID+" "+ev.Recipient+" "+strconv.FormatInt(ev.TimeUS/86_400_000_000, 10)] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k[:strings.LastIndexByte(k, ' ')])
	}
	slices.Sort(out)
	return out
}

// firstDiff names a few entries in one list and not the other.
func firstDiff(got, want []string) []string {
	g, w := map[string]int{}, map[string]int{}
	for _, k := range got {
		g[k]++
	}
	for _, k := range want {
		w[k]++
	}
	var out []string
	for _, k := range want {
		if g[k] < w[k] && len(out) < 3 {
			out = append(out, "missing "+k)
		}
	}
	for _, k := range got {
		if g[k] > w[k] && len(out) < 6 {
			out = append(out, "extra "+k)
			g[k] = w[k]
		}
	}
	return out
}
