package ingest

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"time"
)

// logsRequest is the body of POST /v1/analytics/logs.
type logsRequest struct {
	Start              string     `json:"start"`
	End                string     `json:"end"`
	Filter             logsFilter `json:"filter"`
	IncludeSubaccounts bool       `json:"include_subaccounts"`
	IncludeTotals      bool       `json:"include_totals"`
	Pagination         logsPaging `json:"pagination"`
}

type logsFilter struct {
	AND []logsCondition `json:"AND"`
}

type logsCondition struct {
	Attribute  string      `json:"attribute"`
	Comparator string      `json:"comparator"`
	Values     []logsValue `json:"values"`
}

type logsValue struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

type logsPaging struct {
	Sort  string `json:"sort"`
	Limit int    `json:"limit"`
	Token string `json:"token,omitempty"`
}

// rfc2822 is the date form the Logs API takes (mailgun-go writes the same).
const rfc2822 = "Mon, 2 Jan 2006 15:04:05 -0700"

// LogPages pages through the account-wide Logs API for one sending domain
// (a filter AND on domain, sorted by timestamp, 100 items a page), sending
// pagination.next back as the token until a page names no next one, and
// calls fn with each page in order. The range is widened to whole seconds.
func (c *Client) LogPages(ctx context.Context, q EventQuery, opts Options, fn func(*Page) error) error {
	if q.ToUS <= q.FromUS {
		return nil
	}
	limit := q.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	sort := "timestamp:asc"
	if q.Descending {
		sort = "timestamp:desc"
	}
	req := logsRequest{
		Start: time.Unix(floorSec(q.FromUS), 0).UTC().Format(rfc2822),
		End:   time.Unix(ceilSec(q.ToUS), 0).UTC().Format(rfc2822),
		Filter: logsFilter{AND: []logsCondition{{
			Attribute: "domain", Comparator: "=", Values: []logsValue{{Label: q.Domain, Value: q.Domain}},
		}}},
		Pagination: logsPaging{Sort: sort, Limit: limit},
	}
	if opts.SendingDomain == "" {
		opts.SendingDomain = q.Domain
	}
	u := c.base + "/v1/analytics/logs"
	fetch := func(ctx context.Context, token string) ([]byte, error) {
		r := req // each request its own copy: the next one is sent while this is read
		r.Pagination.Token = token
		body, err := stdjson.Marshal(&r)
		if err != nil {
			return nil, err
		}
		return c.Post(readOnly(ctx), u, body, "application/json")
	}
	step := func(env *pageEnvelope, token string) (bool, string, error) {
		next := env.Pagination.Next
		switch {
		case !hasItems(env):
			return false, "", nil
		case next != "" && next == token:
			return false, "", errPagingStuck
		}
		return true, next, nil // a missing or empty next is the end
	}
	if err := readPages(ctx, "", fetch, step, opts, q.MaxPages, fn); err != nil {
		return fmt.Errorf("read logs of %s: %w", q.Domain, err)
	}
	return nil
}

// LogsRefused tells whether err is the Logs API refusing the account (401,
// 403 or 404 on its endpoint: a plan, key or region without it), as
// opposed to a failure that retrying could change.
func LogsRefused(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound)
}

// ProbeLogs asks the Logs API for one item of a sending domain over the
// second before at, to learn whether the account may use it: nil, or the
// error of the request (see LogsRefused).
func (c *Client) ProbeLogs(ctx context.Context, domain string, at time.Time) error {
	req := logsRequest{
		Start: at.Add(-time.Second).UTC().Format(rfc2822),
		End:   at.UTC().Format(rfc2822),
		Filter: logsFilter{AND: []logsCondition{{
			Attribute: "domain", Comparator: "=", Values: []logsValue{{Label: domain, Value: domain}},
		}}},
		Pagination: logsPaging{Sort: "timestamp:asc", Limit: 1},
	}
	body, err := stdjson.Marshal(&req)
	if err != nil {
		return err
	}
	if _, err := c.Post(readOnly(ctx), c.base+"/v1/analytics/logs", body, "application/json"); err != nil {
		return fmt.Errorf("probe logs of %s: %w", domain, err)
	}
	return nil
}
