package mgtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/mgserver"
	"github.com/maildiag/maildiag/synth"
)

// Entries planted at acme.com beside the generator's domain-wide block.
const (
	PlantedBounce    = "former.staff@acme.com"      // user unknown, not the block
	PlantedUnsub     = "newsletter.reader@acme.com" // unsubscribed from one tag
	PlantedComplaint = "angry.reader@acme.com"      // reported spam
)

// NewStories serves the generator's account with its stories (the
// domain-wide block at acme.com among them) and, on the block's sending
// domain, a bounce at acme.com for another reason (with its failed
// event), an unsubscribe and a complaint. Its clock stays at the
// account's end.
func NewStories(t testing.TB) *Server {
	t.Helper()
	acct, res, err := mgserver.FromSynth(context.Background(), synth.Config{Seed: 11, Events: 8000, End: synth.DefaultEnd})
	if err != nil {
		t.Fatal(err)
	}
	sd := res.Stories.DomainBlock.SendingDomain
	at := res.End.Add(-10 * 24 * time.Hour).Truncate(time.Second)
	ev := fmt.Sprintf(`{"event":"failed","id":"actTestUserUnknown01","timestamp":%d.000000,"log-level":"error","severity":"permanent",
		"reason":"bounce","recipient":%q,"recipient-domain":"acme.com","envelope":{"sender":"bounce@%s","transport":"smtp","targets":%q},
		"delivery-status":{"code":550,"enhanced-code":"5.1.1","message":"5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table","description":"","attempt-no":1,"mx-host":"eu-smtp-inbound-1.mimecast.com"},
		"message":{"headers":{"message-id":"acttest.1@%s","to":%q,"from":"Billing <billing@%s>","subject":"Your invoice"}},
		"flags":{"is-delayed-bounce":false}}`, at.Unix(), PlantedBounce, sd, PlantedBounce, PlantedBounce, sd, PlantedBounce, sd)
	for _, err := range []error{
		acct.AddEvent(sd, []byte(ev), nil),
		acct.AddBounce(sd, synth.Bounce{Address: PlantedBounce, Code: "550", Error: "5.1.1 <" + PlantedBounce + ">: Recipient address rejected: User unknown in virtual mailbox table", CreatedAt: at.Add(time.Second)}),
		acct.AddUnsubscribe(sd, synth.Unsubscribe{Address: PlantedUnsub, Tags: []string{"newsletter"}, CreatedAt: at.Add(time.Hour)}),
		acct.AddComplaint(sd, synth.Complaint{Address: PlantedComplaint, CreatedAt: at.Add(2 * time.Hour)}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return Serve(t, acct, res, mgserver.Options{})
}

// Block is the story of the domain-wide block at acme.com.
func (s *Server) Block() *synth.DomainBlock { return s.Res.Stories.DomainBlock }

// Lists is every entry of every suppression list of every sending domain,
// as text that includes codes, errors, tags and creation times.
type Lists map[string]string // "domain list address" -> entry

// Lists takes a snapshot of the server's lists.
func (s *Server) Lists() Lists {
	l := Lists{}
	for _, d := range s.Acct.Domains() {
		for _, b := range s.Acct.Bounces(d) {
			l[d+" bounces "+b.Address] = fmt.Sprintf("code=%s error=%q created=%s", b.Code, b.Error, b.CreatedAt.UTC().Format(time.RFC3339))
		}
		for _, u := range s.Acct.Unsubscribes(d) {
			l[d+" unsubscribes "+u.Address] = fmt.Sprintf("tags=%v created=%s", u.Tags, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		for _, c := range s.Acct.Complaints(d) {
			l[d+" complaints "+c.Address] = "created=" + c.CreatedAt.UTC().Format(time.RFC3339)
		}
	}
	return l
}

// Without is the snapshot minus the entries drop selects.
func (l Lists) Without(drop func(domain, list, address string) bool) Lists {
	out := Lists{}
	for k, v := range l {
		f := strings.SplitN(k, " ", 3)
		if !drop(f[0], f[1], f[2]) {
			out[k] = v
		}
	}
	return out
}

// Diff describes how two snapshots differ, "" when they are the same.
func (l Lists) Diff(want Lists) string {
	var d []string
	for k, v := range want {
		if g, ok := l[k]; !ok {
			d = append(d, "missing "+k)
		} else if g != v {
			d = append(d, fmt.Sprintf("%s: got %s, want %s", k, g, v))
		}
	}
	for k := range l {
		if _, ok := want[k]; !ok {
			d = append(d, "extra "+k)
		}
	}
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("... %d more", len(d)-10))
	}
	return strings.Join(d, "\n")
}

// AtAcme selects the entries of one list (any list when "") at acme.com.
func AtAcme(list string) func(domain, l, address string) bool {
	return func(_, l, address string) bool {
		return strings.HasSuffix(address, "@acme.com") && (list == "" || l == list)
	}
}

// Message is a message of the account with one recipient and a stored
// copy.
type Message struct {
	ID, Recipient, AcceptedID, StorageKey string
	Accepted                              time.Time
}

// FindMessage returns a message of the account with exactly one recipient
// and a storage URL, accepted within [from, to] before the account's end,
// to a recipient on no suppression list of its sending domain.
func (s *Server) FindMessage(t testing.TB, from, to time.Duration) Message {
	t.Helper()
	for _, d := range s.Acct.Domains() {
		listed := map[string]bool{}
		for _, b := range s.Acct.Bounces(d) {
			listed[b.Address] = true
		}
		for _, u := range s.Acct.Unsubscribes(d) {
			listed[u.Address] = true
		}
		for _, c := range s.Acct.Complaints(d) {
			listed[c.Address] = true
		}
		recips := map[string]map[string]bool{}
		var cands []mgserver.Event
		for _, ev := range s.Acct.Events(d) {
			if ev.MessageID == "" {
				continue
			}
			if recips[ev.MessageID] == nil {
				recips[ev.MessageID] = map[string]bool{}
			}
			if ev.Recipient != "" {
				recips[ev.MessageID][ev.Recipient] = true
			}
			age := s.Res.End.Sub(ev.When())
			if ev.Type == "accepted" && ev.StorageURL != "" && age >= from && age <= to && !tokenMessage(ev.EventsJSON) {
				cands = append(cands, ev)
			}
		}
		for _, ev := range cands {
			if len(recips[ev.MessageID]) == 1 && !listed[strings.ToLower(ev.Recipient)] {
				return Message{ID: ev.MessageID, Recipient: ev.Recipient, AcceptedID: ev.ID, StorageKey: ev.StorageKey, Accepted: ev.When()}
			}
		}
	}
	t.Fatalf("no single-recipient stored message accepted %v to %v before the end", from, to)
	return Message{}
}

// tokenMessage tells whether an event's message carries a link that
// expires (a confirmation, a password reset, a sign-in code, an identity
// check): resend refuses old ones, which is not what FindMessage's callers
// test.
func tokenMessage(item []byte) bool {
	for _, tag := range []string{`"confirmation"`, `"password-reset"`, `"login-code"`, `"verify-identity"`} {
		if bytes.Contains(item, []byte(tag)) {
			return true
		}
	}
	return false
}

// CheckNoKey fails when Key appears in any of texts or in any file under
// dir (an index, its WAL, backups).
func CheckNoKey(t testing.TB, dir string, texts ...string) {
	t.Helper()
	for _, o := range texts {
		if strings.Contains(o, Key) {
			t.Errorf("the API key appears in the output: %.200s", o)
		}
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), Key) {
			t.Errorf("the API key is in %s", p)
		}
		return nil
	})
}
