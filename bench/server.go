package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	apiClients  = 50 // the concurrent helpdesk clients
	hookSenders = 32 // Mailgun delivers webhooks over many connections at once
	apiTarget   = 100 * time.Millisecond
	hookTarget  = 50 * time.Millisecond
	hookRate    = 2000.0 // events/s
)

// server measures maildiag serve: its JSON API on a copy of the small
// index under concurrent helpdesk clients, and its webhook ingestion into
// a new index.
func (b *bench) server() error {
	if fileSize(b.smallDB) == 0 {
		if err := b.importSmall(); err != nil {
			return err
		}
	}
	// With -base, the base build's server is measured first, then this
	// build's, section by section: the two tables of a section are a
	// minute apart on the same machine, not two runs apart.
	builds := []serveBuild{{"", b.tool("maildiag")}}
	if b.base != "" {
		builds = append([]serveBuild{{"base build (" + b.base + "): ", filepath.Join(b.base, "maildiag")}}, builds...)
	}
	for _, sb := range builds {
		if err := b.serverAPI(sb); err != nil {
			return fmt.Errorf("API: %s%w", sb.label, err)
		}
	}
	for _, sb := range builds {
		if err := b.serverWebhooks(sb); err != nil {
			return fmt.Errorf("webhooks: %s%w", sb.label, err)
		}
	}
	return nil
}

// serveBuild is the maildiag binary whose server a table measures, and
// the label its tables start with ("" for this build).
type serveBuild struct{ label, bin string }

// serverAPI times trace and suppressed over HTTP on a copy of the small
// index: the server migrates the schema and keeps users and tokens in it,
// and the bench's index must stay as the other sections left it.
func (b *bench) serverAPI(sb serveBuild) error {
	tmp, err := os.MkdirTemp(b.dir, "serve-api-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db := filepath.Join(tmp, "index.db")
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(b.smallDB+suffix, db+suffix); err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
			return err
		}
	}
	token, err := b.viewerToken(db)
	if err != nil {
		return err
	}
	addrs, domains, err := b.serverQuestions(db)
	if err != nil {
		return err
	}
	srv, err := b.startServe(sb.bin, db, tmp, nil)
	if err != nil {
		return err
	}
	defer srv.stop()

	client := loopbackClient(apiClients)
	var urls [2][]string // trace, suppressed
	for _, a := range addrs {
		urls[0] = append(urls[0], srv.base+"/api/v1/trace/"+url.PathEscape(a))
	}
	for _, d := range domains {
		urls[1] = append(urls[1], srv.base+"/api/v1/suppressed/"+url.PathEscape(d))
	}
	// One request for each question first, checked: the load below
	// measures a server whose page cache holds what it reads, as a
	// team's server does after its first minutes. Then each question
	// twice more, one at a time: a request's own time, without queueing.
	warm(db)
	var alone [2][]time.Duration
	for pass := range 3 {
		for kind, us := range urls {
			for _, u := range us {
				lat, code, body, err := apiGet(client, u, token)
				if err != nil || code != 200 || !json.Valid(body) {
					return fmt.Errorf("GET %s: %d %v %.200s (%s)", u, code, err, body, lat)
				}
				if pass > 0 {
					alone[kind] = append(alone[kind], lat)
				}
			}
		}
	}

	type sample struct {
		kind int
		lat  time.Duration
		ok   bool
	}
	per := make([][]sample, apiClients)
	cpu0 := srv.cpu()
	start := time.Now()
	deadline := start.Add(b.serveFor)
	var wg sync.WaitGroup
	for c := range apiClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each client alternates the two questions, and the clients
			// start at different ones: at any time about half ask each.
			for i := 0; time.Now().Before(deadline); i++ {
				kind := (c + i) % 2
				us := urls[kind]
				u := us[(c*7+i/2)%len(us)]
				lat, code, _, err := apiGet(client, u, token)
				per[c] = append(per[c], sample{kind, lat, err == nil && code == 200})
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu := srv.cpu() - cpu0

	var rows [][]string
	for kind, name := range []string{"trace", "suppressed"} {
		rows = append(rows, []string{name + ", 1 client", fmt.Sprint(len(alone[kind])), "0", "", ms(percentile(alone[kind], 0.5)), ms(percentile(alone[kind], 0.99)), "", ""})
	}
	total := 0
	row := func(name string, keep func(sample) bool) {
		var lats []time.Duration
		errs := 0
		for _, ss := range per {
			for _, s := range ss {
				if !keep(s) {
					continue
				}
				lats = append(lats, s.lat)
				if !s.ok {
					errs++
				}
			}
		}
		p50, p99 := percentile(lats, 0.50), percentile(lats, 0.99)
		total = max(total, len(lats))
		rows = append(rows, []string{fmt.Sprintf("%s, %d clients", name, apiClients), fmt.Sprint(len(lats)), fmt.Sprint(errs), fmt.Sprintf("%.0f", float64(len(lats))/wall.Seconds()),
			ms(p50), ms(p99), "< " + ms(apiTarget), verdict(p99 < apiTarget && errs == 0 && len(lats) > 0)})
	}
	row("trace", func(s sample) bool { return s.kind == 0 })
	row("suppressed", func(s sample) bool { return s.kind == 1 })
	row("both", func(sample) bool { return true })
	if err := srv.stop(); err != nil {
		return err
	}
	b.table(fmt.Sprintf(sb.label+"maildiag serve's JSON API on the %d-event index: %d clients for %s over loopback, each alternating trace (%d addresses) and suppressed (%d customer domains), after one warm-up request of each and two more one at a time (the 1-client rows); under the load the server used %s of the %d CPUs it shares with the clients, %s a request; server log errors: %d",
		b.events, apiClients, b.serveFor, len(addrs), len(domains), cpuShare(cpu, wall), numCPU(), ms(cpu/time.Duration(max(total, 1))), srv.logErrors()),
		[]string{"request", "requests", "errors", "requests/s", "p50", "p99", "target p99", "result"}, rows)
	return nil
}

