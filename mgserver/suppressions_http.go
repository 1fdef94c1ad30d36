package mgserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag/synth"
)

// Suppression list limits.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
	maxBatch         = 1000
)

// Mailgun's answers, as recorded from the live API where a recording
// exists (bounces, unsubscribes, complaints; the allowlist's are modelled
// on them).
func notFoundText(l List) string {
	switch l {
	case Bounces:
		return "Address not found in bounces table"
	case Unsubscribes:
		return "Address not found in unsubscribers table"
	case Complaints:
		return "No spam complaints found for this address"
	}
	return "Address/Domain not found in allowlist table"
}

func removedText(l List) string {
	switch l {
	case Bounces:
		return "Bounced address has been removed"
	case Unsubscribes:
		return "Unsubscribe event has been removed"
	case Complaints:
		return "Spam complaint has been removed"
	}
	return "Allowlist address/domain has been removed"
}

func clearedText(l List) string {
	switch l {
	case Bounces:
		return "Bounced addresses for this domain have been removed"
	case Unsubscribes:
		return "Unsubscribe addresses for this domain have been removed"
	case Complaints:
		return "Complaint addresses for this domain have been removed"
	}
	return "Allowlist addresses/domains for this domain have been removed"
}

// handleSuppressions answers /v3/{domain}/{list} and /v3/{domain}/{list}/{address}.
func (s *Server) handleSuppressions(w http.ResponseWriter, r *http.Request, domain string, l List, addr string) {
	d := s.acct.domain(domain)
	if d == nil {
		domainNotFound(w)
		return
	}
	switch {
	case r.Method == http.MethodGet && addr == "":
		s.listPage(w, r, d, l)
	case r.Method == http.MethodGet:
		s.listEntry(w, d, l, addr)
	case r.Method == http.MethodDelete && addr == "":
		s.acct.mu.Lock()
		d.lists.clearList(l)
		s.acct.mu.Unlock()
		writeMessage(w, http.StatusOK, clearedText(l))
	case r.Method == http.MethodDelete:
		s.deleteEntry(w, r, d, l, addr)
	case r.Method == http.MethodPost && addr == "":
		s.addEntries(w, r, d, l)
	default:
		methodNotAllowed(w)
	}
}

// clearList empties one list and returns how many entries it had.
func (l *suppressionLists) clearList(list List) int {
	switch list {
	case Bounces:
		return l.bounces.clear()
	case Unsubscribes:
		return l.unsubs.clear()
	case Complaints:
		return l.complaints.clear()
	}
	return l.allow.clear()
}

// listItem is one entry ready to be written: its listing address and JSON.
type listItem struct {
	address string
	json    []byte
}

func bounceJSON(b synth.Bounce) []byte {
	j, _ := json.Marshal(struct {
		Address   string `json:"address"`
		Code      string `json:"code"`
		Error     string `json:"error"`
		CreatedAt string `json:"created_at"`
	}{b.Address, b.Code, b.Error, formatListTime(b.CreatedAt)})
	return j
}

func unsubJSON(u synth.Unsubscribe) []byte {
	tags := u.Tags
	if tags == nil {
		tags = []string{}
	}
	j, _ := json.Marshal(struct {
		Address   string   `json:"address"`
		Tags      []string `json:"tags"`
		CreatedAt string   `json:"created_at"`
	}{u.Address, tags, formatListTime(u.CreatedAt)})
	return j
}

func complaintJSON(c synth.Complaint) []byte {
	j, _ := json.Marshal(struct {
		Address   string `json:"address"`
		CreatedAt string `json:"created_at"`
	}{c.Address, formatListTime(c.CreatedAt)})
	return j
}

func allowJSON(a synth.AllowEntry) []byte {
	j, _ := json.Marshal(struct {
		Type      string `json:"type"`
		Value     string `json:"value"`
		Reason    string `json:"reason"`
		CreatedAt string `json:"createdAt"`
	}{a.Type, a.Value, a.Reason, formatListTime(a.CreatedAt)})
	return j
}

// pageRange picks a page of a sorted list the way Mailgun does: page=next
// after the pivot address, page=previous before it, page=last at the end;
// term keeps addresses that start with it.
func pageRange[T any](l *sortedList[T], page, pivot, term string, limit int) (int, int) {
	items := l.items
	lo := l.search(term)
	hi := lo + sort.Search(len(items)-lo, func(i int) bool { return !strings.HasPrefix(items[lo+i].key, term) })
	p := listKey(pivot)
	switch page {
	case "next":
		start := sort.Search(len(items), func(i int) bool { return items[i].key > p })
		start = max(start, lo)
		return start, min(start+limit, hi)
	case "previous":
		end := min(l.search(p), hi)
		return max(end-limit, lo), max(end, lo)
	case "last":
		return max(hi-limit, lo), hi
	}
	return lo, min(lo+limit, hi)
}

