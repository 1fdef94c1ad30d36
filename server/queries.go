package server

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// The queries of the API and the UI take the CLI's flag names as
// parameters (?to=*@acme.com&event=failed&since=7d); a flag given several
// values takes them repeated or comma-separated.

// badRequest is a query the server cannot run: a 400 with its text.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, a ...any) error { return &badRequest{fmt.Sprintf(format, a...)} }

// list is every value of a parameter, comma-separated ones split.
func list(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// period reads since and until.
func period(q url.Values, now time.Time) (from, to time.Time, err error) {
	if from, err = maildiag.ParseWhen(q.Get("since"), now); err != nil {
		return from, to, badf("since: %v", err)
	}
	if to, err = maildiag.ParseWhen(q.Get("until"), now); err != nil {
		return from, to, badf("until: %v", err)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, badf("since must be before until")
	}
	return from, to, nil
}

// codes reads three-digit codes.
func codes(q url.Values) ([]int, error) {
	var out []int
	for _, c := range list(q, "code") {
		n, err := strconv.Atoi(c)
		if err != nil || n < 100 || n > 999 {
			return nil, badf("code %q: a three-digit code such as 550", c)
		}
		out = append(out, n)
	}
	return out, nil
}

// classes reads failure classes.
func classes(q url.Values) ([]string, error) {
	out := list(q, "class")
	for i, c := range out {
		out[i] = strings.ToLower(c)
		if _, ok := maildiag.ClassOf(out[i]); !ok && out[i] != "other" {
			return nil, badf("class %q: not a failure class", c)
		}
	}
	return out, nil
}

// pattern reads an address pattern.
func pattern(s, name string) (*analyze.Pattern, error) {
	if s == "" {
		return nil, nil
	}
	p, err := analyze.ParsePattern(s)
	if err != nil {
		return nil, badf("%s: %v", name, err)
	}
	return &p, nil
}

// DefaultPage is how many events a search returns unless limit says.
const DefaultPage = 100

// eventFilter reads the events search's parameters.
func eventFilter(q url.Values, now time.Time) (analyze.EventFilter, error) {
	f := analyze.EventFilter{From: q.Get("from"), Subject: q.Get("subject"), ToContains: strings.TrimSpace(q.Get("to-contains")),
		SendingDomains: list(q, "sending-domain"), SendingIPs: list(q, "sending-ip"), MX: q.Get("mx"), Provider: q.Get("provider"),
		Gateway: q.Get("gateway"), Tags: list(q, "tag"), MessageID: q.Get("message-id"), Asc: q.Get("asc") == "true",
		Cursor: q.Get("cursor"), Enhanced: list(q, "enhanced")}
	var err error
	if f.Types, f.Severities, err = analyze.ParseEventNames(list(q, "event")); err != nil {
		return f, badf("event: %v", err)
	}
	for _, s := range list(q, "severity") {
		s = strings.ToLower(s)
		if s != maildiag.SeverityPermanent && s != maildiag.SeverityTemporary {
			return f, badf("severity %q: permanent or temporary", s)
		}
		f.Severities = append(f.Severities, s)
	}
	if f.Codes, err = codes(q); err != nil {
		return f, err
	}
	if f.Classes, err = classes(q); err != nil {
		return f, err
	}
	if q.Get("to") != "" && f.ToContains != "" {
		return f, badf("give to or to-contains, not both")
	}
	if f.To, err = pattern(q.Get("to"), "to"); err != nil {
		return f, err
	}
	for _, v := range q["var"] {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return f, badf("var %q: key=value", v)
		}
		if f.Vars == nil {
			f.Vars = map[string]string{}
		}
		f.Vars[k] = val
	}
	if f.Since, f.Until, err = period(q, now); err != nil {
		return f, err
	}
	f.Limit = DefaultPage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			return f, badf("limit %q: from 1 to 10000", l)
		}
		f.Limit = n
	}
	return f, nil
}

// traceOptions reads trace's parameters.
func traceOptions(q url.Values, now time.Time) (analyze.TraceOptions, error) {
	o := analyze.TraceOptions{Now: now, Subject: q.Get("subject"), SendingDomains: list(q, "sending-domain"), Tag: q.Get("tag"),
		EventID: q.Get("event-id"), Location: time.UTC}
	for i, d := range o.SendingDomains {
		o.SendingDomains[i] = strings.ToLower(d)
	}
	var err error
	o.Since, o.Until, err = period(q, now)
	return o, err
}

// suppressedOptions reads suppressed's parameters.
func suppressedOptions(q url.Values, now time.Time) (analyze.SuppressedOptions, error) {
	o := analyze.SuppressedOptions{SendingDomains: list(q, "sending-domain"), Lists: list(q, "list"), WithRemoved: q.Get("with-removed") == "true"}
	for _, l := range o.Lists {
		switch l {
		case maildiag.ListBounces, maildiag.ListComplaints, maildiag.ListUnsubscribes, "allowlist":
		default:
			return o, badf("list %q: bounces, complaints, unsubscribes or allowlist", l)
		}
	}
	var err error
	if o.Since, err = maildiag.ParseWhen(q.Get("since"), now); err != nil {
		return o, badf("since: %v", err)
	}
	return o, nil
}

// failureQuery reads failures' parameters.
func failureQuery(q url.Values, now time.Time) (analyze.FailureQuery, error) {
	fq := analyze.FailureQuery{Enhanced: list(q, "enhanced"), From: q.Get("from"), Subject: q.Get("subject"),
		SendingDomains: list(q, "sending-domain"), Providers: list(q, "provider"), Severities: list(q, "severity"),
		By: list(q, "by"), Top: atoiOr(q.Get("top"), 20)}
	var err error
	if fq.Codes, err = codes(q); err != nil {
		return fq, err
	}
	if fq.Classes, err = classes(q); err != nil {
		return fq, err
	}
	if len(fq.By) == 0 {
		fq.By = []string{analyze.ByClass}
	}
	for _, b := range fq.By {
		ok := false
		for _, d := range analyze.Dimensions {
			ok = ok || d == b
		}
		if !ok {
			return fq, badf("by %q: use %s", b, strings.Join(analyze.Dimensions, ", "))
		}
	}
	if fq.Top < 1 {
		return fq, badf("top must be at least 1")
	}
	if fq.To, err = pattern(q.Get("to"), "to"); err != nil {
		return fq, err
	}
	fq.Since, fq.Until, err = period(q, now)
	return fq, err
}

// healthQuery reads the health report's parameters (default: 7 days).
func healthQuery(q url.Values, now time.Time) (analyze.HealthQuery, error) {
	hq := analyze.HealthQuery{Now: now, SendingDomains: list(q, "sending-domain"), Thresholds: analyze.DefaultThresholds, MaxRows: atoiOr(q.Get("max-rows"), 200)}
	since := q.Get("since")
	if since == "" {
		since = "7d"
	}
	var err error
	if hq.Since, err = maildiag.ParseWhen(since, now); err != nil {
		return hq, badf("since: %v", err)
	}
	if hq.Until, err = maildiag.ParseWhen(q.Get("until"), now); err != nil {
		return hq, badf("until: %v", err)
	}
	if hq.Until.IsZero() {
		hq.Until = now
	}
	if !hq.Since.Before(hq.Until) {
		return hq, badf("since must be before until")
	}
	if hq.MaxRows < 1 {
		return hq, badf("max-rows must be at least 1")
	}
	hq.To, err = pattern(q.Get("to"), "to")
	return hq, err
}

// isBad tells a query error from a failure of the store.
func isBad(err error) bool {
	var b *badRequest
	return errors.As(err, &b)
}