// serverQuestions picks what the load asks from the index itself: the
// handbook's addresses, the recipients of the newest permanent failures
// (what a helpdesk is asked about), recipients spread over the whole
// index, and the story's customer domains with the business domains
// (hosted at Google Workspace or Outlook 365) that bounced most.
func (b *bench) serverQuestions(db string) (addrs, domains []string, err error) {
	addrs = []string{"jane.doe@initech.com", "john_smith@initech.com"}
	domains = []string{"acme.com", "initech.com", "contoso.com"}
	for _, x := range []struct {
		into *[]string
		sql  string
	}{
		{&addrs, "SELECT recipient FROM failures_full WHERE outcome = 'permanent' GROUP BY recipient ORDER BY MAX(ts) DESC LIMIT 24"},
		{&addrs, "SELECT address FROM recipients ORDER BY addr_hash(address) LIMIT 24"},
		{&domains, "SELECT f.recipient_domain FROM failures_full f JOIN domains d ON d.name = f.recipient_domain WHERE f.outcome = 'permanent' AND d.provider IN ('Google Workspace', 'Outlook 365') GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 5"},
	} {
		_, out, err := run([]string{b.tool("maildiag"), "--db", db, "--output", "csv", "query", x.sql})
		if err != nil {
			return nil, nil, err
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) < 2 {
			return nil, nil, fmt.Errorf("no rows: %s", x.sql)
		}
		for _, l := range lines[1:] {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(*x.into, l) {
				*x.into = append(*x.into, l)
			}
		}
	}
	return addrs, domains, nil
}

// viewerToken adds a viewer to the index and makes it an API token.
func (b *bench) viewerToken(db string) (string, error) {
	if _, _, err := run([]string{b.tool("maildiag"), "--db", db, "users", "add", "bench", "--role", "viewer"}); err != nil {
		return "", err
	}
	_, out, err := run([]string{b.tool("maildiag"), "--db", db, "--output", "json", "tokens", "create", "bench"})
	if err != nil {
		return "", err
	}
	var t struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out, &t); err != nil || t.Token == "" {
		return "", fmt.Errorf("tokens create: %v: %.200s", err, out)
	}
	return t.Token, nil
}

