package synth

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestStories checks every planted story in the events themselves, not
// just in the manifest, at the smallest supported size and at 100,000.
func TestStories(t *testing.T) {
	small, smallRes := collect(t, Config{Seed: 11, Events: 1000, End: testEnd})
	bigEvs, bigRes := account100k(t)
	for _, c := range []struct {
		name string
		evs  []*Event
		res  *Result
	}{{"1000", small, smallRes}, {"100000", bigEvs, bigRes}} {
		t.Run(c.name, func(t *testing.T) { checkStories(t, c.evs, c.res) })
	}
	// Stories do not depend on the number of events.
	a, b := smallRes.Stories, bigRes.Stories
	if !reflect.DeepEqual(a.DomainBlock.Addresses, b.DomainBlock.Addresses) ||
		!reflect.DeepEqual(a.TypoDomain.Messages, b.TypoDomain.Messages) ||
		a.NeverOpened.MessageID != b.NeverOpened.MessageID || a.DuplicateID.ID != b.DuplicateID.ID {
		t.Error("the stories differ between 1000 and 100000 events of the same seed")
	}
}

// storyIndex groups events for the checks.
type storyIndex struct {
	byMsg  map[string][]*Event
	byAddr map[string][]*Event
	ids    map[string][]*Event
}

func indexEvents(evs []*Event) *storyIndex {
	x := &storyIndex{byMsg: map[string][]*Event{}, byAddr: map[string][]*Event{}, ids: map[string][]*Event{}}
	for _, e := range evs {
		x.byMsg[e.Msg.ID] = append(x.byMsg[e.Msg.ID], e)
		x.byAddr[e.Msg.Recipient] = append(x.byAddr[e.Msg.Recipient], e)
		x.ids[e.ID] = append(x.ids[e.ID], e)
	}
	return x
}

// final returns the delivered or permanently failed event of a message.
func (x *storyIndex) final(id string) *Event {
	var f *Event
	for _, e := range x.byMsg[id] {
		if e.Type == Delivered || e.Type == Failed && e.Status.Severity == Permanent {
			f = e
		}
	}
	return f
}

func checkStories(t *testing.T, evs []*Event, res *Result) {
	s := res.Stories
	if s == nil {
		t.Fatal("no stories")
	}
	x := indexEvents(evs)
	latest := res.End.Add(-48 * time.Hour).UnixMicro()
	for _, e := range evs {
		if storyDomains[e.Msg.RecipientDomain] && e.Time > latest {
			t.Errorf("story event %s to %s at %v, less than two days before the end", e.Type, e.Msg.Recipient, e.When())
		}
	}
	t.Run("domain block", func(t *testing.T) { checkDomainBlock(t, x, res) })
	t.Run("ip block", func(t *testing.T) { checkIPBlock(t, x, res) })
	t.Run("rate limit", func(t *testing.T) { checkRateLimit(t, evs, x, res) })
	t.Run("typo domain", func(t *testing.T) { checkTypoDomain(t, x, res) })
	t.Run("lookalike", func(t *testing.T) { checkLookalike(t, x, res) })
	t.Run("never opened", func(t *testing.T) { checkNeverOpened(t, x, res) })
	t.Run("complaints", func(t *testing.T) { checkComplaints(t, x, res) })
	t.Run("duplicate id", func(t *testing.T) {
		d := s.DuplicateID
		got := x.ids[d.ID]
		if len(got) != 2 || got[0].Day() == got[1].Day() || got[0].Msg.ID != d.Events[0].MessageID || got[1].Msg.ID != d.Events[1].MessageID {
			t.Errorf("id %s: %d events, want 2 on different days as in %+v", d.ID, len(got), d.Events)
		}
	})
}

func checkDomainBlock(t *testing.T, x *storyIndex, res *Result) {
	b := res.Stories.DomainBlock
	if b.Domain != "acme.com" || b.MXHost != "eu-smtp-inbound-1.mimecast.com" {
		t.Fatalf("domain block at %s behind %s", b.Domain, b.MXHost)
	}
	dayBefore := res.End.Sub(b.BlockStart).Hours() / 24
	if dayBefore < 4 || dayBefore > 6 || b.BlockEnd.Sub(b.BlockStart) > 2*time.Hour {
		t.Errorf("block from %v to %v, want about 5 days before %v and within 2 hours", b.BlockStart, b.BlockEnd, res.End)
	}
	blocked := map[string]bool{}
	var delivered int
	for addr, evs := range x.byAddr {
		if !strings.HasSuffix(addr, "@acme.com") {
			continue
		}
		for _, e := range evs {
			switch {
			case e.Type == Delivered && e.Status.MXHost == b.MXHost && e.When().Before(b.BlockStart):
				delivered++
			case e.Type == Failed && e.Status.Code == 550 && strings.HasPrefix(e.Status.Message, "Envelope blocked - User Entry"):
				if e.When().Before(b.BlockStart) || e.When().After(b.BlockEnd) || e.Msg.SendingDomain != b.SendingDomain {
					t.Errorf("block bounce for %s at %v outside the block", addr, e.When())
				}
				blocked[addr] = true
			}
		}
	}
	if len(blocked) < 40 || len(blocked) != len(b.Addresses) || delivered == 0 {
		t.Errorf("%d addresses blocked (manifest %d), %d delivered before: want 40+ and some", len(blocked), len(b.Addresses), delivered)
	}
	lists := res.Suppressions[b.SendingDomain]
	for _, a := range b.Addresses {
		if !blocked[a] {
			t.Errorf("%s in the manifest but not blocked", a)
		}
		if bb := findBounce(lists, a); bb == nil || bb.Code != "550" || !strings.Contains(bb.Error, "Envelope blocked") {
			t.Errorf("%s: bounce list entry %+v", a, bb)
		}
	}
	if len(b.Dropped) == 0 {
		t.Fatal("no drops after the block")
	}
	for _, m := range b.Dropped {
		if f := x.final(m.MessageID); f == nil || f.Status.Code != 605 || !blocked[m.Recipient] || !f.When().After(b.BlockEnd) {
			t.Errorf("drop %s to %s: final event %v", m.MessageID, m.Recipient, f)
		}
	}
}

