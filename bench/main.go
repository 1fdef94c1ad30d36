// Command bench runs maildiag's benchmarks (make bench) and prints each as a
// table beside the comparison it is judged by, all measured in one run:
// import rate and index size against gzip, the same questions asked of jq,
// the sqlite3 shell and maildiag, the analyses on 1M and 10M events, the
// report on 10M events, sync against a sequential mailgun-go pager, and
// maildiag serve's API under concurrent clients and its webhook ingestion.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// end is the generated accounts' end, and "now" for the analyses.
const end = "2026-11-20T00:00:00Z"

type bench struct {
	bin, dir string
	base     string // directory with the previous build's maildiag: timed beside this one's
	ab       []abRow
	events   int
	big      int
	only     map[string]bool
	out      io.Writer
	file     string // the 1M-event JSON lines file
	smallDB  string
	bigDB    string
	failures int
	skipped  []string
	jq       bool          // time jq beside maildiag's searches (minutes)
	serveFor time.Duration // the server section's API load
	hooks    int           // webhooks the server section sends
	pgBig    int           // events in the PostgreSQL section's index
	pgImport bool          // time the PostgreSQL section's import too
	profile  string        // directory for the servers' CPU and heap profiles
}

func main() {
	b := &bench{out: os.Stdout}
	flag.StringVar(&b.bin, "bin", "bin", "directory with the maildiag and mgsim binaries")
	flag.StringVar(&b.dir, "dir", ".bench", "work directory (generated files and indexes)")
	flag.StringVar(&b.base, "base", "", "directory with another build's maildiag to time beside this one (A/B)")
	flag.IntVar(&b.events, "events", 1_000_000, "events in the small account")
	flag.IntVar(&b.big, "big", 10_000_000, "events in the large account")
	flag.DurationVar(&b.serveFor, "serve-for", 30*time.Second, "how long the server section's API load runs")
	flag.IntVar(&b.hooks, "webhooks", 20_000, "webhooks the server section sends")
	flag.IntVar(&b.pgBig, "pg-big", 10_000_000, "events in the PostgreSQL section's index (built once, kept in the work directory's cluster)")
	flag.BoolVar(&b.pgImport, "pg-import", true, "time the PostgreSQL section's import of the small file (false: ask the questions only)")
	flag.StringVar(&b.profile, "profile", "", "directory where each maildiag serve of the server section writes its CPU and heap profiles (serve-NAME.cpu, .heap)")
	only := flag.String("only", "", "comma-separated sections: import,questions,analyses,big,search,report,sync,server,postgres (default all)")
	flag.BoolVar(&b.jq, "jq", true, "time jq beside maildiag's searches and the large index's breakdowns (minutes)")
	spinOnly := flag.Bool("spin", false, "run the machine-speed loop once and print its time")
	flag.Parse()
	if *spinOnly {
		fmt.Println(spin().Microseconds())
		return
	}
	if *only != "" {
		b.only = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			b.only[strings.TrimSpace(s)] = true
		}
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		fatal(err)
	}
	b.file = filepath.Join(b.dir, fmt.Sprintf("events-%d.jsonl", b.events))
	b.smallDB = filepath.Join(b.dir, fmt.Sprintf("index-%d.db", b.events))
	b.bigDB = filepath.Join(b.dir, fmt.Sprintf("index-%d.db", b.big))
	fmt.Fprintf(b.out, "maildiag benchmarks, %s, %d CPUs\n\n", time.Now().UTC().Format(time.RFC3339), numCPU())
	speedAtStart := b.machineSpeed()
	steps := []struct {
		name string
		fn   func() error
	}{
		{"import", b.importSmall},
		{"questions", b.questions},
		{"analyses", b.analyses},
		{"big", b.importBig},
		{"search", b.search},
		{"report", b.report},
		{"sync", b.sync},
		{"server", b.server},
		{"postgres", b.postgres},
	}
	for _, s := range steps {
		if b.only != nil && !b.only[s.name] {
			continue
		}
		if err := s.fn(); err != nil {
			fmt.Fprintf(b.out, "%s: FAILED: %v\n\n", s.name, err)
			b.failures++
		}
	}
	b.printAB()
	b.table("Machine speed: one fixed single-threaded loop on each CPU (lower is faster), at the start and the end of this run",
		append([]string{"when"}, speedHeader()...), [][]string{append([]string{"start"}, speedAtStart...), append([]string{"end"}, b.machineSpeed()...)})
	for _, s := range b.skipped {
		fmt.Fprintf(b.out, "skipped: %s\n", s)
	}
	if b.failures > 0 {
		os.Exit(1)
	}
}

