package syncer_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
	"github.com/maildiag/maildiag/internal/mgtest"
	"github.com/maildiag/maildiag/internal/testkit"
	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/syncer"
)

// A key that may not read everything: a 403 on one list and a 404 on
// another (a plan without it) are warnings naming them; every other list
// and every domain's events sync, and the pass has no error.
func TestSyncRefusedListsWarn(t *testing.T) {
	d0, d1 := mgtest.Domains[0], mgtest.Domains[1]
	s := mgtest.New(t, mgtest.Config(3000, d0, d1), mgserver.Options{Faults: mgserver.Faults{Refuse: []mgserver.Refusal{
		{Path: "/v3/" + d0 + "/whitelists", Status: 403},
		{Path: "/v3/" + d1 + "/complaints", Status: 404},
	}}})
	db := tempDB(t)
	sum, err := pass(t, s, db, s.Res.End, options(), nil)
	if err != nil {
		t.Fatalf("sync: %v, want warnings and no error", err)
	}
	testkit.SameEvents(t, "refused lists", db, testkit.EventKeys(t, s.Acct, nil))
	type part struct{ domain, list string }
	got := map[part]syncer.Warning{}
	for _, w := range sum.Warnings {
		got[part{w.Domain, w.List}] = w
	}
	want := map[part]int{{d0, maildiag.ListAllowlist}: 403, {d1, maildiag.ListComplaints}: 404}
	if len(got) != len(want) || len(sum.Warnings) != len(want) {
		t.Fatalf("warnings %+v, want one for %v", sum.Warnings, want)
	}
	for p, status := range want {
		w, ok := got[p]
		if !ok || w.Status != status || !strings.Contains(w.Message, p.list) || !strings.Contains(w.Message, p.domain) {
			t.Errorf("warning for %v: %+v, want status %d naming the list and domain", p, w, status)
		}
	}
	for _, d := range sum.Domains {
		if d.Error != "" {
			t.Errorf("%s: error %q", d.Domain, d.Error)
		}
		for _, list := range ingest.Lists() {
			l := findList(sum, d.Domain, list)
			_, refused := want[part{d.Domain, list}]
			switch {
			case refused && l != nil && l.Complete:
				t.Errorf("%s %s: refused, yet complete", d.Domain, list)
			case !refused && (l == nil || !l.Complete):
				t.Errorf("%s %s: %+v, want complete", d.Domain, list, l)
			}
		}
	}
	// The contract of --output json: a warnings array, never null.
	b, _ := json.Marshal(sum)
	if !strings.Contains(string(b), `"warnings":[{"domain":"`+d1) {
		t.Errorf("JSON %s: no warnings array", b)
	}
	clean := mustPass(t, mgtest.New(t, mgtest.Config(100, d0), mgserver.Options{}), tempDB(t), s.Res.End, options())
	if b, _ := json.Marshal(clean); !strings.Contains(string(b), `"warnings":[]`) {
		t.Errorf("JSON of a pass without warnings %s: want \"warnings\":[]", b)
	}
}

// A domain whose events are refused is a warning; the other domain syncs.
// When every domain's events are refused, nothing could be read: an error.
func TestSyncRefusedDomainWarns(t *testing.T) {
	d0, d1 := mgtest.Domains[0], mgtest.Domains[1]
	s := mgtest.New(t, mgtest.Config(3000, d0, d1), mgserver.Options{Faults: mgserver.Faults{Refuse: []mgserver.Refusal{
		{Path: "/v3/" + d1 + "/events", Status: 403},
	}}})
	db := tempDB(t)
	o := options()
	o.NoSuppressions = true
	sum, err := pass(t, s, db, s.Res.End, o, nil)
	if err != nil {
		t.Fatalf("sync: %v, want a warning and no error", err)
	}
	if len(sum.Warnings) != 1 || sum.Warnings[0].Domain != d1 || sum.Warnings[0].List != "" || sum.Warnings[0].Status != 403 {
		t.Fatalf("warnings %+v, want one for the events of %s", sum.Warnings, d1)
	}
	testkit.SameEvents(t, "one domain refused", db, testkit.EventKeys(t, s.Acct, func(e *mgserver.Event) bool {
		return e.Domain == d0
	}))
	for _, d := range sum.Domains {
		if d.Domain == d1 && len(d.SyncedRanges) != 0 {
			t.Errorf("%s: refused, yet synced ranges %v", d1, d.SyncedRanges)
		}
	}
	o.Domains = []string{d1}
	if _, err := pass(t, s, tempDB(t), s.Res.End, o, nil); !errors.Is(err, syncer.ErrNothingReadable) || syncer.Retryable(err) {
		t.Errorf("every domain refused: %v, want ErrNothingReadable, not worth a retry", err)
	}
}

