package ingest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
)

const eventsCSV = `timestamp,event,id,recipient,delivery-status.code,delivery-status.message,message-id,subject,tags
1529692199.626182,delivered,ev1,John@Example.com,250,OK,<m1@mg.example.com>,Hello,a;b
2024-07-08T16:30:18.530Z,failed,ev2,x@test.com,550,"550 5.1.1 no such user, sorry
second line of the reply",m2@mg.example.com,"Subject, with comma",t1
1529692200,failed,ev3,y@test.com,451,"4.7.652 ""quoted"" reply",m3@mg.example.com,Hi,

1529692201,delivered,ev4,z@test.com
"Thu, 11 Dec 2025 01:49:40 UTC",opened,ev5,w@test.com,,,m5@mg.example.com,Sub,
`

func TestCSVEvents(t *testing.T) {
	for _, crlf := range []bool{false, true} {
		in := eventsCSV
		if crlf {
			in = strings.ReplaceAll(in, "\n", "\r\n")
		}
		for _, opts := range []Options{{}, {Workers: 1, ChunkSize: 16}} {
			r := mustRead(t, []byte(in), opts)
			checkEventsCSV(t, r, crlf)
		}
	}
	// Gzipped and read a byte at a time.
	r := readWith(t, &oneByteReader{bytes.NewReader(gz(t, []byte(eventsCSV)))}, Options{ChunkSize: 10})
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkEventsCSV(t, r, false)
}

func checkEventsCSV(t *testing.T, r result, crlf bool) {
	t.Helper()
	want := []maildiag.Event{
		{TimeUS: 1529692199626182, Type: "delivered", ID: "ev1", SendingDomain: "mg.example.com", Recipient: "john@example.com",
			RecipientDomain: "example.com", Code: 250, Reply: "OK", MessageID: "m1@mg.example.com", Subject: "Hello", Tags: []string{"a", "b"}},
		{TimeUS: isoMicros(t, "2024-07-08T16:30:18.530Z"), Type: "failed", ID: "ev2", SendingDomain: "mg.example.com", Recipient: "x@test.com",
			RecipientDomain: "test.com", Code: 550, EnhancedCode: "5.1.1", Reply: "550 5.1.1 no such user, sorry\nsecond line of the reply",
			MessageID: "m2@mg.example.com", Subject: "Subject, with comma", Tags: []string{"t1"}},
		{TimeUS: 1529692200_000000, Type: "failed", ID: "ev3", SendingDomain: "mg.example.com", Recipient: "y@test.com",
			RecipientDomain: "test.com", Code: 451, EnhancedCode: "4.7.652", Reply: `4.7.652 "quoted" reply`,
			MessageID: "m3@mg.example.com", Subject: "Hi"},
		{TimeUS: rfc822(t, "Thu, 11 Dec 2025 01:49:40 UTC"), Type: "opened", ID: "ev5", SendingDomain: "mg.example.com", Recipient: "w@test.com",
			RecipientDomain: "test.com", MessageID: "m5@mg.example.com", Subject: "Sub"},
	}
	if len(r.events) != len(want) {
		t.Fatalf("crlf %v: got %d events, want %d (rejects: %s)", crlf, len(r.events), len(want), reasons(r.rejects))
	}
	for i := range want {
		for _, d := range diffEvent(r.events[i], want[i]) {
			t.Errorf("crlf %v: row %d: %s", crlf, i+1, d)
		}
	}
	// Raw is the row as a JSON object of header -> value.
	wantRaw := `{"timestamp":"1529692199.626182","event":"delivered","id":"ev1","recipient":"John@Example.com","delivery-status.code":"250","delivery-status.message":"OK","message-id":"\u003cm1@mg.example.com\u003e","subject":"Hello","tags":"a;b"}`
	if !jsonEqual(r.events[0].Raw, []byte(wantRaw)) {
		t.Errorf("row 1 Raw %s, want %s", r.events[0].Raw, wantRaw)
	}
	// The short row on line 7 (after a 2-line row and a blank line).
	if len(r.rejects) != 1 {
		t.Fatalf("got %d rejects (%s), want 1", len(r.rejects), reasons(r.rejects))
	}
	rj := r.rejects[0]
	if rj.Line != 7 {
		t.Errorf("reject line %d, want 7", rj.Line)
	}
	if want := "4 fields, the header has 9"; !strings.Contains(rj.Reason, want) {
		t.Errorf("reject reason %q, want it to contain %q", rj.Reason, want)
	}
	if string(rj.Raw) != "1529692201,delivered,ev4,z@test.com" {
		t.Errorf("reject Raw %q, want the row", rj.Raw)
	}
	if got := r.sum.Shapes; !mapsEqual(got, map[string]int{"csv": 4}) {
		t.Errorf("shapes %v, want csv 4", got)
	}
}

