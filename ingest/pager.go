package ingest

import (
	"context"
	"fmt"
)

// pageStep reads a decoded page of a pager: whether its items are handed
// on, and the cursor (URL or token) of the next page, "" for none.
type pageStep func(env *pageEnvelope, cursor string) (deliver bool, next string, err error)

// readPages is the loop both event pagers share. It asks for the next page
// as soon as the current one names it, and normalises and hands on the
// current page while that request is on its way: one request in flight
// per query, and the network's latency hidden behind the decoding.
func readPages(ctx context.Context, first string, fetch func(ctx context.Context, cursor string) ([]byte, error),
	step pageStep, opts Options, maxPages int, fn func(*Page) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // abandons a request nobody will read
	type fetched struct {
		body []byte
		err  error
	}
	get := func(cursor string) <-chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			b, err := fetch(ctx, cursor)
			ch <- fetched{b, err}
		}()
		return ch
	}
	if maxPages <= 0 {
		maxPages = defaultMaxPages
	}
	cursor, pending := first, get(first)
	for n := 1; n <= maxPages; n++ {
		f := <-pending
		if f.err != nil {
			return f.err
		}
		env, err := decodeEnvelope(f.body)
		if err != nil {
			return fmt.Errorf("page %d: %w", n, err)
		}
		deliver, next, err := step(env, cursor)
		if err != nil {
			return fmt.Errorf("page %d: %w", n, err)
		}
		if next != "" {
			pending = get(next)
		}
		if deliver {
			b, info, _ := parseItems(env, opts, env.container())
			if err := fn(&Page{PageInfo: info, Batch: b, Number: n}); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
	return fmt.Errorf("more than %d pages", maxPages)
}

// hasItems tells whether a page's items array holds anything.
func hasItems(env *pageEnvelope) bool {
	for _, c := range env.Items {
		switch c {
		case ' ', '\t', '\r', '\n', '[':
			continue
		case ']', 'n':
			return false
		}
		return true
	}
	return false
}
