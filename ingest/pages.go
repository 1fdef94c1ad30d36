package ingest

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
)

// PageInfo is what an API page says besides its items.
type PageInfo struct {
	// Items is the number of items on the page, loaded or rejected.
	Items int
	// Next is the Events API's or a suppression list's paging.next URL, or
	// the Logs API's pagination.next token; "" when the page names none.
	Next string
	// FirstUS and LastUS are the times of the first and last event of the
	// page in page order (0 when it has no event): paging ascending, the
	// range up to LastUS is complete once the page is stored.
	FirstUS, LastUS int64
}

// ErrNotPage is returned for a body that is not an API page.
var ErrNotPage = errors.New("not an API page")

// pagingLinks are the Events API's links to the pages around one.
type pagingLinks struct {
	First    string `json:"first"`
	Next     string `json:"next"`
	Last     string `json:"last"`
	Previous string `json:"previous"`
}

// pageEnvelope is an API page around its items.
type pageEnvelope struct {
	Items      stdjson.RawMessage `json:"items"`
	Paging     pagingLinks        `json:"paging"`
	Pagination struct {
		Next string `json:"next"`
	} `json:"pagination"`
}

// parsePage normalises one page body of the Events API
// ({"items":[...],"paging":{...}}), the Logs API
// ({"items":[...],"pagination":{...}}) or a suppression list, exactly as
// Read does for the same page in a file, and returns its batch and what
// the page says about the next one. A malformed item becomes a Reject; a
// body that is not a whole page is an error (a cut body is retried by the
// client before it gets here).
func parsePage(body []byte, opts Options) (*Batch, PageInfo, error) {
	env, err := decodeEnvelope(body)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return parseItems(env, opts, env.container())
}

// container is what the page's paging URLs say about its items (the list
// and domain of a suppression page).
func (env *pageEnvelope) container() container {
	w := &wire{}
	w.Paging = env.Paging
	return pageInfo(w)
}

func decodeEnvelope(body []byte) (*pageEnvelope, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrNotPage)
	}
	env := &pageEnvelope{}
	if err := fastDecode(body, env); err != nil {
		*env = pageEnvelope{}
		if err := stdjson.Unmarshal(body, env); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotPage, err)
		}
	}
	items := bytes.TrimSpace(env.Items)
	if len(items) == 0 || (items[0] != '[' && string(items) != "null") {
		return nil, fmt.Errorf("%w: no items array", ErrNotPage)
	}
	return env, nil
}

// parseItems normalises the items of a decoded page, suppression entries
// taking the given list and domain.
func parseItems(env *pageEnvelope, opts Options, page container) (*Batch, PageInfo, error) {
	info := PageInfo{Next: env.Paging.Next}
	if info.Next == "" {
		info.Next = env.Pagination.Next
	}
	b := &Batch{}
	items := bytes.TrimSpace(env.Items)
	if items[0] == '[' {
		n := &normalizer{sendingDomain: opts.SendingDomain}
		n.jsonArray(items, 0, loc{line: 1}, b, 1, page)
		b.Bytes = int64(len(items))
	}
	info.Items = len(b.Events) + len(b.Suppressions) + len(b.Rejects)
	if len(b.Events) > 0 {
		info.FirstUS, info.LastUS = b.Events[0].TimeUS, b.Events[len(b.Events)-1].TimeUS
	}
	return b, info, nil
}
