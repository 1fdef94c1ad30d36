package ingest

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestZZScratch(t *testing.T) {
	for _, f := range []string{"/work/shared/samples/events.jsonl", "/work/shared/samples/webhooks.jsonl", "/work/shared/samples/suppressions.json"} {
		fh, _ := os.Open(f)
		sum, err := Read(context.Background(), fh, Options{}, func(b *Batch) error {
			for _, e := range b.Events {
				fmt.Printf("EV %d %s %q dom=%s rcpt=%s rd=%s code=%d enh=%s sev=%s reason=%q mx=%s msgid=%s subj=%q st=%q tags=%q att=%d retry=%d sess=%d tls=%d del=%v bt=%s ip=%s prov=%s ll=%s from=%q\n", e.TimeUS, e.Type, e.ID, e.SendingDomain, e.Recipient, e.RecipientDomain, e.Code, e.EnhancedCode, e.Severity, e.Reason, e.MXHost, e.MessageID, e.Subject, e.StorageURL, e.Tags, e.Attempt, e.RetrySeconds, e.SessionMS, e.TLS, e.DelayedBounce, e.BounceType, e.SendingIP, e.Provider, e.LogLevel, e.From)
			}
			for _, s := range b.Suppressions {
				fmt.Printf("SUP %s %s %s %s %d\n", s.SendingDomain, s.List, s.Address, s.Code, s.CreatedUS)
			}
			for _, r := range b.Rejects {
				fmt.Printf("REJ line %d item %d off %d: %s\n", r.Line, r.Item, r.Offset, r.Reason)
			}
			return nil
		})
		fmt.Printf("%s: %+v %v\n", f, sum, err)
	}
}