func checkIPBlock(t *testing.T, x *storyIndex, res *Result) {
	b := res.Stories.IPBlock
	if b.Domain != "contoso.com" || b.MXHost != "contoso-com.mail.protection.outlook.com" || b.SendingIP == b.OtherIP {
		t.Fatalf("ip block %+v", b)
	}
	var deferrals, blocks, otherDelivered int
	var firstDeferral, firstBlock time.Time
	for addr, evs := range x.byAddr {
		if !strings.HasSuffix(addr, "@contoso.com") {
			continue
		}
		for _, e := range evs {
			st := e.Status
			switch {
			case e.Type == Failed && st.Code == 451 && st.EnhancedCode == "4.7.650" && e.Msg.SendingIP == b.SendingIP:
				deferrals++
				if firstDeferral.IsZero() || e.When().Before(firstDeferral) {
					firstDeferral = e.When()
				}
			case e.Type == Failed && st.Code == 550 && strings.Contains(st.Message, "(S3150)") && e.Msg.SendingIP == b.SendingIP:
				blocks++
				if firstBlock.IsZero() || e.When().Before(firstBlock) {
					firstBlock = e.When()
				}
				if st.Reason == ReasonBounce {
					t.Errorf("an IP block counted as a recipient bounce")
				}
			case e.Type == Delivered && e.Msg.SendingIP == b.OtherIP:
				otherDelivered++
			}
		}
	}
	if deferrals < 5 || blocks < 4 || otherDelivered == 0 || !firstDeferral.Before(firstBlock) {
		t.Errorf("deferrals %d from %v, blocks %d from %v, other IP delivered %d", deferrals, firstDeferral, blocks, firstBlock, otherDelivered)
	}
	if deferrals != b.Deferrals || blocks != b.Blocks || !firstBlock.Equal(b.BlockStart) {
		t.Errorf("manifest says %d deferrals, %d blocks from %v", b.Deferrals, b.Blocks, b.BlockStart)
	}
	for _, a := range b.Addresses {
		if findBounce(res.Suppressions[b.SendingDomain], a) != nil {
			t.Errorf("%s on the bounce list after an IP block", a)
		}
	}
}

func checkRateLimit(t *testing.T, evs []*Event, x *storyIndex, res *Result) {
	r := res.Stories.RateLimit
	from, until := r.Start.UnixMicro(), r.End.UnixMicro()
	n := 0
	for _, e := range evs {
		if e.Type == Failed && e.Status.EnhancedCode == "4.7.28" && e.Msg.SendingDomain == r.SendingDomain &&
			e.Msg.SendingIP == r.SendingIP && e.Msg.RecipientDomain == r.RecipientDomain && e.Time >= from && e.Time < until {
			n++
			if e.Status.Code != 421 || !strings.Contains(e.Status.Message, "- gsmtp") {
				t.Errorf("rate-limit failure %d %q to %s", e.Status.Code, e.Status.Message, e.Msg.Recipient)
			}
		}
	}
	if n < 20 || n != r.Deferrals || r.End.Sub(r.Start) > 6*time.Hour {
		t.Errorf("%d 4.7.28 deferrals in %v..%v (manifest %d)", n, r.Start, r.End, r.Deferrals)
	}
	for _, m := range r.Messages {
		f := x.final(m.MessageID)
		if m.Deferrals == 0 || f == nil || f.Type != Delivered || f.Time < until {
			t.Errorf("wave message %s: %d deferrals, final %v", m.MessageID, m.Deferrals, f)
		}
	}
}

func checkTypoDomain(t *testing.T, x *storyIndex, res *Result) {
	td := res.Stories.TypoDomain
	if td.Domain != "gmial.com" || len(td.Addresses) < 3 {
		t.Fatalf("typo domain %+v", td)
	}
	for _, a := range td.Addresses {
		var noMX, expired int
		for _, e := range x.byAddr[a] {
			switch {
			case e.Type == Failed && e.Status.Code == 498 && e.Status.Message == "No MX for gmial.com":
				noMX++
			case e.Type == Failed && e.Status.Code == 602 && e.Status.Reason == ReasonOld && e.Status.LastCode == 498:
				expired++
			case e.Type != Accepted:
				t.Errorf("%s: unexpected %s event", a, e.Type)
			}
		}
		if noMX < 2 || expired != 1 {
			t.Errorf("%s: %d 498 failures and %d expiries", a, noMX, expired)
		}
	}
}

