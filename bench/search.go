package main

import (
	"fmt"
	"os/exec"
	"time"
)

// search times the first page of maildiag events for the support
// handbook's filters on the small and (when built) large index, and a full
// raw export of the small one, beside jq answering the same question over
// the generated file.
func (b *bench) search() error {
	if fileSize(b.smallDB) == 0 {
		if err := b.importSmall(); err != nil {
			return err
		}
	}
	type filter struct {
		name   string
		args   []string
		jq     string // select() over the file's events
		target time.Duration
	}
	fs := []filter{
		{"--to jane.doe@initech.com", []string{"--to", "jane.doe@initech.com"}, `.recipient == "jane.doe@initech.com"`, 100 * time.Millisecond},
		{"--to '*@acme.com'", []string{"--to", "*@acme.com"}, `."recipient-domain" == "acme.com"`, 100 * time.Millisecond},
		{"--sending-ip 198.51.100.10", []string{"--sending-ip", "198.51.100.10"}, `.envelope."sending-ip" == "198.51.100.10"`, 100 * time.Millisecond},
		{"--code 550 --sending-domain mg.brightcart.io", []string{"--code", "550", "--sending-domain", "mg.brightcart.io"},
			`."delivery-status".code == 550 and (.storage.url // "" | contains("/mg.brightcart.io/"))`, 100 * time.Millisecond},
		{"--event permanent-fail --to '*@acme.com'", []string{"--event", "permanent-fail", "--to", "*@acme.com"},
			`.event == "failed" and .severity == "permanent" and ."recipient-domain" == "acme.com"`, 100 * time.Millisecond},
		{"--subject 'password reset'", []string{"--subject", "password reset"},
			`(.message.headers.subject // "" | ascii_downcase | contains("password reset"))`, 500 * time.Millisecond},
		{"--from ledgerly", []string{"--from", "ledgerly"}, `(.message.headers.from // "" | ascii_downcase | contains("ledgerly"))`, 500 * time.Millisecond},
		{"--subject 'Order #1234'", []string{"--subject", "Order #1234"},
			`(.message.headers.subject // "" | ascii_downcase | contains("order #1234"))`, 500 * time.Millisecond},
	}
	_, jqErr := exec.LookPath("jq")
	for _, idx := range []struct {
		db   string
		n    int
		jqOn bool
	}{{b.smallDB, b.events, true}, {b.bigDB, b.big, false}} {
		if fileSize(idx.db) == 0 {
			b.skipped = append(b.skipped, fmt.Sprintf("search on %d events: no such index (run the big section first)", idx.n))
			continue
		}
		var rows [][]string
		for _, f := range fs {
			argv := b.md(idx.db, append([]string{"events", "--limit", "20"}, f.args...)...)
			d, _, err := b.timeMD(fmt.Sprintf("events %s (%d)", f.name, idx.n), 3, argv)
			if err != nil {
				return fmt.Errorf("events %s: %w", f.name, err)
			}
			jq := "-"
			if idx.jqOn && jqErr == nil {
				warm(b.file)
				jd, _, err := timed(fmt.Sprintf(`jq -c 'select(%s)' %s | head -20 | wc -l`, f.jq, q(b.file)))
				if err != nil {
					return err
				}
				jq = secs(jd)
			}
			rows = append(rows, []string{f.name, ms(d), "< " + ms(f.target), verdict(d < f.target), jq})
		}
		b.table(fmt.Sprintf("maildiag events, first page of 20, on the %d-event index (median of 3); jq: the first 20 matches read from the file", idx.n),
			[]string{"filter", "maildiag", "target", "result", "jq"}, rows)
	}
	out := b.dir + "/export.jsonl"
	d, _, err := timed(fmt.Sprintf("%s --db %s --output jsonl events --raw --limit 0 > %s", q(b.tool("maildiag")), q(b.smallDB), q(out)))
	if err != nil {
		return err
	}
	rate := float64(b.events) / d.Seconds()
	jd := time.Duration(0)
	if jqErr == nil {
		warm(out)
		if jd, _, err = timed(fmt.Sprintf(`jq -c . %s | wc -l`, q(out))); err != nil {
			return err
		}
	}
	b.table(fmt.Sprintf("Export of the %d-event index as the original JSON (events --output jsonl --raw)", b.events),
		[]string{"measure", "value", "target", "result"},
		[][]string{{"export", secs(d), "", ""}, {"events/s", fmt.Sprintf("%.0f", rate), ">= 200000", verdict(rate >= 200_000)},
			{"jq -c . over the export", secs(jd), "", ""}, {"export file", mb(fileSize(out)), "", ""}})
	return nil
}
