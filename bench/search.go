package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// searchFilter is one of the support handbook's searches, as maildiag
// events flags and as a jq select() over Mailgun's JSON.
type searchFilter struct {
	name   string
	args   []string
	jq     string
	target time.Duration
	none   bool // matches nothing: maildiag exits 1
}

// searchFilters are the searches: the selective filters (a
// recipient or a pattern, a message-id, a sending IP, a code with a
// sending domain) and the "contains" ones (subject, From, To contains).
// mid is a message-id the index holds.
func searchFilters(mid string) []searchFilter {
	sel, contains := 100*time.Millisecond, 500*time.Millisecond
	return []searchFilter{
		{"--to jane.doe@initech.com", []string{"--to", "jane.doe@initech.com"}, `.recipient == "jane.doe@initech.com"`, sel, false},
		{"--to '*@acme.com'", []string{"--to", "*@acme.com"}, `."recipient-domain" == "acme.com"`, sel, false},
		{"--message-id (jane.doe's newest)", []string{"--message-id", mid}, fmt.Sprintf(`.message.headers."message-id" == %q`, mid), sel, false},
		{"--sending-ip 198.51.100.10", []string{"--sending-ip", "198.51.100.10"}, `.envelope."sending-ip" == "198.51.100.10"`, sel, false},
		{"--code 550 --sending-domain mg.brightcart.io", []string{"--code", "550", "--sending-domain", "mg.brightcart.io"},
			`."delivery-status".code == 550 and (.storage.url // "" | contains("/mg.brightcart.io/"))`, sel, false},
		{"--event permanent-fail --to '*@acme.com'", []string{"--event", "permanent-fail", "--to", "*@acme.com"},
			`.event == "failed" and .severity == "permanent" and ."recipient-domain" == "acme.com"`, sel, false},
		{"--subject 'password reset'", []string{"--subject", "password reset"},
			`(.message.headers.subject // "" | ascii_downcase | contains("password reset"))`, contains, false},
		{"--from ledgerly", []string{"--from", "ledgerly"}, `(.message.headers.from // "" | ascii_downcase | contains("ledgerly"))`, contains, false},
		{"--subject 'Order #1234'", []string{"--subject", "Order #1234"},
			`(.message.headers.subject // "" | ascii_downcase | contains("order #1234"))`, contains, false},
		{"--subject 'no such subject' (no match)", []string{"--subject", "no such subject"},
			`(.message.headers.subject // "" | ascii_downcase | contains("no such subject"))`, contains, true},
		{"--to-contains gmail --code 550", []string{"--to-contains", "gmail", "--code", "550"},
			`(.recipient // "" | ascii_downcase | contains("gmail")) and ."delivery-status".code == 550`, contains, false},
	}
}

// search times the first page (20 events, newest first) of maildiag
// events for the support handbook's searches on the small and the large
// index, beside jq finding the same newest 20 events in the same events
// (jq has to read them all: they are the last ones), and a full raw
// export of the small index.
func (b *bench) search() error {
	if fileSize(b.smallDB) == 0 {
		if err := b.importSmall(); err != nil {
			return err
		}
	}
	_, jqErr := exec.LookPath("jq")
	jqOn := jqErr == nil && b.jq
	if !jqOn {
		b.skipped = append(b.skipped, "search: jq beside maildiag (jq not installed, or -jq=false)")
	}
	type idx struct {
		db string
		n  int
	}
	idxs := []idx{{b.smallDB, b.events}}
	if fileSize(b.bigDB) > 0 {
		idxs = append(idxs, idx{b.bigDB, b.big})
	} else {
		b.skipped = append(b.skipped, fmt.Sprintf("search on %d events: no such index (run the big section first)", b.big))
	}
	// measured[i][j]: filter i on index j.
	var names []string
	var fsOf [][]searchFilter
	measured := [][]time.Duration{}
	for j, x := range idxs {
		mid, err := b.newestMessageID(x.db, "jane.doe@initech.com")
		if err != nil {
			return err
		}
		fs := searchFilters(mid)
		fsOf = append(fsOf, fs)
		for i, f := range fs {
			if j == 0 {
				names = append(names, f.name)
				measured = append(measured, make([]time.Duration, len(idxs)))
			}
			argv := b.md(x.db, append([]string{"events", "--limit", "20"}, f.args...)...)
			d, err := b.timeSearch(fmt.Sprintf("events %s (%d)", f.name, x.n), argv, f.none)
			if err != nil {
				return fmt.Errorf("events %s: %w", f.name, err)
			}
			measured[i][j] = d
		}
	}
	// jq: the newest 20 matches of each filter over the small file, and
	// one pass over the large account (streamed from the generator)
	// answering every filter at once, which is less than it would take
	// one filter at a time.
	jqSmall := make([]string, len(names))
	jqBig := "-"
	if jqOn {
		for i, f := range fsOf[0] {
			warm(b.file)
			d, _, err := timed(fmt.Sprintf(`jq -c 'select(%s)' %s | tail -n 20 | wc -l`, f.jq, q(b.file)))
			if err != nil {
				return err
			}
			jqSmall[i] = secs(d)
		}
		if len(idxs) > 1 {
			var sels []string
			for _, f := range fsOf[1] {
				sels = append(sels, "("+f.jq+")")
			}
			gen := fmt.Sprintf("%s generate --seed 1 --events %d --end %s", q(b.tool("mgsim")), b.big, end)
			d, _, err := timed(fmt.Sprintf(`%s | jq -c '[%s] as $m | select($m | any) | [$m, .id]' | tail -n 20 | wc -l`, gen, strings.Join(sels, ", ")))
			if err != nil {
				return err
			}
			jqBig = secs(d) + " (all at once)"
		}
	}
	header := []string{"filter", "target"}
	for _, x := range idxs {
		header = append(header, fmt.Sprintf("maildiag %s", count(x.n)))
	}
	header = append(header, "result", "jq "+count(b.events))
	if len(idxs) > 1 {
		header = append(header, "jq "+count(b.big))
	}
	var rows [][]string
	judged := idxs[len(idxs)-1].n
	for i, name := range names {
		r := []string{name, "< " + ms(fsOf[0][i].target)}
		for j := range idxs {
			r = append(r, ms(measured[i][j]))
		}
		r = append(r, verdict(measured[i][len(idxs)-1] < fsOf[0][i].target), orDash(jqSmall[i]))
		if len(idxs) > 1 {
			r = append(r, jqBig)
		}
		rows = append(rows, r)
	}
	b.table(fmt.Sprintf("maildiag events: the first page (20 events, newest first) of each search, median of 3 runs of the binary, judged on %d events; jq: the newest 20 matches of the same events", judged),
		header, rows)
	return b.export(jqOn)
}

