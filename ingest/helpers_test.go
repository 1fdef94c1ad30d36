package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
)

// The Mailgun samples (copied from shared/samples; SOURCES.md there says
// where every line comes from).
const (
	eventsFile       = "events.jsonl"
	webhooksFile     = "webhooks.jsonl"
	suppressionsFile = "suppressions.json"
)

// readFile returns a file under testdata.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lines splits a file into its lines, without the line breaks.
func lines(data []byte) [][]byte {
	ls := bytes.Split(data, []byte("\n"))
	if len(ls) > 0 && len(ls[len(ls)-1]) == 0 {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// result is everything Read produced for one input.
type result struct {
	sum     *Summary
	err     error
	events  []maildiag.Event
	sups    []maildiag.Suppression
	rejects []maildiag.Reject
	batches int
	shapes  [numShapes]int
	bytes   int64 // sum of Batch.Bytes
}

func readWith(t testing.TB, src io.Reader, opts Options) result {
	t.Helper()
	var r result
	r.sum, r.err = Read(context.Background(), src, opts, func(b *Batch) error {
		r.batches++
		r.events = append(r.events, b.Events...)
		r.sups = append(r.sups, b.Suppressions...)
		r.rejects = append(r.rejects, b.Rejects...)
		for i, c := range b.Shapes {
			r.shapes[i] += c
		}
		r.bytes += b.Bytes
		return nil
	})
	return r
}

// read reads in and checks that the summary agrees with what was emitted.
func read(t testing.TB, in []byte, opts Options) result {
	t.Helper()
	r := readWith(t, bytes.NewReader(in), opts)
	if r.err == nil {
		checkSummary(t, r)
	}
	return r
}

// mustRead is read that fails the test on an error.
func mustRead(t testing.TB, in []byte, opts Options) result {
	t.Helper()
	r := read(t, in, opts)
	if r.err != nil {
		t.Fatalf("Read: %v", r.err)
	}
	return r
}

func checkSummary(t testing.TB, r result) {
	t.Helper()
	s := r.sum
	if s == nil {
		t.Fatal("Read returned a nil summary")
	}
	if s.Events != len(r.events) || s.Suppressions != len(r.sups) || s.Rejects != len(r.rejects) {
		t.Errorf("summary counts events=%d suppressions=%d rejects=%d, emitted %d %d %d",
			s.Events, s.Suppressions, s.Rejects, len(r.events), len(r.sups), len(r.rejects))
	}
	want := map[string]int{}
	for i, c := range r.shapes {
		if c > 0 {
			want[Shape(i).String()] = c
		}
	}
	if !mapsEqual(s.Shapes, want) {
		t.Errorf("summary shapes %v, batches say %v", s.Shapes, want)
	}
	total := 0
	for _, c := range s.Shapes {
		total += c
	}
	if total != s.Events+s.Suppressions {
		t.Errorf("shape counts add up to %d, want events+suppressions = %d", total, s.Events+s.Suppressions)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// oneByteReader returns one byte per Read call: every chunk boundary falls
// everywhere once.
type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multiGz compresses each part as its own gzip member and concatenates them.
func multiGz(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	var out []byte
	for _, p := range parts {
		out = append(out, gz(t, p)...)
	}
	return out
}

// microsFromText converts decimal epoch seconds as written (a JSON number or
// its text in a string) to microseconds, exactly, truncating toward zero.
// It is the reference for parseEpoch, independent of it.
func microsFromText(t testing.TB, s string) int64 {
	t.Helper()
	v, ok := exactMicros(s)
	if !ok {
		t.Fatalf("bad reference number %q", s)
	}
	return v
}

func exactMicros(s string) (int64, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, false
	}
	r.Mul(r, big.NewRat(1_000_000, 1))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func isoMicros(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMicro()
}

// diffEvent compares two events field by field, Raw excluded, and returns
// the differences.
func diffEvent(got, want maildiag.Event) []string {
	var d []string
	add := func(name string, g, w any) {
		d = append(d, name+": got "+q(g)+", want "+q(w))
	}
	if got.TimeUS != want.TimeUS {
		add("TimeUS", got.TimeUS, want.TimeUS)
	}
	if got.Type != want.Type {
		add("Type", got.Type, want.Type)
	}
	if got.ID != want.ID {
		add("ID", got.ID, want.ID)
	}
	if got.SendingDomain != want.SendingDomain {
		add("SendingDomain", got.SendingDomain, want.SendingDomain)
	}
	if got.Recipient != want.Recipient {
		add("Recipient", got.Recipient, want.Recipient)
	}
	if got.RecipientDomain != want.RecipientDomain {
		add("RecipientDomain", got.RecipientDomain, want.RecipientDomain)
	}
	if got.Provider != want.Provider {
		add("Provider", got.Provider, want.Provider)
	}
	if got.Severity != want.Severity {
		add("Severity", got.Severity, want.Severity)
	}
	if got.Reason != want.Reason {
		add("Reason", got.Reason, want.Reason)
	}
	if got.LogLevel != want.LogLevel {
		add("LogLevel", got.LogLevel, want.LogLevel)
	}
	if got.Code != want.Code {
		add("Code", got.Code, want.Code)
	}
	if got.EnhancedCode != want.EnhancedCode {
		add("EnhancedCode", got.EnhancedCode, want.EnhancedCode)
	}
	if got.Reply != want.Reply {
		add("Reply", got.Reply, want.Reply)
	}
	if got.Description != want.Description {
		add("Description", got.Description, want.Description)
	}
	if got.MXHost != want.MXHost {
		add("MXHost", got.MXHost, want.MXHost)
	}
	if got.Attempt != want.Attempt {
		add("Attempt", got.Attempt, want.Attempt)
	}
	if got.RetrySeconds != want.RetrySeconds {
		add("RetrySeconds", got.RetrySeconds, want.RetrySeconds)
	}
	if got.SessionMS != want.SessionMS {
		add("SessionMS", got.SessionMS, want.SessionMS)
	}
	if got.BounceType != want.BounceType {
		add("BounceType", got.BounceType, want.BounceType)
	}
	if got.DelayedBounce != want.DelayedBounce {
		add("DelayedBounce", got.DelayedBounce, want.DelayedBounce)
	}
	if got.TLS != want.TLS {
		add("TLS", got.TLS, want.TLS)
	}
	if got.SendingIP != want.SendingIP {
		add("SendingIP", got.SendingIP, want.SendingIP)
	}
	if got.MessageID != want.MessageID {
		add("MessageID", got.MessageID, want.MessageID)
	}
	if got.Subject != want.Subject {
		add("Subject", got.Subject, want.Subject)
	}
	if got.From != want.From {
		add("From", got.From, want.From)
	}
	if !slices.Equal(got.Tags, want.Tags) && len(got.Tags)+len(want.Tags) > 0 {
		add("Tags", got.Tags, want.Tags)
	}
	if got.StorageURL != want.StorageURL {
		add("StorageURL", got.StorageURL, want.StorageURL)
	}
	return d
}

func q(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// jsonEqual tells whether two JSON texts hold the same value.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// reasons joins the reasons of rejects, for messages.
func reasons(rs []maildiag.Reject) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Reason)
	}
	return strings.Join(s, " | ")
}