func listSlice[T any](l *sortedList[T], page, pivot, term string, limit int, render func(T) []byte, addr func(T) string) []listItem {
	i, j := pageRange(l, page, pivot, term, limit)
	out := make([]listItem, 0, max(j-i, 0))
	for ; i < j; i++ {
		v := l.items[i].v
		out = append(out, listItem{addr(v), render(v)})
	}
	return out
}

func (s *Server) listPage(w http.ResponseWriter, r *http.Request, d *domainData, l List) {
	v := r.URL.Query()
	limit := defaultListLimit
	if ls := v.Get("limit"); ls != "" {
		n, err := strconv.Atoi(ls)
		if err != nil || n < 1 || n > maxListLimit {
			writeMessage(w, http.StatusBadRequest, fmt.Sprintf("limit: %q, must be from 1 to %d", ls, maxListLimit))
			return
		}
		limit = n
	}
	page := v.Get("page")
	switch page {
	case "", "first", "next", "previous", "last":
	default:
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf("page: %q, want first, next, previous or last", page))
		return
	}
	pivot, term := v.Get("address"), v.Get("term")
	if (page == "next" || page == "previous") && pivot == "" {
		page = ""
	}
	lt := listKey(term)
	var items []listItem
	s.acct.mu.RLock()
	switch l {
	case Bounces:
		items = listSlice(&d.lists.bounces, page, pivot, lt, limit, bounceJSON, func(b synth.Bounce) string { return b.Address })
	case Unsubscribes:
		items = listSlice(&d.lists.unsubs, page, pivot, lt, limit, unsubJSON, func(u synth.Unsubscribe) string { return u.Address })
	case Complaints:
		items = listSlice(&d.lists.complaints, page, pivot, lt, limit, complaintJSON, func(c synth.Complaint) string { return c.Address })
	default:
		items = listSlice(&d.lists.allow, page, pivot, lt, limit, allowJSON, func(a synth.AllowEntry) string { return a.Value })
	}
	s.acct.mu.RUnlock()

	base := s.baseURL(r) + "/v3/" + d.name + "/" + string(l)
	tail := "limit=" + strconv.Itoa(limit) + "&term=" + url.QueryEscape(term)
	first := base + "?" + tail
	last := base + "?page=last&" + tail
	next, prev := first, first
	if len(items) > 0 {
		next = base + "?page=next&address=" + url.QueryEscape(items[len(items)-1].address) + "&" + tail
		prev = base + "?page=previous&address=" + url.QueryEscape(items[0].address) + "&" + tail
	} else {
		// An empty page, as recorded: all four links are the first page's.
		last = first
	}
	var buf bytes.Buffer
	buf.WriteString(`{"items":[`)
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it.json)
	}
	links, _ := json.Marshal(struct {
		First    string `json:"first"`
		Last     string `json:"last"`
		Next     string `json:"next"`
		Previous string `json:"previous"`
	}{first, last, next, prev})
	buf.WriteString(`],"paging":`)
	buf.Write(links)
	buf.WriteByte('}')
	s.stats.suppressionPages.Add(1)
	writeBody(w, http.StatusOK, buf.Bytes())
}

func (s *Server) listEntry(w http.ResponseWriter, d *domainData, l List, addr string) {
	var body []byte
	s.acct.mu.RLock()
	switch l {
	case Bounces:
		if b, ok := d.lists.bounces.get(addr); ok {
			body = bounceJSON(b)
		}
	case Unsubscribes:
		if u, ok := d.lists.unsubs.get(addr); ok {
			body = unsubJSON(u)
		}
	case Complaints:
		if c, ok := d.lists.complaints.get(addr); ok {
			body = complaintJSON(c)
		}
	default:
		if a, ok := d.lists.allow.get(addr); ok {
			body = allowJSON(a)
		}
	}
	s.acct.mu.RUnlock()
	if body == nil {
		writeMessage(w, http.StatusNotFound, notFoundText(l))
		return
	}
	writeBody(w, http.StatusOK, body)
}

func (s *Server) deleteEntry(w http.ResponseWriter, r *http.Request, d *domainData, l List, addr string) {
	tag := r.URL.Query().Get("tag")
	var found bool
	s.acct.mu.Lock()
	switch {
	case l == Unsubscribes && tag != "":
		found = d.lists.removeUnsubTag(addr, tag)
	case l == Bounces:
		found = d.lists.bounces.remove(addr)
	case l == Unsubscribes:
		found = d.lists.unsubs.remove(addr)
	case l == Complaints:
		found = d.lists.complaints.remove(addr)
	default:
		found = d.lists.allow.remove(addr)
	}
	s.acct.mu.Unlock()
	if !found {
		writeMessage(w, http.StatusNotFound, notFoundText(l))
		return
	}
	key := "address"
	if l == Allowlist {
		key = "value"
	}
	writeJSON(w, http.StatusOK, map[string]string{key: addr, "message": removedText(l)})
}

