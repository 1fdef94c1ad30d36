package synth_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/maildiag/maildiag/synth"
)

// A server keeps a whole account in memory and filters it.
func ExampleGenerate() {
	cfg := synth.Config{Seed: 1, Events: 5000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	var failed []*synth.Event
	res, err := synth.Generate(context.Background(), cfg, func(e *synth.Event) error {
		if e.Type == synth.Failed && e.SendingDomain() == "mail.ledgerly.com" {
			failed = append(failed, e) // events may be kept
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Events, res.Stories.DomainBlock.Domain, len(failed) > 0)
	// Output: 5000 acme.com true
}

// Files in Mailgun's shapes stream to any writer.
func ExampleWrite() {
	cfg := synth.Config{Seed: 1, Events: 1000, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	if _, err := synth.Write(context.Background(), os.Stdout, cfg, synth.Output{Format: synth.FormatLogsPages}); err != nil {
		fmt.Println(err)
	}
}
