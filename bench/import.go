package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profiles are the generator's kinds of account, each imported: a
// marketing sender mails the same customers again and again, a
// transactional one nearly always a new address (mgsim --profile).
var profiles = []string{"marketing", "transactional"}

// fileOf is the small account's file of a profile.
func (b *bench) fileOf(profile string) string {
	if profile == profiles[0] {
		return b.file
	}
	return filepath.Join(b.dir, fmt.Sprintf("events-%s-%d.jsonl", profile, b.events))
}

// generate writes the small marketing account's file once.
func (b *bench) generate() error { return b.generateProfile(profiles[0]) }

func (b *bench) generateProfile(profile string) error {
	file := b.fileOf(profile)
	if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
		return nil
	}
	// Written back to disk before anything is timed: the kernel flushing a
	// gigabyte of fresh pages would run during the import.
	_, _, err := timed(fmt.Sprintf("%s generate --profile %s --seed 1 --events %d --end %s -o %s && sync",
		q(b.tool("mgsim")), profile, b.events, end, q(file)))
	return err
}

// importRun is one import of a file into a fresh index.
type importRun struct {
	wall      time.Duration
	rss       int64 // peak resident memory, bytes
	eventsNew int
	bytes     int64
}

func removeDB(db string) {
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		os.Remove(p)
	}
}

// importFile imports file with bin into a fresh index at db.
func importFile(bin, file, db string) (importRun, error) {
	removeDB(db)
	syscall.Sync() // the last run's pages written back before this one is timed
	warm(file, bin)
	cmd := exec.Command(bin, "--db", db, "--output", "json", "import", file)
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	out, err := cmd.Output()
	r := importRun{wall: time.Since(start), rss: maxRSS(cmd.ProcessState)}
	if err != nil {
		return r, fmt.Errorf("import %s: %v: %s", filepath.Base(file), err, lastLines(errb.String(), 5))
	}
	var imps []struct {
		EventsNew int   `json:"events_new"`
		Bytes     int64 `json:"bytes"`
	}
	if err := json.Unmarshal(out, &imps); err != nil || len(imps) != 1 {
		return r, fmt.Errorf("import output: %v: %s", err, out)
	}
	r.eventsNew, r.bytes = imps[0].EventsNew, imps[0].Bytes
	return r, nil
}

// maxRSS is the peak resident memory of an ended process, in bytes.
func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // KiB on Linux
	}
	return 0
}

// profileImport is what the small imports of one profile measured.
type profileImport struct {
	runs, baseRuns   []importRun
	idx, gz          int64
	recips, rdomains int64
}

func (p *profileImport) median() importRun {
	rs := slices.Clone(p.runs)
	slices.SortFunc(rs, func(a, b importRun) int { return int(a.wall - b.wall) })
	return rs[len(rs)/2]
}

func (p *profileImport) rate() float64 {
	m := p.median()
	return float64(m.eventsNew) / m.wall.Seconds()
}

// peak is the highest peak memory of the runs.
func (p *profileImport) peak() int64 {
	var m int64
	for _, r := range p.runs {
		m = max(m, r.rss)
	}
	return m
}