// TestCSVOffsets: the offset of a rejected row points at it.
func TestCSVOffsets(t *testing.T) {
	in := []byte(eventsCSV)
	r := mustRead(t, in, Options{})
	if len(r.rejects) != 1 {
		t.Fatalf("got %d rejects", len(r.rejects))
	}
	off := r.rejects[0].Offset
	if want := int64(bytes.Index(in, []byte("1529692201,"))); off != want {
		t.Errorf("reject offset %d, want %d", off, want)
	}
}

// TestCSVStrayQuote: a row with a stray quote is rejected at its line and
// does not swallow the rows after it.
func TestCSVStrayQuote(t *testing.T) {
	in := "timestamp,event,id\n1,delivered,a\"b\n2,delivered,c\n3,delivered,d\n"
	r := mustRead(t, []byte(in), Options{})
	if len(r.events) != 2 || r.events[0].ID != "c" || r.events[1].ID != "d" {
		t.Fatalf("events %+v, want c and d", r.events)
	}
	if len(r.rejects) != 1 || r.rejects[0].Line != 2 || string(r.rejects[0].Raw) != "1,delivered,a\"b" {
		t.Fatalf("rejects %+v, want line 2 with its row", r.rejects)
	}
	if !strings.Contains(r.rejects[0].Reason, `"`) {
		t.Errorf("reason %q does not mention the quote", r.rejects[0].Reason)
	}
}