// serverWebhooks sends signed webhooks, one generated event each, to a
// server on a new index, and checks that what was answered 200 is stored.
func (b *bench) serverWebhooks(sb serveBuild) error {
	tmp, err := os.MkdirTemp(b.dir, "serve-hooks-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	events := filepath.Join(tmp, "events.jsonl")
	// Another seed than the imported account's: events the index has not seen.
	if _, _, err := run([]string{b.tool("mgsim"), "generate", "--seed", "2", "--events", fmt.Sprint(b.hooks), "--end", end, "-o", events}); err != nil {
		return err
	}
	var key [32]byte
	rand.Read(key[:])
	signingKey := hex.EncodeToString(key[:])
	db := filepath.Join(tmp, "hooks.db")
	srv, err := b.startServe(sb.bin, db, tmp, []string{"MG_WEBHOOK_SIGNING_KEY=" + signingKey})
	if err != nil {
		return err
	}
	defer srv.stop()
	evs, err := hookEvents(events)
	if err != nil {
		return err
	}

	client := loopbackClient(hookSenders)
	answers := make([]hookAnswer, len(evs))
	var next atomic.Int64
	cpu0 := srv.cpu()
	start := time.Now()
	var wg sync.WaitGroup
	for range hookSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(evs) {
					return
				}
				answers[i] = postHook(client, srv.base+"/webhooks/mailgun", signedHook(signingKey, evs[i]))
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu := srv.cpu() - cpu0
	if err := srv.stop(); err != nil {
		return err
	}

	var lats []time.Duration
	stored, storedEvents, other := 0, 0, 0
	for _, a := range answers {
		lats = append(lats, a.lat)
		if a.code == 200 {
			stored++
			storedEvents += a.events
		} else {
			other++
		}
	}
	rate := float64(storedEvents) / wall.Seconds()
	p50, p99 := percentile(lats, 0.50), percentile(lats, 0.99)
	_, out, err := run([]string{b.tool("maildiag"), "--db", db, "--output", "csv", "query", "SELECT COUNT(*) FROM events"})
	if err != nil {
		return err
	}
	indexed, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "COUNT(*)")))
	b.table(fmt.Sprintf(sb.label+"maildiag serve's webhook ingestion: %d webhooks signed with HMAC-SHA256 (one generated event each, unique tokens) from %d senders over loopback into a new index; server log errors: %d",
		len(evs), hookSenders, srv.logErrors()),
		[]string{"measure", "value", "target", "result"},
		[][]string{
			{"answered 200 (stored)", fmt.Sprintf("%d of %d", stored, len(evs)), "all", verdict(stored == len(evs))},
			{"other answers or errors", fmt.Sprint(other), "0", verdict(other == 0)},
			{"wall time", secs(wall), "", ""},
			{"server CPU", fmt.Sprintf("%s of %d CPUs", cpuShare(cpu, wall), numCPU()), "", ""},
			{"events/s, sustained", fmt.Sprintf("%.0f", rate), fmt.Sprintf(">= %.0f", hookRate), verdict(rate >= hookRate)},
			{"answer p50", ms(p50), "", ""},
			{"answer p99", ms(p99), "< " + ms(hookTarget), verdict(p99 < hookTarget)},
			{"events in the index after stop", fmt.Sprint(indexed), fmt.Sprintf("= %d (answered 200)", storedEvents), verdict(indexed == storedEvents)},
		})
	if indexed != storedEvents {
		return fmt.Errorf("the index holds %d events, the server answered 200 for %d", indexed, storedEvents)
	}
	return nil
}

// hookEvents reads the events of a JSON lines file, each checked to be
// new: a repeated identity would be stored once, and the count check
// would see the deduplication, not a lost webhook.
func hookEvents(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]bool{}
	var evs [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		ev := bytes.Clone(sc.Bytes())
		var id struct{ Event, ID string }
		if err := json.Unmarshal(ev, &id); err != nil || id.ID == "" || seen[id.Event+" "+id.ID] {
			return nil, fmt.Errorf("generated event %d: no id, or one seen before: %v", len(evs)+1, err)
		}
		seen[id.Event+" "+id.ID] = true
		evs = append(evs, ev)
	}
	return evs, sc.Err()
}

// signedHook wraps an event in Mailgun's webhook envelope, signed now
// with a fresh token: signed when sent, as Mailgun does, since the server
// refuses timestamps more than 5 minutes off.
func signedHook(signingKey string, ev []byte) []byte {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	var tok [25]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	mac := hmac.New(sha256.New, []byte(signingKey))
	mac.Write([]byte(ts + token))
	return fmt.Appendf(nil, `{"signature":{"timestamp":%q,"token":%q,"signature":%q},"event-data":%s}`,
		ts, token, hex.EncodeToString(mac.Sum(nil)), ev)
}

