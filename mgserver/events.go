package mgserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Events API limits.
const (
	defaultEventsLimit = 100
	maxEventsLimit     = 300
)

// isEventsParam reports whether k is a query parameter other than a filter.
func isEventsParam(k string) bool {
	switch k {
	case "begin", "end", "ascending", "limit", "pretty":
		return true
	}
	return false
}

// handleEvents answers GET /v3/{domain}/events and the page URLs it hands
// out (/v3/{domain}/events/{token}).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, domain, token string) {
	d := s.acct.domain(domain)
	if d == nil {
		domainNotFound(w)
		return
	}
	now := s.opts.Now()
	var q eventsQuery
	var c cursor
	var err error
	if token == "" {
		q, err = parseEventsQuery(r.URL.Query(), now.UnixMicro())
		c = cursor{Kind: curFirst}
	} else {
		q, c, err = decodeEventsToken(token)
		if err == nil && q.Domain != d.name {
			err = errBadToken
		}
	}
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	q.Domain = d.name
	match, err := compileFilters(q.Filters)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	vis := s.visibility(now)
	keep := func(e *Event) bool { return vis.visible(e) && match(e) }
	sp := planScan(q.Asc, c)
	s.acct.mu.RLock()
	hits := d.scan(q.window(), sp, q.Limit, keep)
	origins := s.acct.origins
	s.acct.mu.RUnlock()
	if sp.reverse {
		slices.Reverse(hits)
	}
	var first, last pos
	if len(hits) > 0 {
		first, last = hits[0].p, hits[len(hits)-1].p
	}
	next, prev := c.links(len(hits), first, last)
	base := s.baseURL(r) + "/v3/" + d.name + "/events/"
	buf := make([]byte, 0, 1024+len(hits)*1400)
	buf = append(buf, `{"items":[`...)
	for i, h := range hits {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = s.appendItem(buf, h.events, origins, r)
	}
	buf = append(buf, `],"paging":{"previous":`...)
	buf = strconv.AppendQuote(buf, base+encodeEventsToken(q, prev))
	buf = append(buf, `,"first":`...)
	buf = strconv.AppendQuote(buf, base+encodeEventsToken(q, cursor{Kind: curFirst}))
	buf = append(buf, `,"next":`...)
	buf = strconv.AppendQuote(buf, base+encodeEventsToken(q, next))
	buf = append(buf, `,"last":`...)
	buf = strconv.AppendQuote(buf, base+encodeEventsToken(q, cursor{Kind: curLast}))
	buf = append(buf, "}}"...)
	if !q.Compact {
		var ind bytes.Buffer
		if err := json.Indent(&ind, buf, "", "  "); err == nil {
			buf = ind.Bytes()
		}
	}
	s.stats.eventPages.Add(1)
	writeBody(w, http.StatusOK, buf)
}

// appendItem appends one stored item, with storage URLs (whose origins
// the account collected) pointing at this server when
// Options.RewriteStorageURLs is set.
func (s *Server) appendItem(dst, item []byte, origins []string, r *http.Request) []byte {
	if !s.opts.RewriteStorageURLs {
		return append(dst, item...)
	}
	base := []byte(s.baseURL(r))
	for _, o := range origins {
		item = bytes.ReplaceAll(item, []byte(o+"/"), append(base, '/'))
	}
	return append(dst, item...)
}

// parseEventsQuery reads the query parameters of a first Events API
// request. now (µs) is the default begin.
func parseEventsQuery(v url.Values, now int64) (eventsQuery, error) {
	q := eventsQuery{Begin: now, Limit: defaultEventsLimit}
	var err error
	if b := v.Get("begin"); b != "" {
		if q.Begin, err = parseMailgunTime(b); err != nil {
			return q, fmt.Errorf("begin: %w", err)
		}
	}
	var asc *bool
	switch a := strings.ToLower(v.Get("ascending")); a {
	case "":
	case "yes", "true":
		asc = ptr(true)
	case "no", "false":
		asc = ptr(false)
	default:
		return q, fmt.Errorf("ascending: %q, want yes or no", a)
	}
	if e := v.Get("end"); e != "" {
		end, err := parseMailgunTime(e)
		if err != nil {
			return q, fmt.Errorf("end: %w", err)
		}
		q.End = &end
		q.Asc = q.Begin <= end
		if asc != nil && *asc != q.Asc && q.Begin != end {
			return q, fmt.Errorf("ascending=%s contradicts begin and end: begin is %s end", v.Get("ascending"), pick(q.Asc, "before", "after"))
		}
		if asc != nil {
			q.Asc = *asc
		}
	} else {
		switch {
		case asc != nil:
			q.Asc = *asc
		case v.Get("begin") != "":
			return q, fmt.Errorf("ascending: required when begin is given without end (yes or no)")
		default:
			// No range at all: the newest events first, as recorded from
			// the live API (and as mailgun-go's ListEvents(nil) expects).
			q.Asc = false
		}
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxEventsLimit {
			return q, fmt.Errorf("limit: %q, must be an integer from 1 to %d", l, maxEventsLimit)
		}
		q.Limit = n
	}
	switch p := strings.ToLower(v.Get("pretty")); p {
	case "", "yes", "true":
	case "no", "false":
		q.Compact = true
	default:
		return q, fmt.Errorf("pretty: %q, want yes or no", p)
	}
	var keys []string
	for k := range v {
		if !isEventsParam(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := fieldByName(k); !ok {
			continue // Mailgun ignores parameters it does not know
		}
		for _, val := range v[k] {
			q.Filters = append(q.Filters, [2]string{k, val})
		}
	}
	return q, nil
}

func ptr[T any](v T) *T { return &v }

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}
