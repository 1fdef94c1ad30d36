package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// Event sources of a sync, as the index records them.
const (
	SourceEvents = "events" // GET /v3/{domain}/events
	SourceLogs   = "logs"   // POST /v1/analytics/logs
)

// EventQuery is one sending domain's events in a time range [FromUS, ToUS)
// (microseconds), to be paged through.
type EventQuery struct {
	Domain       string
	FromUS, ToUS int64
	// Descending pages newest first; sync pages ascending, the order in
	// which a page's last event marks everything before it complete.
	Descending bool
	// Limit is the page size; default and maximum 300 (Events API) or
	// 100 (Logs API).
	Limit int
	// MaxPages bounds the pages read; default 1<<20.
	MaxPages int
}

// Page is one page of events, normalised.
type Page struct {
	PageInfo
	Batch *Batch
	// Number counts the query's pages from 1.
	Number int
}

// errPagingStuck is returned when a server hands back the page just read.
var errPagingStuck = errors.New("paging does not advance: the next page is the one just read")

const defaultMaxPages = 1 << 20

// EventPages pages through the Events API (GET /v3/{domain}/events with
// begin and end as epoch seconds, pretty=no, limit 300), following
// paging.next until an empty page, and calls fn with each page in order.
// The range is widened to whole seconds; the extra events are the
// neighbours' and are stored once anyway.
func (c *Client) EventPages(ctx context.Context, q EventQuery, opts Options, fn func(*Page) error) error {
	if q.ToUS <= q.FromUS {
		return nil
	}
	limit := q.Limit
	if limit <= 0 || limit > 300 {
		limit = 300
	}
	from, to := floorSec(q.FromUS), ceilSec(q.ToUS)
	v := url.Values{}
	v.Set("pretty", "no")
	v.Set("limit", strconv.Itoa(limit))
	if q.Descending {
		v.Set("ascending", "no")
		v.Set("begin", strconv.FormatInt(to, 10))
		v.Set("end", strconv.FormatInt(from, 10))
	} else {
		v.Set("ascending", "yes")
		v.Set("begin", strconv.FormatInt(from, 10))
		v.Set("end", strconv.FormatInt(to, 10))
	}
	first := c.base + "/v3/" + url.PathEscape(q.Domain) + "/events?" + v.Encode()
	if opts.SendingDomain == "" {
		opts.SendingDomain = q.Domain
	}
	step := func(env *pageEnvelope, cursor string) (bool, string, error) {
		switch next := env.Paging.Next; {
		case !hasItems(env):
			return false, "", nil // the empty page is the end
		case next == "":
			return false, "", errors.New("a page with items and no next page")
		case next == cursor:
			return false, "", errPagingStuck
		default:
			return true, next, nil
		}
	}
	if err := readPages(ctx, first, c.get, step, opts, q.MaxPages, fn); err != nil {
		return fmt.Errorf("read events of %s: %w", q.Domain, err)
	}
	return nil
}

// floorSec and ceilSec turn microseconds into whole epoch seconds.
func floorSec(us int64) int64 {
	s := us / 1_000_000
	if us < 0 && us%1_000_000 != 0 {
		s--
	}
	return s
}

func ceilSec(us int64) int64 {
	s := floorSec(us)
	if s*1_000_000 < us {
		s++
	}
	return s
}