// The Logs API refused for the account (a 404 on its endpoint): with
// Fallback the pass reads the Events API and says so; without, it fails.
func TestSyncLogsRefusedFallsBack(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(3000, mgtest.Domains[:2]...), mgserver.Options{Faults: mgserver.Faults{Refuse: []mgserver.Refusal{
		{Path: "/v1/analytics/logs", Status: 404},
	}}})
	o := options()
	o.NoSuppressions, o.Source = true, ingest.SourceLogs
	if _, err := pass(t, s, tempDB(t), s.Res.End, o, nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("logs refused without fallback: %v, want the 404", err)
	}
	o.Fallback = true
	db := tempDB(t)
	sum, err := pass(t, s, db, s.Res.End, o, nil)
	if err != nil {
		t.Fatalf("sync with fallback: %v", err)
	}
	if sum.Source != ingest.SourceEvents || !strings.Contains(sum.Note, "Logs API refused") || !strings.Contains(sum.Note, "404") {
		t.Errorf("source %q, note %q: want events and a note naming the 404", sum.Source, sum.Note)
	}
	testkit.SameEvents(t, "fallback", db, testkit.EventKeys(t, s.Acct, nil))
	// Where the Logs API answers, the fallback changes nothing.
	ok := mgtest.New(t, mgtest.Config(300, mgtest.Domains[0]), mgserver.Options{})
	sum = mustPass(t, ok, tempDB(t), ok.Res.End, o)
	if sum.Source != ingest.SourceLogs || sum.Note != "" || ok.Srv.Stats().LogPages == 0 {
		t.Errorf("logs answering: source %q note %q, %d log pages", sum.Source, sum.Note, ok.Srv.Stats().LogPages)
	}
	// Options that name no source are the Logs API with the fallback.
	o.Source, o.Fallback = "", false
	sum = mustPass(t, s, tempDB(t), s.Res.End, o)
	if sum.Source != ingest.SourceEvents || !strings.Contains(sum.Note, "Logs API refused") {
		t.Errorf("no source named, logs refused: source %q, note %q: want the fallback", sum.Source, sum.Note)
	}
}

// A Logs API sync stores what an Events API sync of the same account
// stores: the same identities, and the same normalised fields of every
// event and failure (time, type, domains, recipient, message, outcome,
// codes, class, reply, ...). Times agree to the millisecond: the Logs API's
// @timestamp carries milliseconds (as in Mailgun's own example, shared
// samples line 27), the Events API's timestamp microseconds.
func TestSyncLogsSameFieldsAsEvents(t *testing.T) {
	s := mgtest.New(t, mgtest.Config(4000, mgtest.Domains[:2]...), mgserver.Options{})
	viaEvents, viaLogs := tempDB(t), tempDB(t)
	o := options()
	o.NoSuppressions = true
	mustPass(t, s, viaEvents, s.Res.End, o)
	o.Source = ingest.SourceLogs
	mustPass(t, s, viaLogs, s.Res.End, o)
	for _, q := range []string{
		`SELECT ts / 1000, type, sending_domain, recipient, recipient_domain, message_key, day, id_hash FROM events_full ORDER BY 1, 2, 4, 8`,
		`SELECT ts / 1000, type, event_id, sending_domain, recipient, recipient_domain, outcome, severity, reason, code, enhanced, class,
			rule, gateway, provider, mx_host, reply, description, attempt, retry_seconds, bounce_type, delayed_bounce, sending_ip,
			subject, from_addr, message_key, day, id_hash FROM failures_full ORDER BY 1, 2, 5, 28`,
	} {
		ev, lg := query(t, viaEvents, q), query(t, viaLogs, q)
		if len(ev) == 0 || len(ev) != len(lg) {
			t.Fatalf("%d rows via events, %d via logs: %s", len(ev), len(lg), q)
		}
		diffs := 0
		for i := range ev {
			a, b := fmt.Sprint(ev[i]), fmt.Sprint(lg[i])
			if a != b && diffs < 5 {
				diffs++
				t.Errorf("row %d differs:\nevents %s\nlogs   %s", i, a, b)
			}
		}
	}
}

// A named domain the key may not read (403 on it: a subaccount's) is left
// out with a warning; the other named domain syncs.
func TestSyncRefusedNamedDomainWarns(t *testing.T) {
	d0, d1 := mgtest.Domains[0], mgtest.Domains[1]
	s := mgtest.New(t, mgtest.Config(2000, d0, d1), mgserver.Options{Faults: mgserver.Faults{Refuse: []mgserver.Refusal{
		{Path: "/v4/domains/" + d1, Status: 403},
	}}})
	db := tempDB(t)
	o := options()
	o.NoSuppressions, o.Domains = true, []string{d0, d1}
	sum, err := pass(t, s, db, s.Res.End, o, nil)
	if err != nil {
		t.Fatalf("sync: %v, want a warning and no error", err)
	}
	if len(sum.Warnings) != 1 || sum.Warnings[0].Domain != d1 || !strings.Contains(sum.Warnings[0].Message, "domain "+d1+" skipped: 403") {
		t.Errorf("warnings %+v, want domain %s skipped", sum.Warnings, d1)
	}
	if len(sum.Domains) != 1 || sum.Domains[0].Domain != d0 {
		t.Errorf("domains synced %+v, want %s alone", sum.Domains, d0)
	}
	testkit.SameEvents(t, "named domain refused", db, testkit.EventKeys(t, s.Acct, func(e *mgserver.Event) bool { return e.Domain == d0 }))
	o.Domains = []string{d1}
	if _, err := pass(t, s, tempDB(t), s.Res.End, o, nil); !errors.Is(err, syncer.ErrNothingReadable) {
		t.Errorf("the one named domain refused: %v, want ErrNothingReadable", err)
	}
}
