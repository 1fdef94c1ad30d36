package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mailgun/mailgun-go/v5"
	mgevents "github.com/mailgun/mailgun-go/v5/events"
)

// The sync benchmark's account: 300,000 events of 4 sending domains over
// 29 days (inside sync's default --since 30d), served with 50 ms latency
// per request, as a distant API would answer.
const (
	syncEvents  = 300_000
	syncDays    = 29
	syncLatency = 50 * time.Millisecond
	syncKey     = "bench-sync-key"
)

// syncDomains are mgsim's default sending domains.
var syncDomains = []string{"mg.brightcart.io", "mail.ledgerly.com", "notify.tripnest.co", "news.fitpulse.app"}

// sync compares maildiag sync with a plain sequential pager built on
// mailgun-go's EventIterator, over the same local server, then syncs
// again with a 429 on every tenth request.
func (b *bench) sync() error {
	srv, err := b.startMgsim("plain")
	if err != nil {
		return err
	}
	seqEvents, seqFailed, seqTime, seqErr := sequentialPager(srv.url)
	mdEvents, mdSum, mdTime, mdErr := b.maildiagSync(b.tool("maildiag"), srv.url, "sync-plain.db")
	if b.base != "" && mdErr == nil {
		n, _, d, err := b.maildiagSync(filepath.Join(b.base, "maildiag"), srv.url, "sync-base.db")
		if err != nil {
			return err
		}
		b.addAB("sync 300000 events, events/s", float64(mdEvents)/mdTime.Seconds(), float64(n)/d.Seconds(), false, "/s")
	}
	srv.stop()
	if seqErr != nil {
		return fmt.Errorf("sequential pager: %w", seqErr)
	}
	if mdErr != nil {
		return mdErr
	}

	srv429, err := b.startMgsim("429", "--fault-429", "every=10", "--fault-429-reset", "200ms")
	if err != nil {
		return err
	}
	fEvents, fSum, fTime, fErr := b.maildiagSync(b.tool("maildiag"), srv429.url, "sync-429.db")
	served := srv429.stop()
	if fErr != nil {
		return fErr
	}

	rate := func(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() }
	speedup := rate(mdEvents, mdTime) / rate(seqEvents, seqTime)
	b.table(fmt.Sprintf("Sync of %d events (%d sending domains, %d days) from the local server with %s latency per request",
		syncEvents, len(syncDomains), syncDays, syncLatency),
		[]string{"pager", "events", "seconds", "events/s", "failed pages", "target", "result"},
		[][]string{
			{"mailgun-go EventIterator, one domain after another", fmt.Sprint(seqEvents), fmt.Sprintf("%.1f", seqTime.Seconds()),
				fmt.Sprintf("%.0f", rate(seqEvents, seqTime)), fmt.Sprint(seqFailed), "", ""},
			{"maildiag sync (8 workers, into a fresh index, lists too)", fmt.Sprint(mdEvents), fmt.Sprintf("%.1f", mdTime.Seconds()),
				fmt.Sprintf("%.0f", rate(mdEvents, mdTime)), fmt.Sprint(mdSum.failed), "0 failed, all events",
				verdict(mdSum.failed == 0 && mdEvents == syncEvents)},
			{"maildiag / sequential", "", "", fmt.Sprintf("%.1fx", speedup), "", ">= 5x", verdict(speedup >= 5)},
		})
	b.table("maildiag sync again, the server answering 429 to every tenth request (X-Request-Reset 200 ms ahead)",
		[]string{"measure", "value", "target", "result"},
		[][]string{
			{"429 answers seen", fmt.Sprint(fSum.rateLimited), "> 0", verdict(fSum.rateLimited > 0)},
			{"retries", fmt.Sprint(fSum.retries), "", ""},
			{"requests (server: " + served + ")", fmt.Sprint(fSum.requests), "", ""},
			{"failed pages", fmt.Sprint(fSum.failed), "0", verdict(fSum.failed == 0)},
			{"wall time", secs(fTime), "", ""},
			{"events in the index", fmt.Sprint(fEvents), fmt.Sprintf("= %d (the server's)", syncEvents), verdict(fEvents == syncEvents)},
		})
	return nil
}