// listEntryIn is one entry of a JSON batch; code and tags come as strings
// or numbers and arrays, depending on the client.
type listEntryIn struct {
	Address   string          `json:"address"`
	Code      json.RawMessage `json:"code"`
	Error     string          `json:"error"`
	Tag       string          `json:"tag"`
	Tags      []string        `json:"tags"`
	CreatedAt string          `json:"created_at"`
}

// addEntries answers POST /v3/{domain}/{list}: form fields add one entry
// (mailgun-go's AddBounce, CreateUnsubscribe, CreateComplaint), a JSON
// array adds a batch (AddBounces, CreateUnsubscribes, CreateComplaints).
func (s *Server) addEntries(w http.ResponseWriter, r *http.Request, d *domainData, l List) {
	now := s.opts.Now().UTC().Truncate(time.Second)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		if l == Allowlist {
			writeMessage(w, http.StatusBadRequest, "the allowlist takes one address or domain per request, as form fields")
			return
		}
		var batch []listEntryIn
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err == nil {
			err = json.Unmarshal(body, &batch)
		}
		if err != nil {
			writeMessage(w, http.StatusBadRequest, "invalid JSON body: want an array of entries")
			return
		}
		if len(batch) > maxBatch {
			writeMessage(w, http.StatusBadRequest, "Batch size should be less than 1000")
			return
		}
		for i, e := range batch {
			if err := checkAddress(e.Address); err != nil {
				writeMessage(w, http.StatusBadRequest, fmt.Sprintf("entry %d: %v", i, err))
				return
			}
			if _, err := entryTime(e.CreatedAt, now); err != nil {
				writeMessage(w, http.StatusBadRequest, fmt.Sprintf("entry %d: %v", i, err))
				return
			}
		}
		s.acct.mu.Lock()
		for _, e := range batch {
			at, _ := entryTime(e.CreatedAt, now)
			d.lists.add(l, e.Address, rawCode(e.Code), e.Error, unsubTags(e.Tag, e.Tags), at)
		}
		s.acct.mu.Unlock()
		what := "addresses"
		if l == Complaints {
			what = "complaint addresses"
		}
		writeMessage(w, http.StatusOK, fmt.Sprintf("%d %s have been added to the %s table", len(batch), what, l))
		return
	}
	form, err := formValues(r)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "read form: "+err.Error())
		return
	}
	at, err := entryTime(form.Get("created_at"), now)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	if l == Allowlist {
		s.addAllow(w, d, form, at)
		return
	}
	addr := form.Get("address")
	if err := checkAddress(addr); err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	s.acct.mu.Lock()
	d.lists.add(l, addr, form.Get("code"), form.Get("error"), unsubTags(form.Get("tag"), nil), at)
	s.acct.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"message": "Address has been added to the " + string(l) + " table", "address": addr})
}

func (s *Server) addAllow(w http.ResponseWriter, d *domainData, form url.Values, at time.Time) {
	e := synth.AllowEntry{Reason: form.Get("reason"), CreatedAt: at}
	switch {
	case form.Get("address") != "":
		e.Type, e.Value = "address", form.Get("address")
		if err := checkAddress(e.Value); err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
	case form.Get("domain") != "":
		e.Type, e.Value = "domain", strings.ToLower(form.Get("domain"))
	default:
		writeMessage(w, http.StatusBadRequest, "'address' or 'domain' parameter is missing")
		return
	}
	s.acct.mu.Lock()
	d.lists.allow.put(e.Value, e)
	s.acct.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"message": "Address/Domain has been added to the allowlist", "type": e.Type, "value": e.Value})
}

// add puts one entry on a list (not the allowlist).
func (l *suppressionLists) add(list List, addr, code, errText string, tags []string, at time.Time) {
	switch list {
	case Bounces:
		if code == "" {
			code = "550"
		}
		l.bounces.put(addr, synth.Bounce{Address: addr, Code: code, Error: errText, CreatedAt: at})
	case Unsubscribes:
		l.addUnsub(synth.Unsubscribe{Address: addr, Tags: tags, CreatedAt: at})
	case Complaints:
		l.complaints.put(addr, synth.Complaint{Address: addr, CreatedAt: at})
	}
}

func checkAddress(a string) error {
	if a == "" {
		return errors.New("'address' parameter is missing")
	}
	if i := strings.LastIndexByte(a, '@'); i <= 0 || i == len(a)-1 || strings.ContainsAny(a, " \t\r\n") {
		return fmt.Errorf("'address' parameter is not a valid address: %q", a)
	}
	return nil
}

// entryTime reads created_at; an absent one, or the zero time mailgun-go
// sends when the caller left it unset, means now.
func entryTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	t, err := parseRFC2822(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("created_at: %w", err)
	}
	if t.Year() < 1971 {
		return now, nil
	}
	return t.UTC(), nil
}

func rawCode(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func unsubTags(tag string, tags []string) []string {
	if len(tags) > 0 {
		return tags
	}
	if tag != "" {
		return []string{tag}
	}
	return []string{"*"}
}

// formValues reads a urlencoded or multipart form body.
func formValues(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return nil, err
		}
		return r.MultipartForm.Value, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}
