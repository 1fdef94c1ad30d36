package mgserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mtypes"
)

// mailgun-go v5's ListMetrics reads the server's daily and hourly counts
// of one domain, and they are the account's events counted here by type.
func TestSDKListMetrics(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[1]
	want := map[string]map[string]uint64{} // resolution -> period -> accepted + 1000 * delivered
	wantFailed := map[string]uint64{}      // day -> permanent failures
	for _, ev := range e.acct.Events(dom) {
		for _, res := range []string{"day", "hour"} {
			p := ev.When().Truncate(24 * time.Hour)
			if res == "hour" {
				p = ev.When().Truncate(time.Hour)
			}
			k := formatRFC2822Metrics(p)
			if want[res] == nil {
				want[res] = map[string]uint64{}
			}
			switch ev.Type {
			case "accepted":
				want[res][k]++
			case "delivered":
				want[res][k] += 1000
			case "failed":
				if res == "day" && ev.Severity == "permanent" {
					wantFailed[k]++
				}
			}
		}
	}
	mg := e.sdk()
	for _, res := range []mtypes.Resolution{mtypes.ResolutionDay, mtypes.ResolutionHour} {
		opts := mailgun.MetricsOptions{
			Start: mtypes.RFC2822Time(e.res.Start), End: mtypes.RFC2822Time(e.res.End), Resolution: res,
			Dimensions: []string{"time"}, Metrics: []string{"accepted_count", "delivered_count", "permanent_failed_count"},
			Filter: mtypes.MetricsFilterPredicateGroup{BoolGroupAnd: []mtypes.MetricsFilterPredicate{{
				Attribute: "domain", Comparator: "=", LabeledValues: []mtypes.MetricsLabeledValue{{Label: dom, Value: dom}},
			}}},
			Pagination: mtypes.MetricsPagination{Limit: 50},
		}
		it, err := mg.ListMetrics(opts)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]uint64{}
		periods, failed := 0, uint64(0)
		var resp mtypes.MetricsResponse
		for more := true; more; {
			more = it.Next(context.Background(), &resp)
			if it.Err() != nil {
				t.Fatalf("%s: %v", res, it.Err())
			}
			for _, item := range resp.Items {
				periods++
				k := item.Dimensions[0].Value
				if n := *item.Metrics.AcceptedCount + 1000**item.Metrics.DeliveredCount; n > 0 {
					got[k] = n
				}
				if res == "day" && *item.Metrics.PermanentFailedCount != wantFailed[k] {
					t.Errorf("day %s: %d permanent failures, want %d", k, *item.Metrics.PermanentFailedCount, wantFailed[k])
				}
				failed += *item.Metrics.PermanentFailedCount
			}
		}
		wantPeriods := 7
		if res == "hour" {
			wantPeriods = 7 * 24
		}
		if periods != wantPeriods {
			t.Errorf("%s: %d periods, want %d (every period of the range, zeros too)", res, periods, wantPeriods)
		}
		if len(got) == 0 || len(got) != len(want[string(res)]) {
			t.Fatalf("%s: %d periods with mail, want %d", res, len(got), len(want[string(res)]))
		}
		for k, n := range want[string(res)] {
			if got[k] != n {
				t.Errorf("%s %s: accepted+1000*delivered %d, want %d", res, k, got[k], n)
			}
		}
	}
	if e.srv.Stats().MetricsPages == 0 {
		t.Error("no metrics pages counted")
	}
}

// Hourly counts are kept 60 days, daily ones a year; a metric the server
// does not compute, or another dimension, is a 400 naming it.
func TestMetricsRetentionAndRefusals(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{Now: func() time.Time { return smallConfig().End.Add(90 * 24 * time.Hour) }})
	post := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, e.hs.URL+"/v1/analytics/metrics", strings.NewReader(body))
		req.SetBasicAuth("api", testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	start := formatRFC2822Metrics(e.res.Start)
	end := formatRFC2822Metrics(e.res.End)
	for _, tt := range []struct {
		res   string
		total float64
	}{{"day", 7}, {"hour", 0}} {
		code, m := post(`{"start":"` + start + `","end":"` + end + `","resolution":"` + tt.res + `","dimensions":["time"],"metrics":["accepted_count"],"include_aggregates":true}`)
		pg, _ := m["pagination"].(map[string]any)
		if code != 200 || pg == nil || pg["total"] != tt.total {
			t.Errorf("%s, 90 days later: %d %v, want %v periods", tt.res, code, m, tt.total)
		}
	}
	for body, want := range map[string]string{
		`{"dimensions":["time"],"metrics":["seed_test_count"]}`:                                              "seed_test_count",
		`{"dimensions":["country"],"metrics":["accepted_count"]}`:                                            "country",
		`{"metrics":["accepted_count"],"resolution":"minute"}`:                                               "minute",
		`{"metrics":["accepted_count"],"pagination":{"limit":5000}}`:                                         "limit",
		`{"metrics":["accepted_count"],"start":"yesterday at noon"}`:                                         "start",
		`{"metrics":["accepted_count"],"filter":{"OR":[]}}`:                                                  "OR",
		`{"metrics":["accepted_count"],"duration":"2m"}`:                                                     "2m",
		`{"metrics":["accepted_count"],"filter":{"AND":[{"attribute":"tag","comparator":"=","values":[]}]}}`: "tag",
	} {
		code, m := post(body)
		if msg, _ := m["message"].(string); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %q, want 400 naming %q", body, code, msg, want)
		}
	}
}