// TestCSVTwoStrayQuotes: two rows with a stray quote each: the rows between
// them are rows, not one quoted field.
func TestCSVTwoStrayQuotes(t *testing.T) {
	in := "timestamp,event,id\n1,delivered,a\"b\n2,delivered,c\n3,delivered,d\n4,delivered,e\"f\n5,delivered,g\n"
	r := mustRead(t, []byte(in), Options{})
	var ids []string
	for _, e := range r.events {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "c,d,g" {
		t.Errorf("event ids %v, want c d g", ids)
	}
	if len(r.rejects) != 2 || r.rejects[0].Line != 2 || r.rejects[1].Line != 5 {
		t.Errorf("rejects %+v, want lines 2 and 5", r.rejects)
	}
}

// TestCSVRowErrors: rows that cannot be events are rejected with their line.
func TestCSVRowErrors(t *testing.T) {
	in := "event,timestamp,recipient\n" +
		"delivered,,a@x.com\n" + // no time
		",1,b@x.com\n" + // no event
		"delivered,yesterday,c@x.com\n" + // bad time
		"delivered,1,d@x.com\n"
	r := mustRead(t, []byte(in), Options{})
	if len(r.events) != 1 || r.events[0].Recipient != "d@x.com" || r.events[0].TimeUS != 1_000_000 {
		t.Fatalf("events %+v, want d@x.com at 1 s", r.events)
	}
	if !strings.HasPrefix(r.events[0].ID, "~") {
		t.Errorf("ID %q, want a synthetic id for a row without one", r.events[0].ID)
	}
	wants := []struct {
		line   int64
		reason string
	}{{2, "timestamp"}, {3, "event type"}, {4, "bad timestamp"}}
	if len(r.rejects) != len(wants) {
		t.Fatalf("got %d rejects (%s), want %d", len(r.rejects), reasons(r.rejects), len(wants))
	}
	for i, w := range wants {
		if r.rejects[i].Line != w.line || !strings.Contains(r.rejects[i].Reason, w.reason) {
			t.Errorf("reject %d: line %d %q, want line %d mentioning %q", i, r.rejects[i].Line, r.rejects[i].Reason, w.line, w.reason)
		}
	}
}

// TestCSVAliases: column names are matched after lower-casing and dropping
// spaces, with a BOM before the header.
func TestCSVAliases(t *testing.T) {
	in := "\ufeffEvent Type, Date ,Email,Code,Response,MX-Host,Tag\n" +
		"failed,2024-07-08 16:30:18,A@B.com,550,550 5.1.1 unknown,MX.B.com,x|y\n"
	r := mustRead(t, []byte(in), Options{SendingDomain: "mg.example.com"})
	want := maildiag.Event{TimeUS: isoMicros(t, "2024-07-08T16:30:18Z"), Type: "failed", SendingDomain: "mg.example.com",
		Recipient: "a@b.com", RecipientDomain: "b.com", Code: 550, EnhancedCode: "5.1.1", Reply: "550 5.1.1 unknown",
		MXHost: "mx.b.com", Tags: []string{"x", "y"}}
	if len(r.events) != 1 {
		t.Fatalf("got %d events (%s)", len(r.events), reasons(r.rejects))
	}
	want.ID = r.events[0].ID
	for _, d := range diffEvent(r.events[0], want) {
		t.Error(d)
	}
}

func TestCSVSuppressions(t *testing.T) {
	dec11 := rfc822(t, "Thu, 11 Dec 2025 01:49:40 UTC")
	tests := []struct {
		name string
		in   string
		want []maildiag.Suppression
	}{
		{
			name: "bounces",
			in:   "address,code,error,created_at\nAlice@Example.com,550,No such mailbox,\"Thu, 11 Dec 2025 01:49:40 UTC\"\nbob@example.com,5.1.1,\"Bounced, hard\",\n",
			want: []maildiag.Suppression{
				{SendingDomain: "mg.example.com", List: "bounces", Address: "alice@example.com", Code: "550", Error: "No such mailbox", CreatedUS: dec11},
				{SendingDomain: "mg.example.com", List: "bounces", Address: "bob@example.com", Code: "5.1.1", Error: "Bounced, hard"},
			},
		},
		{
			name: "unsubscribes",
			in:   "address,tags,created_at\nalice@example.com,*,\"Thu, 11 Dec 2025 01:49:40 UTC\"\nbob@example.com,news;promo,1765417780\n",
			want: []maildiag.Suppression{
				{SendingDomain: "mg.example.com", List: "unsubscribes", Address: "alice@example.com", Tags: []string{"*"}, CreatedUS: dec11},
				{SendingDomain: "mg.example.com", List: "unsubscribes", Address: "bob@example.com", Tags: []string{"news", "promo"}, CreatedUS: 1765417780_000000},
			},
		},
		{
			name: "complaints",
			in:   "address,created_at\r\nalice@example.com,\"Thu, 11 Dec 2025 01:49:40 UTC\"\r\n\r\nbob@example.com,\r\n",
			want: []maildiag.Suppression{
				{SendingDomain: "mg.example.com", List: "complaints", Address: "alice@example.com", CreatedUS: dec11},
				{SendingDomain: "mg.example.com", List: "complaints", Address: "bob@example.com"},
			},
		},
		{
			name: "bounces, columns in another order",
			in:   "created_at,error,address,code\n\"Thu, 11 Dec 2025 01:49:40 UTC\",x,a@b.com,550\n",
			want: []maildiag.Suppression{
				{SendingDomain: "mg.example.com", List: "bounces", Address: "a@b.com", Code: "550", Error: "x", CreatedUS: dec11},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRead(t, []byte(tt.in), Options{SendingDomain: "mg.example.com"})
			if len(r.rejects) != 0 {
				t.Fatalf("rejects: %s", reasons(r.rejects))
			}
			checkSuppressions(t, r.sups, tt.want)
			if got := r.sum.Shapes; !mapsEqual(got, map[string]int{"suppression-csv": len(tt.want)}) {
				t.Errorf("shapes %v", got)
			}

			// Without --sending-domain nothing could be stored: the input
			// fails, saying so (it loaded nothing and ended well).
			r = read(t, []byte(tt.in), Options{})
			if !errors.Is(r.err, ErrNoSendingDomain) || !strings.Contains(r.err.Error(), "--sending-domain") || len(r.sups)+len(r.rejects) != 0 {
				t.Fatalf("without a domain: %v, %d suppressions, %d rejects; want ErrNoSendingDomain naming --sending-domain, nothing read",
					r.err, len(r.sups), len(r.rejects))
			}
		})
	}
}

// TestCSVDuplicateColumn: a CSV with two event columns silently used the
// first. A column maildiag reads named twice refuses the input, naming the
// column and both positions; a repeated column it does not read is fine.
func TestCSVDuplicateColumn(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"timestamp,event,recipient,Event\n1,delivered,a@b.com,failed\n", `"Event" names columns 2 and 4`},
		{"address,code,error,created_at,address\na@b.com,550,x,1,c@d.com\n", `"address" names columns 1 and 5`},
	} {
		r := read(t, []byte(tt.in), Options{SendingDomain: "mg.example.com"})
		if !errors.Is(r.err, ErrDuplicateColumn) || !strings.Contains(r.err.Error(), tt.want) || len(r.events)+len(r.sups) != 0 {
			t.Errorf("%q: %v, %d events, %d suppressions; want ErrDuplicateColumn with %s, nothing read", tt.in, r.err, len(r.events), len(r.sups), tt.want)
		}
	}
	r := mustRead(t, []byte("timestamp,event,recipient,note,note\n1,delivered,a@b.com,x,y\n"), Options{})
	if len(r.events) != 1 {
		t.Errorf("a repeated column maildiag does not read: %d events, want 1", len(r.events))
	}
}