// export times a full raw export of the small index, and jq reading it.
func (b *bench) export(jqOn bool) error {
	out := filepath.Join(b.dir, "export.jsonl")
	argv := []string{b.tool("maildiag"), "--db", b.smallDB, "--output", "jsonl", "events", "--raw", "--limit", "0"}
	var ds []time.Duration
	for range 3 {
		d, err := runTo(argv, out)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	d := medianOf(ds)
	_, lines, err := timed("wc -l < " + q(out))
	if err != nil {
		return err
	}
	var n int
	fmt.Sscan(string(lines), &n)
	if n != b.events {
		return fmt.Errorf("export wrote %d events, the index holds %d", n, b.events)
	}
	rate := float64(n) / d.Seconds()
	jq := "-"
	if jqOn {
		warm(out)
		jd, _, err := timed(fmt.Sprintf(`jq -c . %s | wc -l`, q(out)))
		if err != nil {
			return err
		}
		jq = fmt.Sprintf("%s, %.0f events/s", secs(jd), float64(n)/jd.Seconds())
	}
	b.table(fmt.Sprintf("Export of the %d-event index as the original JSON (events --output jsonl --raw --limit 0 > file, median of 3)", b.events),
		[]string{"measure", "value", "target", "result"},
		[][]string{{"export", secs(d), "", ""}, {"events/s", fmt.Sprintf("%.0f", rate), ">= 200000", verdict(rate >= 200_000)},
			{"export file", mb(fileSize(out)), "", ""}, {"jq -c . over the export", jq, "", ""}})
	return nil
}

// newestMessageID is the message-id of an address's newest event.
func (b *bench) newestMessageID(db, addr string) (string, error) {
	_, out, err := run(b.md(db, "events", "--to", addr, "--limit", "1"))
	if err != nil {
		return "", err
	}
	var evs []struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(out, &evs); err != nil || len(evs) != 1 || evs[0].MessageID == "" {
		return "", fmt.Errorf("message-id of %s's newest event: %v: %.200s", addr, err, out)
	}
	return evs[0].MessageID, nil
}

// timeSearch is timeMD for an events command line, which exits 1 when
// nothing matches (none says that is expected).
func (b *bench) timeSearch(name string, argv []string, none bool) (time.Duration, error) {
	if !none {
		d, _, err := b.timeMD(name, 3, argv)
		return d, err
	}
	var ds []time.Duration
	for i := range 4 {
		d, _, err := run(argv)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			return 0, fmt.Errorf("want exit status 1 (nothing matched), got %v", err)
		}
		if i > 0 { // the first run warms up
			ds = append(ds, d)
		}
	}
	return medianOf(ds), nil
}

// runTo runs a command with its output to a file, and returns its wall
// time.
func runTo(argv []string, path string) (time.Duration, error) {
	d, _, err := timed(strings.Join(quoteAll(argv), " ") + " > " + q(path))
	return d, err
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = q(x)
	}
	return out
}

func count(n int) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
