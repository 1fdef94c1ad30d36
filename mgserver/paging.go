package mgserver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
)

// eventsQuery is everything an Events API page depends on. Page URLs carry
// it whole, so a client can resume from a saved next URL, even after the
// server restarts with the same account.
type eventsQuery struct {
	Domain  string      `json:"dom"`
	Asc     bool        `json:"asc"`
	Begin   int64       `json:"b"`
	End     *int64      `json:"e,omitempty"` // nil: no end (the future or the past)
	Filters [][2]string `json:"f,omitempty"`
	Limit   int         `json:"l"`
	Compact bool        `json:"c,omitempty"`
}

// window is the query's range in ascending time: begin is included, end
// is not, whichever way the query runs.
func (q *eventsQuery) window() window {
	if q.Asc {
		w := window{q.Begin, math.MaxInt64}
		if q.End != nil {
			w.hi = *q.End - 1
		}
		return w
	}
	w := window{math.MinInt64, q.Begin}
	if q.End != nil {
		w.lo = *q.End + 1
	}
	return w
}

// pageToken is the opaque last segment of a page URL.
type pageToken struct {
	Q eventsQuery `json:"q"`
	K string      `json:"k"`
	P *pos        `json:"p,omitempty"`
}

func encodeEventsToken(q eventsQuery, c cursor) string {
	t := pageToken{Q: q, K: string(c.Kind)}
	if c.Kind != curFirst && c.Kind != curLast {
		p := c.P
		t.P = &p
	}
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadToken = errors.New("invalid page token")

func decodeEventsToken(s string) (eventsQuery, cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return eventsQuery{}, cursor{}, errBadToken
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || len(t.K) != 1 {
		return eventsQuery{}, cursor{}, errBadToken
	}
	c := cursor{Kind: cursorKind(t.K[0])}
	if !c.valid() || (t.P == nil) != (c.Kind == curFirst || c.Kind == curLast) {
		return eventsQuery{}, cursor{}, errBadToken
	}
	if t.P != nil {
		c.P = *t.P
	}
	if t.Q.Limit < 1 || t.Q.Limit > maxEventsLimit {
		return eventsQuery{}, cursor{}, errBadToken
	}
	return t.Q, c, nil
}