// spin is a fixed amount of single-threaded integer work: its time says how
// fast a CPU is running right now. On a shared virtual machine that changes
// from minute to minute, and from one CPU to the other, which is what the
// absolute times above depend on.
func spin() time.Duration {
	start := time.Now()
	x := uint64(88172645463325252)
	for i := 0; i < 100_000_000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	d := time.Since(start)
	if x == 0 {
		fmt.Println() // keeps the loop from being optimised away
	}
	return d
}

// machineSpeed times spin on each CPU, pinned there by taskset.
func (b *bench) machineSpeed() []string {
	self, err := os.Executable()
	var out []string
	for c := 0; c < numCPU(); c++ {
		o, e := exec.Command("taskset", "-c", strconv.Itoa(c), self, "-spin").Output()
		us, perr := strconv.Atoi(strings.TrimSpace(string(o)))
		if err != nil || e != nil || perr != nil {
			out = append(out, "?")
			continue
		}
		out = append(out, ms(time.Duration(us)*time.Microsecond))
	}
	return out
}

func speedHeader() []string {
	var h []string
	for c := 0; c < numCPU(); c++ {
		h = append(h, fmt.Sprintf("cpu%d", c))
	}
	return h
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

func (b *bench) tool(name string) string { return filepath.Join(b.bin, name) }

// table prints rows under a title, aligned.
func (b *bench) table(title string, header []string, rows [][]string) {
	fmt.Fprintln(b.out, title)
	tw := tabwriter.NewWriter(b.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(b.out)
}

// timed runs a shell pipeline and returns its wall time and output.
func timed(script string) (time.Duration, []byte, error) {
	return execTimed(script, "bash", "-o", "pipefail", "-c", script)
}

// run starts a command directly, not through a shell, and returns its wall
// time and output: a shell's own start (6 ms here) is no part of a
// command's time.
func run(argv []string) (time.Duration, []byte, error) {
	return execTimed(strings.Join(argv, " "), argv...)
}

func execTimed(label string, argv ...string) (time.Duration, []byte, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, out.Bytes(), fmt.Errorf("%s: %w: %s", firstWords(label), err, lastLines(errb.String(), 5))
	}
	return d, out.Bytes(), nil
}

func firstWords(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// median runs a command once to warm up, then n times, and returns the
// median wall time.
func median(n int, argv []string) (time.Duration, []byte, error) {
	if _, _, err := run(argv); err != nil {
		return 0, nil, err
	}
	var ds []time.Duration
	var out []byte
	for range n {
		d, o, err := run(argv)
		if err != nil {
			return 0, nil, err
		}
		ds = append(ds, d)
		out = o
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], out, nil
}

// md is a maildiag command line on an index, at the accounts' end.
func (b *bench) md(db string, args ...string) []string {
	return append([]string{b.tool("maildiag"), "--db", db, "--now", end, "--output", "json"}, args...)
}

// timeMD is median for a maildiag command line; with -base, the base
// build runs the same command line too, each run alternating with this
// build's, and the pair is kept for the A/B table under name.
func (b *bench) timeMD(name string, n int, argv []string) (time.Duration, []byte, error) {
	if b.base == "" {
		return median(n, argv)
	}
	baseArgv := append([]string{filepath.Join(b.base, "maildiag")}, argv[1:]...)
	for _, a := range [][]string{argv, baseArgv} {
		if _, _, err := run(a); err != nil {
			return 0, nil, err
		}
	}
	var this, base []time.Duration
	var out []byte
	for range n {
		d, o, err := run(argv)
		if err != nil {
			return 0, nil, err
		}
		this, out = append(this, d), o
		if d, _, err = run(baseArgv); err != nil {
			return 0, nil, err
		}
		base = append(base, d)
	}
	mt, mb := medianOf(this), medianOf(base)
	b.addAB(name, mt.Seconds(), mb.Seconds(), true, "s")
	return mt, out, nil
}

func medianOf(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// abRow is one figure measured with both builds in this run.
type abRow struct {
	name        string
	this, base  float64
	lowerBetter bool
	unit        string
}

func (b *bench) addAB(name string, this, base float64, lowerBetter bool, unit string) {
	b.ab = append(b.ab, abRow{name, this, base, lowerBetter, unit})
}

// printAB prints every figure of both builds: a change more than 5% for
// the worse is flagged.
func (b *bench) printAB() {
	if b.base == "" || len(b.ab) == 0 {
		return // the server section prints the base build's tables of its own
	}
	var rows [][]string
	worse := 0
	for _, r := range b.ab {
		change := 0.0
		if r.base != 0 {
			change = (r.this - r.base) / r.base
		}
		bad := r.lowerBetter && change > 0.05 || !r.lowerBetter && change < -0.05
		if bad {
			worse++
		}
		f := func(v float64) string {
			if r.unit == "s" {
				return fmt.Sprintf("%.4g s", v)
			}
			return fmt.Sprintf("%.0f %s", v, r.unit)
		}
		rows = append(rows, []string{r.name, f(r.this), f(r.base), fmt.Sprintf("%+.1f%%", 100*change), verdict(!bad)})
	}
	b.table(fmt.Sprintf("This build against %s, measured alternately in this run (%d figures more than 5%% worse)", b.base, worse),
		[]string{"figure", "this build", "base", "change", "within 5%"}, rows)
}

// warm reads files into the page cache: this machine pages out what has
// not been touched for a minute, and a benchmark of decoding should not
// time the disk.
func warm(paths ...string) {
	for _, p := range paths {
		if f, err := os.Open(p); err == nil {
			io.Copy(io.Discard, f)
			f.Close()
		}
	}
}

func q(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", a/b)
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func fileSize(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// questions asks two questions of jq, of the sqlite3 shell over the raw
// JSON loaded as text, and of maildiag over its index.
func (b *bench) questions() error {
	if err := b.generate(); err != nil {
		return err
	}
	if fileSize(b.smallDB) == 0 {
		if err := b.importSmall(); err != nil {
			return err
		}
	}
	for _, t := range []string{"jq", "sqlite3"} {
		if _, err := exec.LookPath(t); err != nil {
			b.skipped = append(b.skipped, "questions: "+t+" not installed (make bench installs it)")
			return nil
		}
	}
	raw := filepath.Join(b.dir, "raw-text.db")
	os.Remove(raw)
	// ASCII mode does no quoting; \037 (unit separator) never occurs in JSON.
	warm(b.file)
	load, _, err := timed(fmt.Sprintf(`sqlite3 %s "CREATE TABLE raw(j TEXT)" ".mode ascii" ".separator \"\037\" \"\n\"" ".import %s raw"`, q(raw), q(b.file)))
	if err != nil {
		return err
	}
	type question struct {
		name     string
		jq, sql  string
		maildiag []string
	}
	qs := []question{
		{"failed events by code",
			fmt.Sprintf(`jq -n 'reduce (inputs | select(.event == "failed") | ."delivery-status".code | tostring) as $c ({}; .[$c] += 1)' %s`, q(b.file)),
			`SELECT json_extract(j, '$."delivery-status".code') AS code, COUNT(*) FROM raw WHERE json_extract(j, '$.event') = 'failed' GROUP BY code`,
			b.md(b.smallDB, "failures", "--by", "code", "--top", "1000")},
		{"failed events to acme.com",
			fmt.Sprintf(`jq -c 'select(.event == "failed" and ."recipient-domain" == "acme.com") | [.recipient, ."delivery-status".code]' %s | wc -l`, q(b.file)),
			`SELECT COUNT(*) FROM raw WHERE json_extract(j, '$.event') = 'failed' AND json_extract(j, '$."recipient-domain"') = 'acme.com'`,
			b.md(b.smallDB, "failures", "--to", "*@acme.com", "--by", "class")},
	}
	var rows [][]string
	for _, x := range qs {
		warm(b.file)
		jd, _, err := timed(x.jq)
		if err != nil {
			return err
		}
		warm(raw)
		sd, _, err := timed(fmt.Sprintf("sqlite3 %s %s", q(raw), q(x.sql)))
		if err != nil {
			return err
		}
		mdd, _, err := b.timeMD(x.name, 3, x.maildiag)
		if err != nil {
			return err
		}
		rows = append(rows, []string{x.name, secs(jd), secs(sd), ms(mdd), ratio(jd.Seconds(), mdd.Seconds()), ratio(sd.Seconds(), mdd.Seconds())})
	}
	b.table(fmt.Sprintf("The same questions over %d events (sqlite3 first loads the file as text in %s)", b.events, secs(load)),
		[]string{"question", "jq", "sqlite3 (query)", "maildiag", "jq / maildiag", "sqlite3 / maildiag"}, rows)
	os.Remove(raw)
	return nil
}

// analyses times suppressed and trace on the small index, beside jq
// answering the same question from the file.
func (b *bench) analyses() error {
	if fileSize(b.smallDB) == 0 {
		if err := b.importSmall(); err != nil {
			return err
		}
	}
	type question struct {
		name     string
		maildiag []string
		jq       string
		target   time.Duration
	}
	qs := []question{
		{"suppressed '*@acme.com'", b.md(b.smallDB, "suppressed", "*@acme.com"),
			fmt.Sprintf(`jq -c 'select(."recipient-domain" == "acme.com" and .event == "failed" and .severity == "permanent")' %s | wc -l`, q(b.file)), 50 * time.Millisecond},
		{"trace jane.doe@initech.com", b.md(b.smallDB, "trace", "jane.doe@initech.com"),
			fmt.Sprintf(`jq -c 'select(.recipient == "jane.doe@initech.com")' %s | wc -l`, q(b.file)), 50 * time.Millisecond},
		{"trace john_smith@initech.com", b.md(b.smallDB, "trace", "john_smith@initech.com"),
			fmt.Sprintf(`jq -c 'select(.recipient == "john_smith@initech.com")' %s | wc -l`, q(b.file)), 50 * time.Millisecond},
	}
	var rows [][]string
	for _, x := range qs {
		d, _, err := b.timeMD(x.name, 5, x.maildiag)
		if err != nil {
			return err
		}
		warm(b.file)
		jd, _, err := timed(x.jq)
		if err != nil {
			return err
		}
		rows = append(rows, []string{x.name, ms(d), "< " + ms(x.target), verdict(d < x.target), secs(jd), ratio(jd.Seconds(), d.Seconds())})
	}
	b.table(fmt.Sprintf("Support questions on the %d-event index (median of 5 runs of the binary)", b.events),
		[]string{"command", "maildiag", "target", "result", "jq", "jq / maildiag"}, rows)
	return nil
}

// bigQueries times the failures breakdowns on the large index beside jq
// over the same events, streamed from the generator.
func (b *bench) bigQueries() error {
	gen := fmt.Sprintf("%s generate --seed 1 --events %d --end %s", q(b.tool("mgsim")), b.big, end)
	since := time.Date(2026, 11, 13, 0, 0, 0, 0, time.UTC).Unix()
	qs := []struct {
		name     string
		maildiag []string
		jq       string
	}{
		{"failures --since 7d --by class", b.md(b.bigDB, "failures", "--since", "7d", "--by", "class"),
			gen + fmt.Sprintf(` | jq -n 'reduce (inputs | select(.event == "failed" and .timestamp >= %d) | .reason) as $r ({}; .[$r] += 1)'`, since)},
		{"failures --code 550 --to '*@gmail.com' --by day", b.md(b.bigDB, "failures", "--code", "550", "--to", "*@gmail.com", "--by", "day"),
			gen + ` | jq -n 'reduce (inputs | select(.event == "failed" and ."recipient-domain" == "gmail.com" and ."delivery-status".code == 550) | (.timestamp | floor / 86400 | floor)) as $d ({}; .[$d | tostring] += 1)'`},
	}
	var rows [][]string
	for _, x := range qs {
		d, _, err := b.timeMD(x.name+" (10M)", 3, x.maildiag)
		if err != nil {
			return err
		}
		jd := time.Duration(0)
		if _, err := exec.LookPath("jq"); err == nil && b.jq {
			if jd, _, err = timed(x.jq); err != nil {
				return err
			}
		}
		jqs, jqr := "-", "-"
		if jd > 0 {
			jqs, jqr = secs(jd), ratio(jd.Seconds(), d.Seconds())
		}
		rows = append(rows, []string{x.name, ms(d), "< 1 s", verdict(d < time.Second), jqs, jqr})
	}
	b.table(fmt.Sprintf("Breakdowns on the %d-event index (median of 3; jq reads the same events from the generator)", b.big),
		[]string{"command", "maildiag", "target", "result", "jq", "jq / maildiag"}, rows)
	return nil
}

// report writes the full report over the large index.
func (b *bench) report() error {
	if fileSize(b.bigDB) == 0 {
		return errors.New("no large index: run the big section first")
	}
	if _, _, err := timed(q(b.tool("maildiag")) + " report --help"); err != nil {
		b.skipped = append(b.skipped, "report: this build has no report command")
		return nil
	}
	out := filepath.Join(b.dir, "report.html")
	d, _, err := b.timeMD("report --since 7d (10M)", 3, []string{b.tool("maildiag"), "--db", b.bigDB, "--now", end, "report", "--since", "7d", "-o", out})
	if err != nil {
		return err
	}
	b.table(fmt.Sprintf("The full HTML report over the %d-event index (median of 3)", b.big),
		[]string{"measure", "value", "target", "result"},
		[][]string{
			{"report --since 7d", secs(d), "< 3 s", verdict(d < 3*time.Second)},
			{"index on disk", mb(fileSize(b.bigDB, b.bigDB+"-wal")), "", ""},
			{"report file", mb(fileSize(out)), "", ""},
		})
	return nil
}
