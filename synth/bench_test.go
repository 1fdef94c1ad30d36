package synth

import (
	"context"
	"io"
	"testing"
)

// countWriter counts bytes and discards them.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func benchmarkFormat(b *testing.B, f Format, events int) {
	cfg := Config{Seed: 1, Events: events, End: testEnd}
	var bytes int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cw := &countWriter{}
		if _, err := Write(context.Background(), cw, cfg, Output{Format: f}); err != nil {
			b.Fatal(err)
		}
		bytes = cw.n
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.SetBytes(bytes)
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(bytes)/float64(events), "B/event")
}

// BenchmarkGenerateEventsJSONL measures the generator and the Events API
// renderer together, the path `mgsim generate | maildiag import -` takes.
func BenchmarkGenerateEventsJSONL(b *testing.B) { benchmarkFormat(b, FormatEventsJSONL, 200_000) }

// BenchmarkGenerateOnly measures the generator without rendering.
func BenchmarkGenerateOnly(b *testing.B) {
	cfg := Config{Seed: 1, Events: 200_000, End: testEnd}
	for i := 0; i < b.N; i++ {
		if _, err := Generate(context.Background(), cfg, func(*Event) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Events)/(b.Elapsed().Seconds()/float64(b.N)), "events/s")
}

func BenchmarkGenerateLogsJSONL(b *testing.B) { benchmarkFormat(b, FormatLogsJSONL, 100_000) }
func BenchmarkGenerateWebhooks(b *testing.B)  { benchmarkFormat(b, FormatWebhooks, 100_000) }
func BenchmarkGenerateCSV(b *testing.B)       { benchmarkFormat(b, FormatCSV, 100_000) }

var _ io.Writer = (*countWriter)(nil)
