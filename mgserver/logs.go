package mgserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Logs API limits. Mailgun documents the maximum; the default page size
// and sort are not documented, and these are a guess.
const (
	maxLogsLimit     = 100
	defaultLogsLimit = 10
	defaultLogsSort  = "timestamp:desc"
)

// logsRequest is the body of POST /v1/analytics/logs.
type logsRequest struct {
	Start              string                     `json:"start"`
	End                string                     `json:"end"`
	Duration           string                     `json:"duration"`
	Events             []string                   `json:"events"`
	MetricEvents       []string                   `json:"metric_events"`
	Filter             map[string]json.RawMessage `json:"filter"`
	IncludeSubaccounts bool                       `json:"include_subaccounts"`
	IncludeTotals      bool                       `json:"include_totals"`
	Pagination         struct {
		Sort  string `json:"sort"`
		Token string `json:"token"`
		Limit int    `json:"limit"`
	} `json:"pagination"`
}

type logsCondition struct {
	Attribute  string `json:"attribute"`
	Comparator string `json:"comparator"`
	Values     []struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"values"`
}

// logsToken is a Logs API page token: a cursor and a fingerprint of the
// query it belongs to, so a token is not silently applied to another.
type logsToken struct {
	K string `json:"k"`
	P pos    `json:"p"`
	H uint64 `json:"h"`
}

// handleLogs answers POST /v1/analytics/logs across all sending domains.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	var req logsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeMessage(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	now := s.opts.Now()
	q, err := s.parseLogsRequest(&req, now)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	vis := s.visibility(now)
	keep := func(e *Event) bool { return e.LogsJSON != nil && vis.visible(e) && q.match(e) }
	asc := q.sort == "timestamp:asc"
	a := s.acct
	a.mu.RLock()
	hits := a.scanAll(q.window, asc, q.cursor, q.limit, keep)
	var more, earlier bool
	var total int
	if len(hits) > 0 {
		more = len(a.scanAll(q.window, asc, cursor{curAfter, hits[len(hits)-1].p}, 1, keep)) > 0
		earlier = len(a.scanAll(q.window, asc, cursor{curBefore, hits[0].p}, 1, keep)) > 0
	}
	if req.IncludeTotals {
		for _, d := range a.domains {
			total += d.count(q.window, keep)
		}
	}
	origins := a.origins
	a.mu.RUnlock()

	buf := make([]byte, 0, 1024+len(hits)*1600)
	buf = append(buf, `{"start":`...)
	buf = strconv.AppendQuote(buf, formatRFC2822(time.UnixMicro(q.window.lo)))
	buf = append(buf, `,"end":`...)
	buf = strconv.AppendQuote(buf, formatRFC2822(time.UnixMicro(q.window.hi+1)))
	buf = append(buf, `,"items":[`...)
	for i, h := range hits {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = s.appendItem(buf, h.logs, origins, r)
	}
	buf = append(buf, `],"pagination":{`...)
	var fields []string
	if earlier {
		fields = append(fields, `"previous":`+strconv.Quote(encodeLogsToken(cursor{curBefore, hits[0].p}, q.hash)))
	}
	if more {
		fields = append(fields, `"next":`+strconv.Quote(encodeLogsToken(cursor{curAfter, hits[len(hits)-1].p}, q.hash)))
	}
	if req.IncludeTotals {
		fields = append(fields, `"total":`+strconv.Itoa(total))
	}
	buf = append(buf, strings.Join(fields, ",")...)
	buf = append(buf, `},"aggregates":{}}`...)
	s.stats.logPages.Add(1)
	writeBody(w, http.StatusOK, buf)
}

// scanAll reads a page across every domain: each contributes its own
// candidates, merged in the account-wide order. The caller holds the
// read lock.
func (a *Account) scanAll(w window, asc bool, c cursor, n int, keep func(*Event) bool) []hit {
	sp := planScan(asc, c)
	lists := make([][]hit, 0, len(a.domains))
	for _, d := range a.domains {
		lists = append(lists, d.scan(w, sp, n, keep))
	}
	hits := mergeHits(lists, sp.fwd, n)
	if sp.reverse {
		slices.Reverse(hits)
	}
	return hits
}

// logsQuery is a validated Logs API request.
type logsQuery struct {
	window window
	sort   string
	limit  int
	cursor cursor
	hash   uint64
	match  func(*Event) bool
}

func (s *Server) parseLogsRequest(req *logsRequest, now time.Time) (logsQuery, error) {
	q := logsQuery{sort: req.Pagination.Sort, limit: req.Pagination.Limit, cursor: cursor{Kind: curFirst}}
	if q.sort == "" {
		q.sort = defaultLogsSort
	}
	if q.sort != "timestamp:asc" && q.sort != "timestamp:desc" {
		return q, fmt.Errorf("pagination.sort: %q, want timestamp:asc or timestamp:desc", q.sort)
	}
	switch {
	case q.limit == 0:
		q.limit = defaultLogsLimit
	case q.limit < 0 || q.limit > maxLogsLimit:
		return q, fmt.Errorf("pagination.limit: %d, must be from 1 to %d", q.limit, maxLogsLimit)
	}
	if len(req.MetricEvents) > 0 {
		return q, errors.New("metric_events: not supported by this server, use events")
	}
	end := now
	if req.End != "" {
		t, err := parseRFC2822(req.End)
		if err != nil {
			return q, fmt.Errorf("end: %w", err)
		}
		end = t
	}
	start := end.Add(-24 * time.Hour)
	if req.Start != "" {
		t, err := parseRFC2822(req.Start)
		if err != nil {
			return q, fmt.Errorf("start: %w", err)
		}
		start = t
	}
	if req.Duration != "" {
		d, err := parseLogsDuration(req.Duration)
		if err != nil {
			return q, err
		}
		start = end.Add(-d)
	}
	if !start.Before(end) {
		return q, errors.New("start must be before end")
	}
	q.window = window{start.UnixMicro(), end.UnixMicro() - 1}
	match, canon, err := compileLogsFilter(req.Events, req.Filter)
	if err != nil {
		return q, err
	}
	q.match = match
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %d %s %q ", q.window.lo, q.window.hi, q.sort, req.Events)
	h.Write(canon)
	q.hash = h.Sum64()
	if req.Pagination.Token != "" {
		c, err := decodeLogsToken(req.Pagination.Token, q.hash)
		if err != nil {
			return q, err
		}
		q.cursor = c
	}
	return q, nil
}

func encodeLogsToken(c cursor, hash uint64) string {
	b, _ := json.Marshal(logsToken{K: string(c.Kind), P: c.P, H: hash})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLogsToken(s string, hash uint64) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var t logsToken
	if err != nil || json.Unmarshal(b, &t) != nil || len(t.K) != 1 {
		return cursor{}, errors.New("pagination.token: invalid token")
	}
	c := cursor{Kind: cursorKind(t.K[0]), P: t.P}
	if !c.valid() {
		return cursor{}, errors.New("pagination.token: invalid token")
	}
	if t.H != hash {
		return cursor{}, errors.New("pagination.token: the token belongs to a different query (start, end, events, filter or sort changed)")
	}
	return c, nil
}

// parseLogsDuration reads Mailgun's durations: "1d", "2h", "30m", "90s".
func parseLogsDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("duration: %q, want a number and d, h, m or s", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("duration: %q, want a number and d, h, m or s", s)
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("duration: %q, want a number and d, h, m or s", s)
	}
	return time.Duration(n) * unit, nil
}

// logsEventType reports whether t is an event type the Logs API knows.
func logsEventType(t string) bool {
	switch t {
	case "accepted", "delivered", "failed", "opened", "unique_opened", "clicked", "unique_clicked",
		"unsubscribed", "complained", "rejected", "stored", "email_validation", "list_uploaded",
		"list_member_uploaded", "list_member_upload_error", "trapped":
		return true
	}
	return false
}

// compileLogsFilter builds the matcher for the events list and the AND
// filter. It also returns the filter re-encoded, the same however the
// client spaced it, for the token fingerprint.
func compileLogsFilter(events []string, filter map[string]json.RawMessage) (func(*Event) bool, []byte, error) {
	for _, t := range events {
		if !logsEventType(t) {
			return nil, nil, fmt.Errorf("events: %q is not a Logs API event type", t)
		}
	}
	var conds []func(*Event) bool
	var cs []logsCondition
	for k, raw := range filter {
		if k != "AND" {
			return nil, nil, fmt.Errorf("filter: %q, only AND is supported", k)
		}
		if err := json.Unmarshal(raw, &cs); err != nil {
			return nil, nil, fmt.Errorf("filter.AND: %w", err)
		}
		for _, c := range cs {
			f, err := compileLogsCondition(c)
			if err != nil {
				return nil, nil, err
			}
			conds = append(conds, f)
		}
	}
	canon, _ := json.Marshal(cs)
	return func(e *Event) bool {
		if len(events) > 0 {
			ok := false
			for _, t := range events {
				ok = ok || t == e.Type
			}
			if !ok {
				return false
			}
		}
		for _, c := range conds {
			if !c(e) {
				return false
			}
		}
		return true
	}, canon, nil
}

// logsAttribute returns the values of one filter attribute of an event.
func logsAttribute(name string) (func(e *Event) []string, bool) {
	switch name {
	case "domain":
		return func(e *Event) []string { return []string{e.Domain} }, true
	case "recipient":
		return func(e *Event) []string { return []string{e.Recipient} }, true
	case "recipient_domain":
		return func(e *Event) []string { return []string{e.recipientDomain} }, true
	case "recipient_provider":
		return func(e *Event) []string { return []string{e.provider} }, true
	case "delivery_status_code":
		return func(e *Event) []string {
			if e.code == 0 {
				return nil
			}
			return []string{strconv.Itoa(e.code)}
		}, true
	case "severity":
		return func(e *Event) []string { return []string{e.Severity} }, true
	case "event":
		return func(e *Event) []string { return []string{e.Type} }, true
	case "message_id":
		return func(e *Event) []string { return []string{e.MessageID} }, true
	case "subject":
		return func(e *Event) []string { return []string{e.subject} }, true
	case "tag":
		return func(e *Event) []string { return e.tags }, true
	}
	return nil, false
}

func compileLogsCondition(c logsCondition) (func(*Event) bool, error) {
	get, ok := logsAttribute(c.Attribute)
	if !ok {
		return nil, fmt.Errorf("filter attribute %q: not supported by this server", c.Attribute)
	}
	if len(c.Values) == 0 {
		return nil, fmt.Errorf("filter attribute %q: no values", c.Attribute)
	}
	want := make([]string, len(c.Values))
	for i, v := range c.Values {
		want[i] = strings.ToLower(strings.Trim(v.Value, "<>"))
	}
	var test func(have, want string) bool
	neg := false
	switch c.Comparator {
	case "=":
		test = func(h, w string) bool { return h == w }
	case "!=":
		test, neg = func(h, w string) bool { return h == w }, true
	case "contains":
		test = strings.Contains
	case "not contains":
		test, neg = strings.Contains, true
	default:
		return nil, fmt.Errorf("filter attribute %q: comparator %q, want =, !=, contains or not contains", c.Attribute, c.Comparator)
	}
	return func(e *Event) bool {
		hit := false
		for _, h := range get(e) {
			h = strings.ToLower(h)
			for _, w := range want {
				hit = hit || (h != "" && test(h, w))
			}
		}
		return hit != neg
	}, nil
}
