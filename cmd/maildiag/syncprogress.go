package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/maildiag/maildiag/syncer"
)

// barSteps is the resolution of a domain's bar: the share of its missing
// time already read, in thousandths.
const barSteps = 1000

// multiBar draws one progress bar per sending domain on stderr, one line
// each, redrawn in place. progressbar renders each line; it draws only one
// bar itself, so the lines are written here. Nothing is drawn when stderr
// is not a terminal. Only the goroutine that stores results uses it.
type multiBar struct {
	w     io.Writer
	names []string
	width int // of the longest name
	bars  []*progressbar.ProgressBar
	lines int
	last  time.Time
}

// newMultiBar returns bars for the named domains, or an inert multiBar
// when stderr is not a terminal.
func newMultiBar(s *streams, names []string) *multiBar {
	for i, n := range names {
		names[i] = printable(n) // domain names come from the API
	}
	m := &multiBar{w: s.bars, names: names}
	if !s.errTerminal {
		return m
	}
	for _, n := range names {
		m.width = max(m.width, len(n))
	}
	for i := range names {
		m.bars = append(m.bars, progressbar.NewOptions64(barSteps,
			progressbar.OptionSetWriter(io.Discard),
			progressbar.OptionSetDescription(m.describe(i, "")),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(0),
			progressbar.OptionSetRenderBlankState(true),
		))
	}
	return m
}

// describe is bar i's text: the domain's name and what it has done, padded
// so that the bars line up.
func (m *multiBar) describe(i int, detail string) string {
	return fmt.Sprintf("%-*s  %-38s", m.width, m.names[i], detail)
}

// set moves bar i to steps of barSteps, with detail after the name.
func (m *multiBar) set(i int, steps int64, detail string) {
	if i >= len(m.bars) {
		return
	}
	b := m.bars[i]
	b.Describe(m.describe(i, detail))
	b.Set64(min(max(steps, 0), barSteps))
}

// draw rewrites every bar's line, at most ten times a second unless forced.
func (m *multiBar) draw(force bool) {
	if len(m.bars) == 0 || (!force && time.Since(m.last) < 100*time.Millisecond) {
		return
	}
	m.last = time.Now()
	var sb strings.Builder
	if m.lines > 0 {
		fmt.Fprintf(&sb, "\033[%dA", m.lines) // back to the first bar's line
	}
	for _, b := range m.bars {
		sb.WriteString("\r\033[2K")
		sb.WriteString(strings.TrimLeft(b.String(), "\r"))
		sb.WriteByte('\n')
	}
	m.lines = len(m.bars)
	io.WriteString(m.w, sb.String())
}

// finish draws the bars a last time and leaves them on screen.
func (m *multiBar) finish() { m.draw(true) }

// syncBars draws a pass's progress as one bar per domain (syncer.Progress),
// after warning when the pass reaches past Mailgun's log retention.
type syncBars struct {
	s     *streams
	o     *syncOptions
	bars  *multiBar
	lists int // lists read per domain
}

// Plan implements syncer.Progress.
func (b *syncBars) Plan(p syncer.Plan) {
	oldest := p.Now.Add(-b.o.retentionDur)
	if !p.Oldest.IsZero() && p.Oldest.Before(oldest) {
		fmt.Fprintf(b.s.err, "maildiag: warning: --since %s reaches back to %s, past Mailgun's log retention of %s (--retention): events before %s may be gone from Mailgun and cannot be synced\n",
			b.o.since, p.Oldest.Format(time.RFC3339), b.o.retention, oldest.Format(time.RFC3339))
	}
	b.bars = newMultiBar(b.s, p.Domains)
	b.lists = p.Lists
}

// Domain implements syncer.Progress: the bar shows the share of the
// domain's missing time read.
func (b *syncBars) Domain(d syncer.DomainProgress) {
	desc := fmt.Sprintf("%d events (%d new)", d.EventsRead, d.EventsNew)
	if b.lists > 0 {
		desc += fmt.Sprintf(", lists %d/%d", d.ListsDone, b.lists)
	}
	b.bars.set(d.Index, int64(d.Share*barSteps), desc)
}

// Tick implements syncer.Progress.
func (b *syncBars) Tick() { b.bars.draw(false) }

// finish draws the bars a last time, if the pass got as far as drawing them.
func (b *syncBars) finish() {
	if b.bars != nil {
		b.bars.finish()
	}
}