// importSmall imports each profile's small file into a fresh index three
// times: events/s, peak memory, and the index size against the file
// gzip -6'd, the profiles side by side. The marketing index stays for the
// questions and analyses.
func (b *bench) importSmall() error {
	res := map[string]*profileImport{}
	for _, prof := range profiles {
		if err := b.generateProfile(prof); err != nil {
			return err
		}
		file, db := b.fileOf(prof), b.smallDB
		if prof != profiles[0] {
			db = filepath.Join(b.dir, fmt.Sprintf("index-%s-%d.db", prof, b.events))
		}
		pi := &profileImport{}
		res[prof] = pi
		// Three imports and their median: one run is at the mercy of a
		// busy neighbour on a shared machine.
		for range 3 {
			r, err := importFile(b.tool("maildiag"), file, db)
			if err != nil {
				return err
			}
			pi.runs = append(pi.runs, r)
			if b.base != "" {
				baseDB := db + ".base"
				r, err := importFile(filepath.Join(b.base, "maildiag"), file, baseDB)
				if err != nil {
					return err
				}
				pi.baseRuns = append(pi.baseRuns, r)
				removeDB(baseDB)
			}
		}
		_, gz, err := timed(fmt.Sprintf("gzip -6 -c %s | wc -c", q(file)))
		if err != nil {
			return err
		}
		pi.gz, _ = strconv.ParseInt(strings.TrimSpace(string(gz)), 10, 64)
		pi.idx = fileSize(db, db+"-wal")
		_, out, err := run(b.md(db, "query", "SELECT (SELECT COUNT(*) FROM recipients) AS r, (SELECT COUNT(*) FROM domains WHERE recipients > 0) AS d"))
		if err != nil {
			return err
		}
		var counts []struct{ R, D int64 }
		if err := json.Unmarshal(out, &counts); err != nil || len(counts) != 1 {
			return fmt.Errorf("count recipients: %v: %s", err, out)
		}
		pi.recips, pi.rdomains = counts[0].R, counts[0].D
		if db != b.smallDB {
			removeDB(db)
		}
		if b.base != "" {
			base := &profileImport{runs: pi.baseRuns}
			b.addAB(fmt.Sprintf("import %d %s events, events/s", b.events, prof), pi.rate(), base.rate(), false, "/s")
			b.addAB(fmt.Sprintf("import %d %s events, peak memory", b.events, prof), float64(pi.peak()), float64(base.peak()), true, "B")
		}
	}
	row := func(measure string, f func(p *profileImport) string, target string, ok func(p *profileImport) bool) []string {
		r := []string{measure}
		var verdicts []string
		for _, prof := range profiles {
			r = append(r, f(res[prof]))
			if ok != nil {
				verdicts = append(verdicts, verdict(ok(res[prof])))
			}
		}
		return append(r, target, strings.Join(verdicts, ", "))
	}
	rows := [][]string{
		row("distinct recipients per event", func(p *profileImport) string {
			return fmt.Sprintf("%.2f", float64(p.recips)/float64(p.median().eventsNew))
		}, "", nil),
		row("recipient domains", func(p *profileImport) string { return strconv.FormatInt(p.rdomains, 10) }, "", nil),
		row("file", func(p *profileImport) string { return mb(p.median().bytes) }, "", nil),
		row("wall time (median of 3)", func(p *profileImport) string { return secs(p.median().wall) }, "", nil),
		row("each run", func(p *profileImport) string {
			var each []string
			for _, r := range p.runs {
				each = append(each, fmt.Sprintf("%.2f", r.wall.Seconds()))
			}
			return strings.Join(each, ", ") + " s"
		}, "", nil),
		row("events/s", func(p *profileImport) string { return fmt.Sprintf("%.0f", p.rate()) }, ">= 100000",
			func(p *profileImport) bool { return p.rate() >= 100_000 }),
		row("MB/s", func(p *profileImport) string {
			return fmt.Sprintf("%.1f", float64(p.median().bytes)/1e6/p.median().wall.Seconds())
		}, "", nil),
		row("peak memory (max of 3)", func(p *profileImport) string { return mb(p.peak()) }, "< 500 MB",
			func(p *profileImport) bool { return p.peak() < 500e6 }),
		row("index on disk", func(p *profileImport) string { return mb(p.idx) }, "", nil),
		row("file gzip -6", func(p *profileImport) string { return mb(p.gz) }, "", nil),
		row("index / gzip", func(p *profileImport) string { return fmt.Sprintf("%.2fx", float64(p.idx)/float64(p.gz)) }, "<= 2.0x",
			func(p *profileImport) bool { return p.idx <= 2*p.gz }),
	}
	b.table(fmt.Sprintf("Import of %d generated events (JSON lines) into a fresh, query-ready index, by profile (mgsim --profile)", b.events),
		append(append([]string{"measure"}, profiles...), "target", "result"), rows)
	return nil
}

// importBig streams each profile's large account from the generator into
// import -, and compares the rate of the last million events with the
// first's. The marketing index stays for the breakdowns and the report.
func (b *bench) importBig() error {
	if fileSize(b.bigDB) > 0 && b.only == nil {
		return b.bigQueries()
	}
	var res []streamed
	var idx []int64
	for _, prof := range profiles {
		db := b.bigDB
		if prof != profiles[0] {
			db = filepath.Join(b.dir, fmt.Sprintf("index-%s-%d.db", prof, b.big))
		}
		s, err := b.streamImport(b.tool("maildiag"), db, prof)
		if err != nil {
			return err
		}
		res, idx = append(res, s), append(idx, fileSize(db, db+"-wal"))
		if b.base != "" {
			baseDB := db + ".base"
			bs, err := b.streamImport(filepath.Join(b.base, "maildiag"), baseDB, prof)
			if err != nil {
				return err
			}
			name := fmt.Sprintf("import %d %s events streamed, events/s", b.big, prof)
			b.addAB(name+" overall", s.overall, bs.overall, false, "/s")
			b.addAB(name+", first million", s.first, bs.first, false, "/s")
			b.addAB(name+", last million", s.last, bs.last, false, "/s")
			b.addAB(fmt.Sprintf("import %d %s events streamed, peak memory", b.big, prof), float64(s.rss), float64(bs.rss), true, "B")
			b.addAB(fmt.Sprintf("index of %d %s events on disk", b.big, prof), float64(idx[len(idx)-1]), float64(fileSize(baseDB, baseDB+"-wal")), true, "B")
			removeDB(baseDB)
		}
		if db != b.bigDB {
			removeDB(db)
		}
	}
	row := func(measure string, f func(s streamed, idx int64) string, target string, ok func(s streamed) bool) []string {
		r := []string{measure}
		var verdicts []string
		for i := range profiles {
			r = append(r, f(res[i], idx[i]))
			if ok != nil {
				verdicts = append(verdicts, verdict(ok(res[i])))
			}
		}
		return append(r, target, strings.Join(verdicts, ", "))
	}
	b.table(fmt.Sprintf("Import of %d events streamed from the generator into import - (no file), by profile", b.big),
		append(append([]string{"measure"}, profiles...), "target", "result"),
		[][]string{
			row("wall time", func(s streamed, _ int64) string { return secs(s.total) }, "", nil),
			row("events/s overall", func(s streamed, _ int64) string { return fmt.Sprintf("%.0f", s.overall) }, "", nil),
			row("events/s, first million", func(s streamed, _ int64) string { return fmt.Sprintf("%.0f", s.first) }, "", nil),
			row("events/s, last million", func(s streamed, _ int64) string { return fmt.Sprintf("%.0f", s.last) }, "", nil),
			row("last / first", func(s streamed, _ int64) string { return fmt.Sprintf("%.0f%%", 100*s.last/s.first) }, ">= 80%",
				func(s streamed) bool { return s.last >= 0.8*s.first }),
			row("CPU s a million events, first / last", func(s streamed, _ int64) string {
				return fmt.Sprintf("%.1f / %.1f", s.firstCPU, s.lastCPU)
			}, "", nil),
			row("last / first, from CPU time", func(s streamed, _ int64) string {
				if s.lastCPU == 0 {
					return "-"
				}
				return fmt.Sprintf("%.0f%%", 100*s.firstCPU/s.lastCPU)
			}, "", nil),
			row("peak memory", func(s streamed, _ int64) string { return mb(s.rss) }, "< 500 MB",
				func(s streamed) bool { return s.rss < 500e6 }),
			row("index on disk", func(_ streamed, n int64) string { return mb(n) }, "", nil),
		})
	return b.bigQueries()
}

