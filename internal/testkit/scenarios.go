package testkit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/importer"
)

// ScenarioT0 is the time scenario events are placed from.
var ScenarioT0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// SEvent is one event of a scenario message, at a time after ScenarioT0.
type SEvent struct {
	At                     time.Duration
	Type, Severity, Reason string
	Code                   int
	Enhanced, Reply, Desc  string
	MXHost                 string
}

// SMessage is one message of a scenario: to Recipient (the scenario's
// person when empty), from SendingDomain.
type SMessage struct {
	Recipient     string
	SendingDomain string
	Subject       string
	Tags          []string
	NoMessageID   bool
	Events        []SEvent
}

// SEntry is a suppression-list entry of a scenario's person (or
// Address), made at At; Removed (when not zero) is when it was taken off.
type SEntry struct {
	Address       string
	SendingDomain string
	List          string
	Code, Error   string
	At, Removed   time.Duration
}

// Scenario is one recipient history and what trace must answer about it:
// the overall verdict kind, each message's kind (in time order, when
// given), and words the summary or next step must hold.
type Scenario struct {
	Name     string
	Person   string
	Now      time.Duration
	Messages []SMessage
	Entries  []SEntry
	// Subject, SendingDomain and EventIDOf narrow the trace as its flags
	// do; EventIDOf numbers the message (from 1) whose first event's id
	// is given, 0 for none.
	Subject       string
	SendingDomain string
	EventIDOf     int
	Kind          string
	MessageKinds  []string
	Says          []string
}

// Events of scenario messages.
func Accepted(at time.Duration) SEvent { return SEvent{At: at, Type: maildiag.Accepted} }

func Delivered(at time.Duration, mx string) SEvent {
	return SEvent{At: at, Type: maildiag.Delivered, Code: 250, Reply: "250 2.0.0 OK", MXHost: mx}
}

func Opened(at time.Duration) SEvent  { return SEvent{At: at, Type: maildiag.Opened} }
func Clicked(at time.Duration) SEvent { return SEvent{At: at, Type: maildiag.Clicked} }

func Complained(at time.Duration) SEvent { return SEvent{At: at, Type: maildiag.Complained} }

func Deferred(at time.Duration, code int, enh, reply, mx string) SEvent {
	return SEvent{At: at, Type: maildiag.Failed, Severity: maildiag.SeverityTemporary, Code: code, Enhanced: enh, Reply: reply, MXHost: mx}
}

func Bounced(at time.Duration, code int, enh, reply, mx string) SEvent {
	return SEvent{At: at, Type: maildiag.Failed, Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonBounce, Code: code,
		Enhanced: enh, Reply: reply, MXHost: mx}
}

// Dropped is Mailgun dropping a message for a list: reason
// suppress-bounce, suppress-unsubscribe or suppress-complaint.
func Dropped(at time.Duration, reason string) SEvent {
	d, _ := maildiag.DropOf(reason)
	return SEvent{At: at, Type: maildiag.Failed, Severity: maildiag.SeverityPermanent, Reason: reason, Code: d.Code, Desc: d.Words}
}

// TooOld is Mailgun giving up after its retry window.
func TooOld(at time.Duration) SEvent {
	return SEvent{At: at, Type: maildiag.Failed, Severity: maildiag.SeverityPermanent, Reason: maildiag.ReasonOld,
		Desc: "Too old"}
}

func Rejected(at time.Duration, reason, desc string) SEvent {
	return SEvent{At: at, Type: maildiag.Rejected, Reason: reason, Desc: desc}
}

