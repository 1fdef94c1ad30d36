package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/maildiag/maildiag"
)

// Batch is what ingest produces from one chunk of input, in input order.
type Batch struct {
	Events       []maildiag.Event
	Suppressions []maildiag.Suppression
	Rejects      []maildiag.Reject
	Shapes       [numShapes]int // records seen per shape
	Bytes        int64          // input bytes this batch covers
	Prepared     any            // what Options.Prepare made of Events
}

func (b *Batch) reject(loc loc, reason string, raw []byte) {
	if len(reason) > maxReason {
		// A reason quoting the input is printed for every reject: the
		// record itself is in Raw.
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = fmt.Sprintf("%s... (%d bytes)", reason[:cut], len(reason))
	}
	b.Rejects = append(b.Rejects, maildiag.Reject{Line: loc.line, Item: loc.item, Offset: loc.offset, Reason: reason, Raw: raw})
}

// maxReason bounds the text of a reject's reason.
const maxReason = 240

// loc is where a record starts in the input.
type loc struct {
	line   int64
	item   int
	offset int64
}

// maxDepth bounds containers inside containers (a page of pages of ...).
const maxDepth = 4

// jsonRecord normalises one JSON value taken from the input: an event, a
// webhook payload, a page of items, an array, or a suppression entry.
func (n *normalizer) jsonRecord(raw []byte, at loc, out *Batch, depth int, page container) {
	trimmed := bytes.TrimLeftFunc(raw, unicode.IsSpace)
	at.offset += int64(len(raw) - len(trimmed)) // offsets of items count from the trimmed record
	raw = bytes.TrimRightFunc(trimmed, unicode.IsSpace)
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '{':
	case '[':
		if depth >= maxDepth {
			out.reject(at, "arrays nested too deep", raw)
			return
		}
		n.jsonArray(raw, 0, at, out, depth+1, page)
		return
	default:
		out.reject(at, "not a JSON object", raw)
		return
	}
	w := wires.Get().(*wire)
	defer func() {
		*w = wire{} // what the batch kept of it stays untouched
		wires.Put(w)
	}()
	if err := decodeWire(raw, w); err != nil {
		out.reject(at, err.Error(), raw)
		return
	}
	n.wireRecord(w, raw, at, out, depth, page)
}

// wires recycles decoding targets: the struct is large, and a fresh one per
// event was a twentieth of an import's work in allocation and collection.
var wires = sync.Pool{New: func() any { return new(wire) }}

// container carries what a page says about its items.
type container struct {
	domain string // sending domain named by the page's URLs
	list   string // suppression list named by the page's URLs
}

func (n *normalizer) wireRecord(w *wire, raw []byte, at loc, out *Batch, depth int, page container) {
	switch {
	case len(w.EventData) > 0:
		data := bytes.TrimSpace(w.EventData)
		var inner wire
		if len(data) == 0 || data[0] != '{' {
			out.reject(at, "webhook event-data is not an object", raw)
			return
		}
		if err := decodeWire(data, &inner); err != nil {
			out.reject(at, "webhook event-data: "+err.Error(), raw)
			return
		}
		n.event(&inner, data, ShapeWebhook, at, out)
	case len(w.Items) > 0:
		if depth >= maxDepth {
			out.reject(at, "pages nested too deep", raw)
			return
		}
		items := bytes.TrimSpace(w.Items)
		if items[0] == 'n' {
			return // "items": null is an empty page
		}
		if items[0] != '[' {
			out.reject(at, "items is not an array", raw)
			return
		}
		// Find the array inside raw so item lines can be counted.
		start := bytes.Index(raw, items)
		if start < 0 {
			start = 0
			raw = items
		}
		n.jsonArray(raw, start, at, out, depth+1, pageInfo(w))
	case w.Event != "" && isLegacy(w):
		var ev maildiag.Event
		if err := n.eventFromLegacy(w, raw, &ev); err != nil {
			out.reject(at, err.Error(), raw)
			return
		}
		out.Shapes[ShapeLegacyWebhook]++
		out.Events = append(out.Events, ev)
	case w.Event != "":
		shape := ShapeEventsAPI
		if w.AtTimestamp != "" {
			shape = ShapeLogsAPI
		}
		n.event(w, raw, shape, at, out)
	case w.Address != "" || w.Value != "":
		n.suppression(w, raw, page, at, out)
	default:
		out.reject(at, "not a Mailgun event, webhook, page or suppression entry (no \"event\" field)", raw)
	}
}

