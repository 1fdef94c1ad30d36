package synth

import (
	"strings"
	"testing"
)

func TestExactCountAscendingInRange(t *testing.T) {
	for _, n := range []int{1000, 1001, 4999} {
		evs, res := collect(t, Config{Seed: 21, Events: n, End: testEnd})
		if len(evs) != n || res.Events != n {
			t.Fatalf("asked %d events, got %d (result says %d)", n, len(evs), res.Events)
		}
	}
	evs, res := account100k(t)
	if len(evs) != 100_000 {
		t.Fatalf("%d events, want 100000", len(evs))
	}
	start, end := res.Start.UnixMicro(), res.End.UnixMicro()
	sum := 0
	for _, n := range res.ByType {
		sum += n
	}
	if sum != len(evs) {
		t.Errorf("ByType sums to %d, want %d", sum, len(evs))
	}
	for i, e := range evs {
		if e.Time < start || e.Time >= end {
			t.Fatalf("event %d at %v outside %v..%v", i, e.When(), res.Start, res.End)
		}
		if i > 0 && e.Time < evs[i-1].Time {
			t.Fatalf("event %d at %v before event %d at %v", i, e.When(), i-1, evs[i-1].When())
		}
	}
	// Traffic fills the range: no empty week at either end.
	if first, last := evs[0].Time-start, end-evs[len(evs)-1].Time; first > 6*hourUS || last > 6*hourUS {
		t.Errorf("first event %v after the start, last %v before the end", first/1e6, last/1e6)
	}
}

func TestEventTypeShares(t *testing.T) {
	_, res := account100k(t)
	c := res.ByType
	acc, del := float64(c[Accepted]), float64(c[Delivered])
	cases := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"delivered/accepted", del / acc, 0.85, 0.95},
		{"failed/accepted", float64(c[Failed]) / acc, 0.08, 0.35},
		{"opened/delivered", float64(c[Opened]) / del, 0.12, 0.30},
		{"clicked/delivered", float64(c[Clicked]) / del, 0.02, 0.09},
		{"unsubscribed/delivered", float64(c[Unsubscribed]) / del, 0.0005, 0.006},
		{"complained/delivered", float64(c[Complained]) / del, 0.0001, 0.002},
		{"rejected/accepted", float64(c[Rejected]) / acc, 0.0003, 0.005},
		{"rare types/all", float64(c[Stored]+c[ListMemberUploaded]) / float64(res.Events), 0.00001, 0.002},
	}
	for _, tc := range cases {
		if tc.got < tc.min || tc.got > tc.max {
			t.Errorf("%s = %.4f, want %.4f..%.4f (counts %v)", tc.name, tc.got, tc.min, tc.max, c)
		}
	}
	total := 0
	for _, d := range res.SendingDomains {
		if res.ByDomain[d] < res.Events/20 {
			t.Errorf("sending domain %s has %d of %d events", d, res.ByDomain[d], res.Events)
		}
		total += res.ByDomain[d]
	}
	if total != res.Events {
		t.Errorf("ByDomain sums to %d, want %d", total, res.Events)
	}
}

func TestEventIDsUniquePerDay(t *testing.T) {
	evs, res := account100k(t)
	type dayID struct {
		day int64
		id  string
	}
	seen := make(map[dayID]bool, len(evs))
	firstDay := make(map[string]int64, len(evs))
	var shared []string
	for _, e := range evs {
		k := dayID{e.Day(), e.ID}
		if seen[k] {
			t.Fatalf("id %s twice on day %d", e.ID, e.Day())
		}
		seen[k] = true
		if d, ok := firstDay[e.ID]; !ok {
			firstDay[e.ID] = e.Day()
		} else if d != e.Day() {
			shared = append(shared, e.ID)
		}
	}
	if len(shared) != 1 || shared[0] != res.Stories.DuplicateID.ID {
		t.Errorf("ids on several days %v, want exactly the planted %s", shared, res.Stories.DuplicateID.ID)
	}
}

