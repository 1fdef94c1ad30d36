package ingest

import (
	"context"
	"fmt"
	"net/url"

	"github.com/mailgun/mailgun-go/v5"

	"github.com/maildiag/maildiag"
)

// Lists returns the suppression lists of a sending domain, in the order a
// sync reads them.
func Lists() []string {
	return []string{maildiag.ListBounces, maildiag.ListUnsubscribes, maildiag.ListComplaints, maildiag.ListAllowlist}
}

// listLimit is the page size of list reads, the API's maximum.
const listLimit = 1000

// maxListPages bounds one list read (a billion entries).
const maxListPages = 1 << 20

// ReadList reads one suppression list of a sending domain whole, a page at
// a time: bounces, unsubscribes and complaints through mailgun-go's
// iterators, the allowlist (which the SDK lacks) through a raw pager over
// /v3/{domain}/whitelists. fn gets each page's entries normalised exactly
// as suppression JSON in a file is (Batch.Suppressions, and a Reject for
// each malformed entry), in list order. It returns the pages read.
func (c *Client) ReadList(ctx context.Context, domain, list string, fn func(*Batch) error) (int, error) {
	page := container{domain: domain, list: list}
	mg := c.Mailgun()
	opts := &mailgun.ListOptions{Limit: listLimit}
	var n int
	var err error
	switch list {
	case maildiag.ListBounces:
		n, err = readSDKList(ctx, mg.ListBounces(domain, opts), page, fn)
	case maildiag.ListUnsubscribes:
		n, err = readSDKList(ctx, mg.ListUnsubscribes(domain, opts), page, fn)
	case maildiag.ListComplaints:
		n, err = readSDKList(ctx, mg.ListComplaints(domain, opts), page, fn)
	case maildiag.ListAllowlist:
		n, err = c.readAllowlist(ctx, page, fn)
	default:
		return 0, fmt.Errorf("read list: unknown suppression list %q", list)
	}
	if err != nil {
		return n, fmt.Errorf("read %s of %s: %w", list, domain, err)
	}
	return n, nil
}

// sdkIterator is what mailgun-go's list iterators have in common.
type sdkIterator[T any] interface {
	Next(ctx context.Context, items *[]T) bool
	Err() error
}

// readSDKList pages with a mailgun-go iterator and normalises the body of
// each page as the transport received it: the SDK's types drop fields.
func readSDKList[T any](ctx context.Context, it sdkIterator[T], page container, fn func(*Batch) error) (int, error) {
	var raw []byte
	sctx := withBodySink(ctx, func(b []byte) { raw = b })
	var items []T
	prevNext := ""
	for n := 0; n < maxListPages; n++ {
		raw = nil
		if !it.Next(sctx, &items) {
			return n, it.Err()
		}
		if raw == nil {
			return n, fmt.Errorf("page %d: no body reached the list reader", n+1)
		}
		b, info, err := parseListPage(raw, page)
		if err != nil {
			return n, fmt.Errorf("page %d: %w", n+1, err)
		}
		if info.Next != "" && info.Next == prevNext {
			return n, errPagingStuck
		}
		prevNext = info.Next
		if err := fn(b); err != nil {
			return n + 1, err
		}
	}
	return maxListPages, fmt.Errorf("more than %d pages", maxListPages)
}

// readAllowlist pages through /v3/{domain}/whitelists until an empty page
// or a next URL that repeats the one just read.
func (c *Client) readAllowlist(ctx context.Context, page container, fn func(*Batch) error) (int, error) {
	next := c.base + "/v3/" + url.PathEscape(page.domain) + "/whitelists?limit=" + fmt.Sprint(listLimit)
	for n := 0; n < maxListPages; n++ {
		body, err := c.get(ctx, next)
		if err != nil {
			return n, err
		}
		b, info, err := parseListPage(body, page)
		if err != nil {
			return n, fmt.Errorf("page %d: %w", n+1, err)
		}
		if info.Items == 0 {
			return n, nil
		}
		if err := fn(b); err != nil {
			return n + 1, err
		}
		if info.Next == "" || info.Next == next {
			return n + 1, nil
		}
		next = info.Next
	}
	return maxListPages, fmt.Errorf("more than %d pages", maxListPages)
}

// parseListPage normalises a list page, its entries taking the list and
// domain being read whatever its URLs say.
func parseListPage(body []byte, page container) (*Batch, PageInfo, error) {
	env, err := decodeEnvelope(body)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return parseItems(env, Options{SendingDomain: page.domain}, page)
}