func checkLookalike(t *testing.T, x *storyIndex, res *Result) {
	la := res.Stories.Lookalike
	if la.BouncedAddress != "john_smith@initech.com" || la.DeliveredAddress != "john.smith@initech.com" {
		t.Fatalf("lookalike %+v", la)
	}
	f := x.final(la.Bounce.MessageID)
	if f == nil || f.Status.Code != 550 || f.Status.EnhancedCode != "5.1.1" || f.Status.Reason != ReasonBounce || f.Msg.Recipient != la.BouncedAddress {
		t.Errorf("bounce of %s: %v", la.BouncedAddress, f)
	}
	if findBounce(res.Suppressions[la.SendingDomain], la.BouncedAddress) == nil {
		t.Errorf("%s not on the bounce list", la.BouncedAddress)
	}
	delivered := 0
	for _, e := range x.byAddr[la.DeliveredAddress] {
		if e.Type == Delivered && e.Status.Code == 250 && e.Status.MXHost == la.MXHost {
			delivered++
		}
	}
	if delivered < 2 || delivered != len(la.Delivered) {
		t.Errorf("%s delivered %d times (manifest %d)", la.DeliveredAddress, delivered, len(la.Delivered))
	}
}

func checkNeverOpened(t *testing.T, x *storyIndex, res *Result) {
	no := res.Stories.NeverOpened
	evs := x.byMsg[no.MessageID]
	var delivered *Event
	for _, e := range evs {
		switch e.Type {
		case Delivered:
			delivered = e
		case Opened, Clicked, Failed, Complained, Unsubscribed:
			t.Errorf("the never-opened confirmation has a %s event", e.Type)
		}
	}
	if delivered == nil || delivered.Status.Code != 250 || delivered.Status.MXHost != "aspmx.l.google.com" ||
		delivered.Msg.Recipient != "jane.doe@initech.com" || delivered.Msg.Subject != "Confirm your email address" ||
		!reflect.DeepEqual(delivered.Msg.Tags, []string{"confirmation"}) {
		t.Fatalf("never-opened delivery %+v", delivered)
	}
	if res.End.Sub(delivered.When()) < 24*time.Hour || !delivered.When().Equal(no.DeliveredAt) {
		t.Errorf("delivered at %v (manifest %v), want more than a day before %v", delivered.When(), no.DeliveredAt, res.End)
	}
}

func checkComplaints(t *testing.T, x *storyIndex, res *Result) {
	cs := res.Stories.Complaints
	if len(cs.Complaints) < 3 || len(cs.Dropped) != len(cs.Complaints) {
		t.Fatalf("complaints story %+v", cs)
	}
	lists := res.Suppressions[cs.SendingDomain]
	when := map[string]time.Time{}
	for _, c := range cs.Complaints {
		found := false
		for _, e := range x.byMsg[c.MessageID] {
			found = found || e.Type == Complained && e.When().Equal(c.ComplainedAt)
		}
		if !found || findComplaint(lists, c.Address) == nil {
			t.Errorf("complaint of %s: event %v, listed %v", c.Address, found, findComplaint(lists, c.Address) != nil)
		}
		when[c.Address] = c.ComplainedAt
	}
	for _, m := range cs.Dropped {
		f := x.final(m.MessageID)
		if f == nil || f.Status.Code != 607 || f.Status.Reason != ReasonSuppressComplaint || !f.When().After(when[m.Recipient]) {
			t.Errorf("drop of %s: %v", m.Recipient, f)
		}
	}
	addrs := make([]string, 0, len(when))
	for a := range when {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		d := a[strings.IndexByte(a, '@')+1:]
		if d == "gmail.com" {
			t.Errorf("complaint from %s: Gmail sends no per-message complaints", a)
		}
	}
}

// TestVerifyStoryStored: whatever hour the account ends, the last "Verify
// your identity" message is still in Mailgun's 3 days of storage and the
// older ones are not, so the quick view of the demo finds exactly one.
func TestVerifyStoryStored(t *testing.T) {
	for _, h := range []int{0, 9, 13, 23} {
		end := testEnd.Add(time.Duration(h) * time.Hour)
		_, res := collect(t, Config{Seed: 11, Events: 1000, End: end})
		msgs := res.Stories.Verify.Messages
		if len(msgs) != 3 {
			t.Fatalf("end %v: %d verify messages, want 3", end, len(msgs))
		}
		for i, m := range msgs {
			age := end.Sub(m.Accepted)
			if stored := age < 72*time.Hour; stored != (i == len(msgs)-1) || age < 48*time.Hour {
				t.Errorf("end %v: message %d accepted %v before the end", end, i, age)
			}
		}
	}
}