// TestSuppressionConsistency checks the lists against the events: an
// address is dropped only once it is on a list, bounces put addresses on
// the list, and after that nothing reaches the address any more.
func TestSuppressionConsistency(t *testing.T) {
	evs, res := account100k(t)
	start := res.Start
	bounced := map[msgKey]int64{} // first hard bounce in the range
	complained := map[msgKey]int64{}
	unsubscribed := map[msgKey]int64{}
	acceptedAt := map[string]int64{} // message id -> accept time
	drops := map[int]int{}
	for _, e := range evs {
		k := keyOf(e)
		lists := res.Suppressions[k.domain]
		switch e.Type {
		case Accepted:
			acceptedAt[e.Msg.ID] = e.Time
		case Complained:
			if _, ok := complained[k]; !ok {
				complained[k] = e.Time
			}
		case Unsubscribed:
			if _, ok := unsubscribed[k]; !ok {
				unsubscribed[k] = e.Time
			}
		case Delivered:
			if b, ok := bounced[k]; ok && acceptedAt[e.Msg.ID] > b {
				t.Errorf("%v: delivered at %v, accepted after the bounce at %v", k, e.When(), utcMicro(b))
			}
		case Failed:
			st := e.Status
			switch {
			case st.Severity == Permanent && st.Reason == ReasonBounce:
				if _, ok := bounced[k]; !ok {
					bounced[k] = e.Time
				}
				if b := findBounce(lists, k.addr); b == nil || b.CreatedAt.After(e.When()) {
					t.Errorf("%v bounced at %v but the bounce list has %v", k, e.When(), b)
				}
			case st.Code >= 605 && st.Code <= 607:
				drops[st.Code]++
				var since int64
				var listed bool
				var created int64
				switch st.Code {
				case 605:
					since, listed = bounced[k]
					if b := findBounce(lists, k.addr); b != nil {
						created = b.CreatedAt.UnixMicro()
					} else {
						t.Fatalf("%v dropped with 605 at %v, not on the bounce list", k, e.When())
					}
				case 606:
					since, listed = unsubscribed[k]
					if u := findUnsub(lists, k.addr); u != nil {
						created = u.CreatedAt.UnixMicro()
					} else {
						t.Fatalf("%v dropped with 606, not on the unsubscribes list", k)
					}
				case 607:
					since, listed = complained[k]
					if c := findComplaint(lists, k.addr); c != nil {
						created = c.CreatedAt.UnixMicro()
					} else {
						t.Fatalf("%v dropped with 607, not on the complaints list", k)
					}
				}
				if created > e.Time {
					t.Errorf("%v dropped at %v, listed only at %v", k, e.When(), utcMicro(created))
				}
				// Entries made in the range must come from an earlier event.
				if created >= start.UnixMicro() && (!listed || since > e.Time) {
					t.Errorf("%v dropped (%d) at %v with no earlier event putting it on the list", k, st.Code, e.When())
				}
			}
		}
	}
	if drops[605] < 100 || drops[606] == 0 || drops[607] == 0 {
		t.Errorf("drops %v: want many 605 and some 606 and 607", drops)
	}
	for d, l := range res.Suppressions {
		if len(l.Bounces) == 0 || len(l.Allowlist) == 0 {
			t.Errorf("%s: %d bounces, %d allowlist entries", d, len(l.Bounces), len(l.Allowlist))
		}
		for i, b := range l.Bounces {
			if i > 0 && l.Bounces[i-1].Address >= b.Address {
				t.Fatalf("%s: bounce list not sorted at %d", d, i)
			}
			if len(b.Code) != 3 || b.Error == "" || b.CreatedAt.IsZero() {
				t.Fatalf("%s: bounce entry %+v", d, b)
			}
		}
	}
}

func findBounce(l *Suppressions, addr string) *Bounce {
	for i := range l.Bounces {
		if l.Bounces[i].Address == addr {
			return &l.Bounces[i]
		}
	}
	return nil
}

func findUnsub(l *Suppressions, addr string) *Unsubscribe {
	for i := range l.Unsubscribes {
		if l.Unsubscribes[i].Address == addr {
			return &l.Unsubscribes[i]
		}
	}
	return nil
}

func findComplaint(l *Suppressions, addr string) *Complaint {
	for i := range l.Complaints {
		if l.Complaints[i].Address == addr {
			return &l.Complaints[i]
		}
	}
	return nil
}

// TestMessageLifecycles checks each message's events: accepted first, a
// Mailgun retry schedule, 602 after the last attempt, one final outcome.
func TestMessageLifecycles(t *testing.T) {
	evs, _ := account100k(t)
	type life struct {
		accepted, final int
		lastAttempt     int
	}
	lives := map[string]*life{}
	retries := map[int]bool{300: true, 600: true, 900: true, 1800: true, 3600: true, 7200: true, 14400: true}
	for _, e := range evs {
		if e.Type == Rejected || e.Type == Stored || e.Type == ListMemberUploaded {
			continue
		}
		l := lives[e.Msg.ID]
		if l == nil {
			l = &life{}
			lives[e.Msg.ID] = l
		}
		switch e.Type {
		case Accepted:
			l.accepted++
		case Delivered, Failed:
			if l.accepted != 1 {
				t.Fatalf("%s %s before its accepted event", e.Msg.ID, e.Type)
			}
			st := e.Status
			if st.Severity == Temporary {
				if !retries[st.RetrySeconds] || st.Attempt != l.lastAttempt+1 {
					t.Fatalf("%s: temporary failure attempt %d after %d, retry %d s", e.Msg.ID, st.Attempt, l.lastAttempt, st.RetrySeconds)
				}
				l.lastAttempt = st.Attempt
				continue
			}
			if st.Reason == ReasonOld && (st.Code != 602 || st.Attempt != maxAttempts+1 || l.lastAttempt != maxAttempts) {
				t.Fatalf("%s: expired with %d at attempt %d after %d attempts", e.Msg.ID, st.Code, st.Attempt, l.lastAttempt)
			}
			if !st.DelayedBounce {
				l.final++
			}
			if l.final > 1 {
				t.Fatalf("%s: two final outcomes", e.Msg.ID)
			}
		}
	}
	if len(lives) < 30_000 {
		t.Errorf("%d messages in 100k events", len(lives))
	}
}

func TestProvidersAndGateways(t *testing.T) {
	evs, _ := account100k(t)
	mx := map[string]bool{}
	for _, e := range evs {
		if e.Status != nil && e.Status.MXHost != "" {
			mx[e.Status.MXHost] = true
		}
	}
	want := []string{"gmail-smtp-in.l.google.com", "mta5.am0.yahoodns.net", "hotmail-com.olc.protection.outlook.com",
		"mx01.mail.icloud.com", "aspmx.l.google.com", ".mail.protection.outlook.com", "-smtp-inbound-", ".pphosted.com",
		".ess.barracudanetworks.com", "mail."}
	for _, w := range want {
		found := false
		for h := range mx {
			found = found || strings.Contains(h, w)
		}
		if !found {
			t.Errorf("no MX host like %q among %d", w, len(mx))
		}
	}
	domains := map[string]bool{}
	for _, e := range evs {
		domains[e.Msg.RecipientDomain] = true
	}
	if len(domains) < 500 {
		t.Errorf("%d recipient domains in 100k events, want hundreds", len(domains))
	}
}