// streamed is how fast an import of the large account went.
type streamed struct {
	total                time.Duration
	overall, first, last float64 // events/s
	// CPU seconds a million events took, first and last: beside the
	// rates, they tell work that grew from time spent waiting. Neither is
	// steady on a shared machine: over one afternoon the same build's
	// ratio ranged 60-89% by rate and 65-94% by CPU time.
	firstCPU, lastCPU float64
	rss               int64 // the importer's peak resident memory, bytes
}

// streamImport streams a profile's large account from the generator into
// bin's import -, into a fresh index at db.
func (b *bench) streamImport(bin, db, profile string) (streamed, error) {
	removeDB(db)
	syscall.Sync()
	gen := exec.Command(b.tool("mgsim"), "generate", "--profile", profile, "--seed", "1", "--events", strconv.Itoa(b.big), "--end", end)
	imp := exec.Command(bin, "--db", db, "import", "--stats", "-")
	var genErr strings.Builder
	gen.Stderr = &genErr
	pipe, err := gen.StdoutPipe()
	if err != nil {
		return streamed{}, err
	}
	imp.Stdin = pipe
	stderr, err := imp.StderrPipe()
	if err != nil {
		return streamed{}, err
	}
	start := time.Now()
	if err := gen.Start(); err != nil {
		return streamed{}, err
	}
	if err := imp.Start(); err != nil {
		gen.Process.Kill()
		gen.Wait()
		return streamed{}, err
	}
	type point struct {
		events  int
		at, cpu float64 // seconds since the start, CPU seconds used
	}
	var pts []point
	var tail []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) >= 3 && f[0] == "stats" {
			n, _ := strconv.Atoi(f[1])
			t, _ := strconv.ParseFloat(f[2], 64)
			var cpu float64
			if len(f) >= 4 {
				cpu, _ = strconv.ParseFloat(f[3], 64)
			}
			pts = append(pts, point{n, t, cpu})
		} else {
			tail = append(tail, sc.Text())
		}
	}
	impErr := imp.Wait()
	if impErr != nil {
		gen.Process.Kill()
	}
	genWait := gen.Wait()
	if impErr != nil {
		return streamed{}, fmt.Errorf("streamed import: %v: %s", impErr, strings.Join(tail, " | "))
	}
	if genWait != nil {
		return streamed{}, fmt.Errorf("generate: %v: %s", genWait, lastLines(genErr.String(), 5))
	}
	s := streamed{total: time.Since(start), rss: maxRSS(imp.ProcessState)}
	ps := imp.ProcessState
	pts = append(pts, point{b.big, s.total.Seconds(), (ps.UserTime() + ps.SystemTime()).Seconds()})
	at := func(n int) point { // the first point at or after n events
		for _, p := range pts {
			if p.events >= n {
				return p
			}
		}
		return pts[len(pts)-1]
	}
	first := at(1_000_000)
	lastFrom := at(b.big - 1_000_000)
	last := pts[len(pts)-1]
	s.overall = float64(b.big) / s.total.Seconds()
	s.first = float64(first.events) / first.at
	s.last = float64(last.events-lastFrom.events) / (last.at - lastFrom.at)
	if first.cpu > 0 && lastFrom.cpu > 0 {
		s.firstCPU = first.cpu / float64(first.events) * 1e6
		s.lastCPU = (last.cpu - lastFrom.cpu) / float64(last.events-lastFrom.events) * 1e6
	}
	return s, nil
}