func TestCSVUnknownHeader(t *testing.T) {
	for _, in := range []string{
		"name,age\nbob,3\n",
		"timestamp,recipient\n1,a@b.com\n", // no event column
		"hello world\n",
		"address,code,foo\na@b.com,550,x\n",
	} {
		r := read(t, []byte(in), Options{SendingDomain: "mg.example.com"})
		if !errors.Is(r.err, ErrUnknownShape) {
			t.Errorf("%q: err = %v, want ErrUnknownShape", in, r.err)
		}
	}
}

// TestCSVHeaderVariants: header forms spreadsheet tools write.
func TestCSVHeaderVariants(t *testing.T) {
	for name, in := range map[string]string{
		"quoted header":                 "\"timestamp\",\"event\"\n1,delivered\n",
		"BOM":                           "\ufefftimestamp,event\n1,delivered\n",
		"blank line before the header":  "\ntimestamp,event\n1,delivered\n",
		"BOM and quoted header (Excel)": "\ufeff\"timestamp\",\"event\"\n1,delivered\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := read(t, []byte(in), Options{})
			if r.err != nil || len(r.events) != 1 || r.events[0].TimeUS != 1_000_000 {
				t.Errorf("err %v, events %d, want 1", r.err, len(r.events))
			}
		})
	}
}

// TestUnknownShapeMessage: the error says what the first record is NOT.
func TestUnknownShapeMessage(t *testing.T) {
	r := read(t, []byte(`{"foo":1}`+"\n"), Options{})
	if !errors.Is(r.err, ErrUnknownShape) {
		t.Fatalf("err = %v, want ErrUnknownShape", r.err)
	}
	if msg := r.err.Error(); !strings.Contains(msg, "is not a") {
		t.Errorf("error %q should say the record is not a Mailgun record", msg)
	}
	r = read(t, []byte("name,age\n"), Options{})
	if msg := r.err.Error(); strings.Count(msg, "not a Mailgun export") != 1 {
		t.Errorf("error %q repeats itself", msg)
	}
}
