package readrows

import (
	"slices"
	"testing"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

func TestToParse(t *testing.T) {
	rows := []Row{
		{maildiag.Accepted, 7, 1},   // its JSON tells the message-id and route
		{maildiag.Opened, 7, 1},     // its delivery is told by the accepted event
		{maildiag.Opened, 8, 1},     // nothing else tells delivery 8: this one
		{maildiag.Clicked, 8, 1},    // but only one of it
		{maildiag.Failed, 9, 1},     // nothing else tells delivery 9: this one too
		{maildiag.Rejected, 0, 0},   // from the failures table, even without a message-id
		{maildiag.Complained, 0, 2}, // no message-id: its JSON is all there is
	}
	want := []bool{true, false, true, false, true, false, true}
	if got := ToParse(rows, false); !slices.Equal(got, want) {
		t.Errorf("ToParse = %v, want %v", got, want)
	}
	for i, p := range ToParse(rows, true) {
		if !p {
			t.Errorf("with full, row %d is not parsed", i)
		}
	}
}

func TestEvents(t *testing.T) {
	f := &analyze.Failure{Type: maildiag.Failed, EventID: "F", Code: 550, Class: "user-unknown", Rule: "r", Gateway: "Gmail"}
	rows := []Stored{
		{Row: Row{maildiag.Delivered, 7, 1}, Parse: true, Raw: []byte(`{"event":"delivered","id":"D","timestamp":1,"message":{"headers":{"message-id":"m@x"}}}`),
			Gateway: "Mimecast", TimeUS: 10, SendingDomain: "mg.example.com", Address: "a@acme.com"},
		{Row: Row{maildiag.Opened, 7, 1}, TimeUS: 20, SendingDomain: "mg.example.com", Address: "a@acme.com"},
		{Row: Row{maildiag.Failed, 9, 1}, Failure: f, TimeUS: 30, Address: "a@acme.com"},
	}
	evs := Events(rows, false)
	d, o, x := evs[0], evs[1], evs[2]
	if d.ID != "D" || d.TimeUS != 10 || d.Gateway != "Mimecast" || d.Raw != nil || d.Recipient != "a@acme.com" || d.RecipientDomain != "acme.com" {
		t.Errorf("delivered: %+v", d)
	}
	if o.Type != maildiag.Opened || o.MessageID != "m@x" || o.SendingDomain != "mg.example.com" {
		t.Errorf("opened: type %q, message-id %q (its delivery's), sending domain %q", o.Type, o.MessageID, o.SendingDomain)
	}
	if x.ID != "F" || x.Code != 550 || x.Class != "user-unknown" || x.Gateway != "Gmail" || x.TimeUS != 30 {
		t.Errorf("failure: %+v", x)
	}
	if full := Events(rows, true); full[0].Raw == nil {
		t.Error("with full, the JSON is kept")
	}
}