// mgsim is a running mgsim serve.
type mgsim struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	url  string
	log  *os.File
}

// startMgsim starts mgsim serve with the benchmark's account and extra
// flags, and waits for its ready file.
func (b *bench) startMgsim(name string, extra ...string) (*mgsim, error) {
	ready := filepath.Join(b.dir, "mgsim-"+name+".url")
	os.Remove(ready)
	logf, err := os.Create(filepath.Join(b.dir, "mgsim-"+name+".log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--seed", "1", "--events", fmt.Sprint(syncEvents), "--days", fmt.Sprint(syncDays),
		"--latency", syncLatency.String(), "--api-key", syncKey, "--ready-file", ready}, extra...)
	cmd := exec.Command(b.tool("mgsim"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start mgsim: %w", err)
	}
	s := &mgsim{cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { cmd.Wait(); close(s.done) }()
	deadline := time.After(3 * time.Minute)
	for {
		if u, err := os.ReadFile(ready); err == nil && len(u) > 0 {
			s.url = strings.TrimSpace(string(u))
			return s, nil
		}
		select {
		case <-time.After(100 * time.Millisecond):
			continue
		case <-s.done:
		case <-deadline:
		}
		break
	}
	s.stop()
	return nil, fmt.Errorf("mgsim serve did not get ready (see %s)", logf.Name())
}

// stop interrupts the server and returns its last log line (its counts).
func (s *mgsim) stop() string {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
	b, _ := os.ReadFile(s.log.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimPrefix(lines[len(lines)-1], "mgsim: ")
}

// sequentialPager is the baseline: mailgun-go's EventIterator over each
// domain in turn, 300 events a page, counting events. A page the SDK
// fails on ends that domain, and is counted.
func sequentialPager(base string) (events, failed int64, took time.Duration, err error) {
	ctx := context.Background()
	client := &http.Client{Timeout: time.Minute}
	end := time.Now()
	start := time.Now()
	for _, d := range syncDomains {
		mg := mailgun.NewMailgun(syncKey)
		if err := mg.SetAPIBase(base); err != nil {
			return 0, 0, 0, err
		}
		mg.SetHTTPClient(client)
		it := mg.ListEvents(d, &mailgun.ListEventOptions{Limit: 300, Begin: end.AddDate(0, 0, -30), End: end, ForceAscending: true, Compact: true})
		var page []mgevents.Event
		for it.Next(ctx, &page) {
			events += int64(len(page))
		}
		if it.Err() != nil {
			failed++
		}
	}
	took = time.Since(start)
	if events == 0 {
		err = errors.New("read no events")
	}
	return events, failed, took, err
}

// syncCounts are the totals of a maildiag sync summary.
type syncCounts struct {
	requests, retries, rateLimited, failed int64
}

// maildiagSync runs bin's maildiag sync into a fresh index and returns
// the events the index then holds.
func (b *bench) maildiagSync(bin, base, name string) (int64, syncCounts, time.Duration, error) {
	db := filepath.Join(b.dir, name)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		os.Remove(p)
	}
	md := q(bin)
	d, out, err := timed(fmt.Sprintf("%s --db %s --output json sync --api-base %s --api-key %s", md, q(db), q(base), q(syncKey)))
	var c syncCounts
	if err != nil {
		return 0, c, d, err
	}
	var sum struct {
		Domains []struct {
			Requests    int64  `json:"requests"`
			Retries     int64  `json:"retries"`
			RateLimited int64  `json:"rate_limited"`
			Error       string `json:"error"`
		} `json:"domains"`
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		return 0, c, d, fmt.Errorf("sync output: %v: %.200s", err, out)
	}
	for _, dom := range sum.Domains {
		c.requests += dom.Requests
		c.retries += dom.Retries
		c.rateLimited += dom.RateLimited
		if dom.Error != "" {
			c.failed++
		}
	}
	_, cnt, err := timed(fmt.Sprintf("%s --db %s --output csv query 'SELECT COUNT(*) AS n FROM events'", md, q(db)))
	if err != nil {
		return 0, c, d, err
	}
	var n int64
	fmt.Sscan(strings.TrimPrefix(strings.TrimSpace(string(cnt)), "n\n"), &n)
	return n, c, d, nil
}