// ScenarioFiles renders scenarios as Mailgun exports: the events as
// Events API JSON lines, and one bounces, unsubscribes or complaints CSV
// per sending domain and list. Event ids are returned per scenario and
// message (the first event's).
func ScenarioFiles(scenarios []Scenario) (events []byte, lists map[[2]string][]byte, firstIDs [][]string) {
	var b bytes.Buffer
	lists = map[[2]string][]byte{}
	n := 0
	for si, s := range scenarios {
		var ids []string
		for mi, m := range s.Messages {
			rcpt := cmp.Or(m.Recipient, s.Person)
			mid := ""
			if !m.NoMessageID {
				mid = fmt.Sprintf("20261120090000.%d.%04X%04X@%s", mi+1, si, mi, m.SendingDomain)
			}
			for ei, e := range m.Events {
				n++
				id := fmt.Sprintf("sc%03dm%02de%02dXXXXXXXXXXX", si, mi, ei)[:22]
				if ei == 0 {
					ids = append(ids, id)
				}
				rec := map[string]any{
					"event": e.Type, "id": id, "timestamp": float64(ScenarioT0.Add(e.At).UnixMicro()) / 1e6,
					"recipient": rcpt, "recipient-domain": maildiag.DomainOf(rcpt), "tags": orEmpty(m.Tags),
					"envelope": map[string]any{"sender": "no-reply@" + m.SendingDomain, "targets": rcpt, "transport": "smtp", "sending-ip": "203.0.113.9"},
					"storage":  map[string]any{"url": "https://storage-us-east4.api.mailgun.net/v3/domains/" + m.SendingDomain + "/messages/K" + id, "key": "K" + id},
				}
				headers := map[string]any{"to": rcpt, "from": "Shop <no-reply@" + m.SendingDomain + ">", "subject": m.Subject}
				if mid != "" {
					headers["message-id"] = mid
				}
				rec["message"] = map[string]any{"headers": headers}
				if e.Severity != "" {
					rec["severity"] = e.Severity
				}
				if e.Reason != "" {
					rec["reason"] = e.Reason
				}
				if e.Code != 0 || e.Reply != "" || e.Desc != "" || e.MXHost != "" {
					rec["delivery-status"] = map[string]any{"code": e.Code, "message": e.Reply, "description": e.Desc, "mx-host": e.MXHost,
						"enhanced-code": e.Enhanced, "attempt-no": 1}
				}
				line, err := json.Marshal(rec)
				if err != nil {
					panic(err)
				}
				b.Write(line)
				b.WriteByte('\n')
			}
		}
		firstIDs = append(firstIDs, ids)
		for _, e := range s.Entries {
			key := [2]string{e.SendingDomain, e.List}
			if lists[key] == nil {
				lists[key] = []byte(map[string]string{
					maildiag.ListBounces:      "address,code,error,created_at\n",
					maildiag.ListUnsubscribes: "address,tags,created_at\n",
					maildiag.ListComplaints:   "address,created_at\n",
				}[e.List])
			}
			addr := cmp.Or(e.Address, s.Person)
			at := ScenarioT0.Add(e.At).Unix()
			var row string
			switch e.List {
			case maildiag.ListBounces:
				row = fmt.Sprintf("%s,%s,%q,%d\n", addr, e.Code, e.Error, at)
			case maildiag.ListUnsubscribes:
				row = fmt.Sprintf("%s,*,%d\n", addr, at)
			default:
				row = fmt.Sprintf("%s,%d\n", addr, at)
			}
			lists[key] = append(lists[key], row...)
		}
	}
	return b.Bytes(), lists, firstIDs
}

// ScenarioIndex imports the scenarios into a new index in a temporary
// directory, marks the entries removed that were, and returns its path
// and the first event id of each scenario's messages.
func ScenarioIndex(t testing.TB, scenarios []Scenario) (string, [][]string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scenarios.db")
	db, w := OpenIndex(t, path)
	events, lists, ids := ScenarioFiles(scenarios)
	load := func(data []byte, source, sendingDomain string) {
		im, err := importer.New(ctx, db, w, importer.Options{SendingDomain: sendingDomain}, nil)
		if err != nil {
			t.Fatal(err)
		}
		imp, err := im.Import(ctx, bytes.NewReader(data), source, importer.Progress{})
		if err != nil || imp.Rejects > 0 {
			t.Fatalf("import %s: %v (%d rejects)", source, err, imp.Rejects)
		}
	}
	load(events, "scenarios.jsonl", "")
	for key, data := range lists {
		load(data, key[0]+"_"+key[1]+".csv", key[0])
	}
	for _, s := range scenarios {
		for _, e := range s.Entries {
			if e.Removed != 0 {
				if err := w.MarkSuppressionRemoved(ctx, e.SendingDomain, e.List, cmp.Or(e.Address, s.Person), ScenarioT0.Add(e.Removed).UnixMicro()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return path, ids
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