// hookAnswer is the server's answer to one webhook: code 0 when the
// request failed.
type hookAnswer struct {
	lat    time.Duration
	code   int
	events int // stored, as the answer says
}

// postHook sends one webhook and returns its answer.
func postHook(client *http.Client, u string, body []byte) (a hookAnswer) {
	start := time.Now()
	resp, err := client.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		a.lat = time.Since(start)
		return a
	}
	var ans struct {
		Events int `json:"events"`
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.lat, a.code = time.Since(start), resp.StatusCode
	if json.Unmarshal(data, &ans) == nil {
		a.events = ans.Events
	}
	return a
}

// apiGet makes one API request and reads the whole answer.
func apiGet(client *http.Client, u, token string) (time.Duration, int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return time.Since(start), 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return time.Since(start), resp.StatusCode, body, err
}

// loopbackClient keeps a connection per concurrent client: the default
// Transport keeps 2 per host, and new connections would be timed too.
func loopbackClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever the environment says
			MaxIdleConns:        2 * conns,
			MaxIdleConnsPerHost: 2 * conns,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// percentile is the nearest-rank percentile.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	i := int(p*float64(len(ds))+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// serve is a running maildiag serve.
type serve struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	base string        // http://127.0.0.1:PORT
	log  string
	once sync.Once
	err  error
}

// startServe starts maildiag serve on db, sync off, on a free loopback
// port, with its log in dir, and waits for the line naming its address.
// env adds to the environment, from which Mailgun's keys are dropped: the
// bench never talks to Mailgun.
func (b *bench) startServe(bin, db, dir string, env []string) (*serve, error) {
	logPath := filepath.Join(dir, fmt.Sprintf("serve-%s.log", filepath.Base(db)))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--db", db, "serve", "--listen", "127.0.0.1:0", "--no-sync")
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "MG_API_KEY", "MAILGUN_API_KEY", "MG_WEBHOOK_SIGNING_KEY":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, env...)
	if b.profile != "" && bin == b.tool("maildiag") {
		// This build's only. The server writes them when SIGTERM stops it (stop).
		name := filepath.Join(b.profile, "serve-"+strings.TrimSuffix(filepath.Base(db), ".db"))
		cmd.Env = append(cmd.Env, "MAILDIAG_CPUPROFILE="+name+".cpu", "MAILDIAG_MEMPROFILE="+name+".heap")
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start maildiag serve: %w", err)
	}
	s := &serve{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); close(s.done) }()
	const prefix = "maildiag serve: http://"
	deadline := time.After(2 * time.Minute) // the first open migrates the index
	for {
		data, _ := os.ReadFile(logPath)
		for _, l := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				if addr, _, ok := strings.Cut(rest, "/"); ok {
					s.base = "http://" + addr
					return s, nil
				}
			}
		}
		select {
		case <-time.After(50 * time.Millisecond):
			continue
		case <-s.done:
		case <-deadline:
		}
		break
	}
	s.stop()
	data, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("maildiag serve did not start: %s", lastLines(string(data), 5))
}

// stop sends SIGTERM and waits for the graceful stop (requests in flight
// finish, webhooks are committed); a server still running after a minute
// is killed. Safe to call again.
func (s *serve) stop() error {
	s.once.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			s.cmd.Process.Kill()
			<-s.done
			s.err = errors.New("maildiag serve did not stop within a minute of SIGTERM")
			return
		}
		if st := s.cmd.ProcessState; st != nil && !st.Success() {
			data, _ := os.ReadFile(s.log)
			s.err = fmt.Errorf("maildiag serve: %v: %s", st, lastLines(string(data), 5))
		}
	})
	return s.err
}

// cpu is the server's CPU time so far (user and system), from
// /proc/PID/stat in clock ticks of 10 ms: the clients share the machine,
// and this says how much of it the server had. 0 where there is no /proc.
func (s *serve) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which may hold spaces: state is
	// the first, utime and stime the 12th and 13th.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func cpuShare(cpu, wall time.Duration) string {
	return fmt.Sprintf("%s CPU in %s (%.2f CPUs)", secs(cpu), secs(wall), cpu.Seconds()/wall.Seconds())
}

// logErrors counts the error lines in the server's log.
func (s *serve) logErrors() int {
	data, _ := os.ReadFile(s.log)
	return strings.Count(string(data), "level=ERROR")
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