func (n *normalizer) event(w *wire, raw []byte, shape Shape, at loc, out *Batch) {
	var ev maildiag.Event
	if err := n.eventFromWire(w, raw, &ev); err != nil {
		out.reject(at, err.Error(), raw)
		return
	}
	out.Shapes[shape]++
	out.Events = append(out.Events, ev)
}

// jsonArray normalises each element of the array raw[start:], a page's items
// or a top-level array. Suppression entries take the page's list and domain.
func (n *normalizer) jsonArray(raw []byte, start int, at loc, out *Batch, depth int, page container) {
	spans, err := splitArray(raw, start)
	line := at.line
	prev := 0
	for i, s := range spans {
		line += int64(bytes.Count(raw[prev:s.start], nl))
		prev = s.start
		el := loc{line: line, item: i + 1, offset: at.offset + int64(s.start)}
		if at.item != 0 {
			el.item = at.item // an item of an item keeps the outer position
		}
		n.jsonRecord(raw[s.start:s.end], el, out, depth, page)
	}
	if errors.Is(err, errUnterminated) {
		out.reject(at, "truncated JSON array (the elements before the cut were loaded)", nil)
	}
}

var nl = []byte{'\n'}

// pageInfo reads the sending domain and list a suppression page names in
// its paging URLs, e.g. https://api.mailgun.net/v3/mg.example.com/bounces?...
func pageInfo(w *wire) container {
	for _, u := range []string{w.Paging.First, w.Paging.Next, w.Paging.Last, w.Paging.Previous} {
		i := strings.Index(u, "/v3/")
		if i < 0 {
			continue
		}
		parts := strings.Split(strings.SplitN(u[i+4:], "?", 2)[0], "/")
		if len(parts) < 2 {
			continue
		}
		if list := listName(parts[1]); list != "" {
			return container{domain: strings.ToLower(parts[0]), list: list}
		}
	}
	return container{}
}

// listName maps an API path segment to a suppression list.
func listName(seg string) string {
	switch strings.ToLower(seg) {
	case "bounces":
		return maildiag.ListBounces
	case "complaints":
		return maildiag.ListComplaints
	case "unsubscribes":
		return maildiag.ListUnsubscribes
	case "whitelists", "allowlist", "allowlists":
		return maildiag.ListAllowlist
	}
	return ""
}

// ReadRecord normalises one JSON record, such as a webhook's body, as Read
// does an input holding only it (classes and gateways derived), without
// Read's pipeline: its buffers, goroutines and shape probe cost a webhook
// more than decoding it.
func ReadRecord(raw []byte, opts Options) *Batch {
	n := &normalizer{sendingDomain: opts.SendingDomain}
	b := &Batch{Bytes: int64(len(raw))}
	n.jsonRecord(raw, loc{line: 1}, b, 0, container{})
	return b
}

// ShapeCount is how many records of a shape (by its name, as in
// Summary.Shapes) a batch holds.
func (b *Batch) ShapeCount(name string) int {
	for s, n := range shapeNames {
		if n == name {
			return b.Shapes[s]
		}
	}
	return 0
}

// ParseEvent normalises the original JSON of one stored event (any of the
// shapes Read accepts for a single event). Its class, rule and gateway are
// left empty: the store keeps them, and classify.Derive derives them again.
func ParseEvent(raw []byte) (maildiag.Event, error) {
	n := &normalizer{asStored: true}
	var b Batch
	n.jsonRecord(raw, loc{line: 1}, &b, 0, container{})
	switch {
	case len(b.Events) == 1:
		return b.Events[0], nil
	case len(b.Rejects) > 0:
		return maildiag.Event{}, errors.New(b.Rejects[0].Reason)
	}
	return maildiag.Event{}, errors.New("not one event")
}
