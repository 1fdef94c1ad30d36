package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
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
	m := &multiBar{w: s.err, names: names}
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
