package mgserver

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"
)

// jsonKind names a JSON value's type.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// The Logs API items the server serves have the shape of Mailgun's own
// example (shared samples line 27, from Mailgun's OpenAPI spec): every key
// the example has is of the same JSON type, @timestamp an ISO-8601 string
// with milliseconds, no float timestamp, domain and account objects, and
// user-variables a JSON string, storage.url an array.
func TestLogsItemsShapedAsMailgunExample(t *testing.T) {
	f, err := os.Open("../ingest/testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var example map[string]any
	for n := 1; sc.Scan(); n++ {
		if n == 27 {
			if err := json.Unmarshal(sc.Bytes(), &example); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, ok := example["@timestamp"]; !ok {
		t.Fatalf("line 27 of the samples is not the Logs API example: %v", example)
	}
	e := newEnv(t, smallConfig(), Options{})
	p, _ := e.logs(map[string]any{
		"start": formatRFC2822(e.res.Start), "end": formatRFC2822(e.res.End),
		"pagination": map[string]any{"sort": "timestamp:asc", "limit": 100},
	}, http.StatusOK)
	if len(p.Items) == 0 {
		t.Fatal("no items")
	}
	seen := map[string]bool{}
	for _, raw := range p.Items {
		var it map[string]any
		if err := json.Unmarshal(raw, &it); err != nil {
			t.Fatal(err)
		}
		for k, v := range example {
			if got, ok := it[k]; ok {
				seen[k] = true
				if jsonKind(got) != jsonKind(v) {
					t.Errorf("item %v: %s is a %s, Mailgun's example has a %s", it["id"], k, jsonKind(got), jsonKind(v))
				}
			}
		}
		ts, _ := it["@timestamp"].(string)
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", ts); err != nil {
			t.Errorf("item %v: @timestamp %q is not ISO-8601 with milliseconds", it["id"], ts)
		}
		if _, ok := it["timestamp"]; ok {
			t.Errorf("item %v has the Events API's float timestamp", it["id"])
		}
		if d, _ := it["domain"].(map[string]any); d == nil || d["name"] == "" {
			t.Errorf("item %v: domain %v, want {name}", it["id"], it["domain"])
		}
		if uv, ok := it["user-variables"]; ok && jsonKind(uv) != "string" {
			t.Errorf("item %v: user-variables is a %s, want a JSON string", it["id"], jsonKind(uv))
		}
		if st, ok := it["storage"].(map[string]any); ok && jsonKind(st["url"]) != "array" {
			t.Errorf("item %v: storage.url is a %s, want an array", it["id"], jsonKind(st["url"]))
		}
	}
	for k := range example {
		if !seen[k] {
			t.Errorf("no served item has the example's key %q", k)
		}
	}
}
