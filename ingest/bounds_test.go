package ingest

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// zeros reads NUL bytes, like /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// allocated returns the bytes f allocates, all goroutines together.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestNULBytesBounded: 200 MB of NUL bytes (no line break) took 1.8 GB of
// memory and was refused only once read whole, with all of it quoted in
// the error; /dev/zero ran out of memory. The first line is read up to
// maxRecord bytes, and the input is refused as ErrTooLong with a short
// message.
func TestNULBytesBounded(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  io.Reader
	}{
		{"200 MB of NUL bytes", io.LimitReader(zeros{}, 200<<20)},
		{"/dev/zero", zeros{}},
	} {
		var r result
		alloc := allocated(func() { r = readWith(t, tt.src, Options{}) })
		if !errors.Is(r.err, ErrTooLong) {
			t.Errorf("%s: err = %v, want ErrTooLong", tt.name, r.err)
		}
		if r.err != nil && len(r.err.Error()) > 300 {
			t.Errorf("%s: the error is %d bytes long", tt.name, len(r.err.Error()))
		}
		if alloc > 8*maxRecord {
			t.Errorf("%s: allocated %d MB, want at most %d MB", tt.name, alloc>>20, 8*maxRecord>>20)
		}
	}
}

// TestLongLineQuotedShort: a 5 MB line of text put 5 MB on stderr, quoted
// whole in "not a Mailgun export".
func TestLongLineQuotedShort(t *testing.T) {
	r := read(t, []byte(strings.Repeat("x", 5<<20)+"\nmore\n"), Options{})
	if !errors.Is(r.err, ErrUnknownShape) {
		t.Fatalf("err = %v, want ErrUnknownShape", r.err)
	}
	if n := len(r.err.Error()); n > 300 {
		t.Errorf("the error is %d bytes long, want at most 300", n)
	}
	if !strings.Contains(r.err.Error(), "5242880 bytes") {
		t.Errorf("the error %q does not say how long the line is", r.err)
	}
}

// TestLongRecordRejected: a record longer than maxRecord, in JSON lines or
// CSV, is one reject holding its first maxRecord bytes; the records after
// it load, and memory stays within a few records' worth.
func TestLongRecordRejected(t *testing.T) {
	ev := `{"event":"delivered","id":"a","timestamp":1,"recipient":"x@test.com"}`
	long := `{"event":"delivered","id":"b","timestamp":1,"recipient":"` + strings.Repeat("y", maxRecord+(1<<20)) + `"}`
	jsonl := []byte(ev + "\n" + long + "\n" + ev + "\n" + ev + "\n")
	csv := []byte("timestamp,event,id,recipient\n1,delivered,a,x@test.com\n1,delivered,b," + strings.Repeat("y", maxRecord+(1<<20)) + "\n1,delivered,c,x@test.com\n")
	for _, tt := range []struct {
		name string
		in   []byte
		good int
	}{{"json lines", jsonl, 3}, {"csv", csv, 2}} {
		var r result
		alloc := allocated(func() { r = mustRead(t, tt.in, Options{}) })
		if len(r.events) != tt.good || len(r.rejects) != 1 {
			t.Fatalf("%s: got %d events %d rejects (%s), want %d and 1", tt.name, len(r.events), len(r.rejects), reasons(r.rejects), tt.good)
		}
		rj := r.rejects[0]
		if rj.Line != 2 && !(tt.name == "csv" && rj.Line == 3) {
			t.Errorf("%s: reject at line %d", tt.name, rj.Line)
		}
		if !strings.Contains(rj.Reason, "longer than") || len(rj.Raw) > maxRecord {
			t.Errorf("%s: reject %q holding %d bytes, want 'longer than' and at most %d", tt.name, rj.Reason, len(rj.Raw), maxRecord)
		}
		if !bytes.HasPrefix(tt.in[rj.Offset:], rj.Raw) {
			t.Errorf("%s: reject offset %d does not point at its text", tt.name, rj.Offset)
		}
		if alloc > 8*maxRecord {
			t.Errorf("%s: allocated %d MB for a %d MB input", tt.name, alloc>>20, len(tt.in)>>20)
		}
	}
}

// TestLongValueSkipped: a JSON value (a first value, or an array element)
// longer than maxRecord is one reject, however much of it there is; the
// records after it load.
func TestLongValueSkipped(t *testing.T) {
	ev := `{"event":"delivered","id":"a","timestamp":1,"recipient":"x@test.com"}`
	long := `{"event":"delivered","id":"b","timestamp":1,"recipient":"` + strings.Repeat("y", 2*maxRecord) + `","x":[{"a":"}"}]}`
	for name, in := range map[string]string{
		"first value":   long + "\n" + ev + "\n" + ev + "\n",
		"array element": "[" + ev + "," + long + "," + ev + "]",
		"pretty values": "{\n  \"event\": \"delivered\", \"id\": \"a\", \"timestamp\": 1\n}\n" + long + "\n{\n  \"event\": \"delivered\", \"id\": \"c\", \"timestamp\": 1\n}\n",
	} {
		r := mustRead(t, []byte(in), Options{})
		if len(r.events) != 2 || len(r.rejects) != 1 {
			t.Errorf("%s: got %d events %d rejects (%s), want 2 and 1", name, len(r.events), len(r.rejects), reasons(r.rejects))
			continue
		}
		if rj := r.rejects[0]; !strings.Contains(rj.Reason, "longer than") || len(rj.Raw) != maxRecord {
			t.Errorf("%s: reject %q holding %d bytes", name, rj.Reason, len(rj.Raw))
		}
	}
}

// TestRejectReasonShort: a reject's reason quoted the bad field whole (a
// 5 MB timestamp put 5 MB on stderr once per reject); it quotes at most
// maxQuoted bytes of it, and the record is still whole in Raw.
func TestRejectReasonShort(t *testing.T) {
	huge := strings.Repeat("9x", 5<<19)
	for name, in := range map[string]string{
		"csv timestamp":    "timestamp,event,id,recipient\n" + huge + ",delivered,a,x@test.com\n",
		"json timestamp":   `{"event":"delivered","id":"a","timestamp":"` + huge + `"}` + "\n",
		"suppression no @": "address,code,error,created_at\n" + huge + ",550,x,\n",
	} {
		r := mustRead(t, []byte(in), Options{SendingDomain: "mg.x.io"})
		if len(r.rejects) != 1 {
			t.Errorf("%s: %d rejects (%.300s), want 1", name, len(r.rejects), reasons(r.rejects))
			continue
		}
		rj := r.rejects[0]
		if len(rj.Reason) > 300 {
			t.Errorf("%s: the reason is %d bytes long: %.200s", name, len(rj.Reason), rj.Reason)
		}
		if len(rj.Raw) < len(huge) {
			t.Errorf("%s: Raw holds %d bytes, want the whole record", name, len(rj.Raw))
		}
	}
}
