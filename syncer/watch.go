package syncer

import (
	"context"
	"time"

	"github.com/maildiag/maildiag/ingest"
)

// Watch makes passes until ctx ends: one at once, then one every interval.
// pass makes one (it opens a writer and calls Run, say); show gets every
// summary, and an error it returns ends Watch. A failed pass that another
// would fail alike (see Retryable) ends Watch with its error; retry hears
// of the others, numbered from 1, and the passes go on. Watch returns nil
// when ctx ends.
func Watch(ctx context.Context, interval time.Duration, pass func(context.Context) (*Summary, error),
	show func(*Summary) error, retry func(n int, err error)) error {
	for n := 1; ; n++ {
		sum, err := pass(ctx)
		if sum != nil {
			if serr := show(sum); serr != nil {
				return serr
			}
		}
		if ctx.Err() != nil {
			return nil // interrupted while watching: what was committed stays
		}
		if err != nil {
			if !Retryable(err) {
				return err
			}
			retry(n, err)
		}
		if ingest.Sleep(ctx, interval) != nil {
			return nil
		}
	}
}
