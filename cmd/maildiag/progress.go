package main

import (
	"github.com/schollz/progressbar/v3"
)

// progress draws a bar on stderr when it is a terminal, and nothing otherwise.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress is a bar over size bytes (-1: unknown, a spinner).
func newProgress(s *streams, size int64, what string) *progress {
	return newBar(s, size, what, progressbar.OptionShowBytes(true))
}

// newPercentProgress is a bar over 100 steps, for work measured in parts.
func newPercentProgress(s *streams, what string) *progress {
	return newBar(s, 100, what)
}

func newBar(s *streams, size int64, what string, extra ...progressbar.Option) *progress {
	if !s.errTerminal {
		return &progress{}
	}
	opts := append([]progressbar.Option{
		progressbar.OptionSetWriter(s.bars),
		progressbar.OptionSetDescription(printable(what)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
	}, extra...)
	return &progress{bar: progressbar.NewOptions64(size, opts...)}
}

func (p *progress) set(n int64) {
	if p.bar != nil {
		p.bar.Set64(n)
	}
}

func (p *progress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
