package classify

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
)

// corpusRow is one labelled failure of testdata/replies.tsv.
type corpusRow struct {
	line        int
	wantClass   string
	wantGateway string
	wantHard    bool
	ev          maildiag.Event
}

var corpusColumns = []string{"class", "gateway", "hard", "type", "code", "enhanced", "reason", "severity", "delayed",
	"mx", "provider", "domain", "reply", "description"}

func loadCorpus(tb testing.TB) []corpusRow {
	tb.Helper()
	f, err := os.Open("testdata/replies.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	header := false
	for no := 1; sc.Scan(); no++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cells := strings.Split(line, "\t")
		if len(cells) != len(corpusColumns) {
			tb.Fatalf("replies.tsv:%d: %d cells, want %d", no, len(cells), len(corpusColumns))
		}
		if !header {
			if strings.Join(cells, ",") != strings.Join(corpusColumns, ",") {
				tb.Fatalf("replies.tsv:%d: header %q, want %q", no, cells, corpusColumns)
			}
			header = true
			continue
		}
		for i, c := range cells {
			cells[i] = unescapeCell(c)
		}
		r := corpusRow{line: no, wantClass: cells[0], wantGateway: cells[1]}
		switch cells[2] {
		case "hard":
			r.wantHard = true
		case "soft":
		default:
			tb.Fatalf("replies.tsv:%d: hard column %q, want hard or soft", no, cells[2])
		}
		ev := &r.ev
		ev.Type = cells[3]
		if cells[4] != "" {
			if ev.Code, err = strconv.Atoi(cells[4]); err != nil {
				tb.Fatalf("replies.tsv:%d: code %q", no, cells[4])
			}
		}
		ev.EnhancedCode, ev.Reason, ev.Severity = cells[5], cells[6], cells[7]
		switch cells[8] {
		case "yes":
			ev.DelayedBounce = true
		case "no":
		default:
			tb.Fatalf("replies.tsv:%d: delayed column %q, want yes or no", no, cells[8])
		}
		ev.MXHost, ev.Provider, ev.RecipientDomain = cells[9], cells[10], cells[11]
		ev.Reply, ev.Description = cells[12], cells[13]
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(rows) == 0 {
		tb.Fatal("replies.tsv: no rows")
	}
	return rows
}

// unescapeCell reads "-" as empty and \n, \t, \\ as in the file's header.
func unescapeCell(s string) string {
	if s == "-" {
		return ""
	}
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestClassifyCorpus(t *testing.T) {
	for _, r := range loadCorpus(t) {
		ev := r.ev
		got := classifyEvent(&ev)
		if got.Class != r.wantClass {
			t.Errorf("row %d: got class %s by rule %s, want %s\n\treply: %q", r.line, got.Class, got.Rule, r.wantClass, r.ev.Reply)
		}
		if got.Class == r.wantClass && got.Hard != r.wantHard {
			t.Errorf("row %d: %s by rule %s: got hard %v, want %v", r.line, got.Class, got.Rule, got.Hard, r.wantHard)
		}
		if gw := detectGateway(ev.MXHost, ev.Provider, ev.Reply, ev.RecipientDomain); gw != r.wantGateway {
			t.Errorf("row %d: got gateway %q, want %q (mx %q, provider %q, domain %q)", r.line, gw, r.wantGateway, ev.MXHost, ev.Provider, ev.RecipientDomain)
		}
		if !reflect.DeepEqual(ev, r.ev) {
			t.Errorf("row %d: Classify changed the event", r.line)
		}
	}
}

func TestCorpusCoversEveryClass(t *testing.T) {
	seen := make(map[string]int)
	for _, r := range loadCorpus(t) {
		seen[r.wantClass]++
	}
	for _, c := range maildiag.Classes {
		if seen[c.Name] == 0 {
			t.Errorf("class %s: no corpus row expects it", c.Name)
		}
	}
	for name := range seen {
		if _, ok := maildiag.ClassOf(name); !ok {
			t.Errorf("corpus expects class %q, which is not in maildiag.Classes", name)
		}
	}
}

// TestEveryRuleDecidesSomething fails on dead rules: each rule must be the
// one that decides at least one corpus row.
func TestEveryRuleDecidesSomething(t *testing.T) {
	decided := make(map[string]int)
	for _, r := range loadCorpus(t) {
		ev := r.ev
		decided[classifyEvent(&ev).Rule]++
	}
	for _, r := range rules() {
		if decided[r.ID] == 0 {
			t.Errorf("rule %s (rules.txt:%d, %s): decides no corpus row", r.ID, r.Line, r.Class)
		}
	}
}

func TestCorpusCoversGateways(t *testing.T) {
	seen := make(map[string]bool)
	for _, r := range loadCorpus(t) {
		seen[r.wantGateway] = true
	}
	for _, gw := range []string{"Gmail", "Google", "Microsoft 365", "Microsoft (Outlook.com)", "Yahoo", "Apple iCloud",
		"Mimecast", "Proofpoint", "Barracuda", "Cisco"} {
		if !seen[gw] {
			t.Errorf("gateway %s: no corpus row", gw)
		}
	}
}

func TestClassifyNonFailures(t *testing.T) {
	for _, typ := range []string{maildiag.Accepted, maildiag.Delivered, maildiag.Opened, maildiag.Clicked,
		maildiag.Complained, maildiag.Unsubscribed, maildiag.Stored, "list_member_uploaded", "", "Failed"} {
		ev := maildiag.Event{Type: typ, Code: 550, EnhancedCode: "5.1.1", Reply: "5.1.1 user unknown", Severity: "permanent"}
		if got := classifyEvent(&ev); got != (Classification{}) {
			t.Errorf("type %q: got %+v, want the zero Classification", typ, got)
		}
	}
}

func TestRulesMatchTheirClasses(t *testing.T) {
	rules := rules()
	if len(rules) < 50 {
		t.Fatalf("got %d rules, want the full table", len(rules))
	}
	for _, r := range rules {
		info, ok := maildiag.ClassOf(r.Class)
		if !ok {
			t.Errorf("rule %s: class %q not in the taxonomy", r.ID, r.Class)
			continue
		}
		got, ok := ruleOf(r.ID)
		if !ok || got != r {
			t.Errorf("ruleOf(%q) = %+v, %v; want %+v", r.ID, got, ok, r)
		}
		if r.Hard != info.Hard && !strings.Contains(r.Conditions, "hard=") {
			t.Errorf("rule %s: Hard %v differs from class %s without hard=", r.ID, r.Hard, r.Class)
		}
	}
	if _, ok := ruleOf("no-such-rule"); ok {
		t.Error("ruleOf(no-such-rule) found a rule")
	}
	if last := rules[len(rules)-1]; last.ID != "other" || last.Conditions != "" {
		t.Errorf("last rule is %s %q, want the catch-all other", last.ID, last.Conditions)
	}
}

// TestPriorityOverGenericCodes pins the order documented in rules.txt: a
// provider text beats a generic enhanced code, a specific code beats text.
func TestPriorityOverGenericCodes(t *testing.T) {
	cases := []struct {
		code        int
		enh, reply  string
		class, rule string
	}{
		{554, "5.7.1", "5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org", maildiag.ClassBlocklisted, "rbl-spamhaus"},
		{550, "5.7.1", "Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550", maildiag.ClassPolicyBlock, "mimecast-blocked-sender"},
		{550, "5.7.1", "5.7.1 Unfortunately, messages from [198.51.100.7] weren't sent. (S3150)", maildiag.ClassBlocklisted, "ms-block-list"},
		{550, "5.4.1", "5.4.1 Recipient address rejected: Access denied. AS(201806281)", maildiag.ClassUserUnknown, "ms-dbeb"},
		{550, "5.7.1", "5.7.1 Relaying denied", maildiag.ClassDomainNotFound, "txt-relay-denied"},
		{550, "5.7.1", "5.7.1 Rejected", maildiag.ClassPolicyBlock, "enh-policy"},
		// A specific code wins over words that would say otherwise.
		{550, "5.1.1", "5.1.1 user unknown; message looked like spam", maildiag.ClassUserUnknown, "enh-bad-mailbox"},
		{552, "5.2.2", "5.2.2 mailbox full, blocked using nothing", maildiag.ClassMailboxFull, "enh-mailbox-full"},
	}
	for _, c := range cases {
		ev := maildiag.Event{Type: maildiag.Failed, Code: c.code, EnhancedCode: c.enh, Reply: c.reply, Severity: "permanent"}
		got := classifyEvent(&ev)
		if got.Class != c.class || got.Rule != c.rule {
			t.Errorf("%q: got %s by rule %s, want %s by rule %s", c.reply, got.Class, got.Rule, c.class, c.rule)
		}
	}
}

func TestEnhancedCodeFromText(t *testing.T) {
	cases := []struct {
		s    string
		want enhanced
		ok   bool
	}{
		{"smtp; 550-5.1.1 The email account", enhanced{5, 1, 1}, true},
		{"5.7.606 Access denied", enhanced{5, 7, 606}, true},
		{"4.7.0 [TSS04] Messages from 198.51.100.23 ... - 4.16.55.1; see", enhanced{4, 7, 0}, true},
		{"Messages from 198.51.100.23 deferred - 4.16.55.1; see", enhanced{}, false},
		{"(See RFC2821 4.1.1.1) blocked", enhanced{}, false},
		{"This mailbox is disabled (554.30).", enhanced{}, false},
		{"Message filtered. (#5.7.1)", enhanced{5, 7, 1}, true},
		{"mailbox unavailable (5.2.1).", enhanced{5, 2, 1}, true},
		{"5.1.10 RESOLVER", enhanced{5, 1, 10}, true},
		{"5.1.1000 nope", enhanced{}, false},
		{"", enhanced{}, false},
		{"5.", enhanced{}, false},
		{"5.1.", enhanced{}, false},
	}
	for _, c := range cases {
		got, ok := findEnhanced(c.s)
		if got != c.want || ok != c.ok {
			t.Errorf("findEnhanced(%q) = %v, %v; want %v, %v", c.s, got, ok, c.want, c.ok)
		}
	}
	for _, s := range []string{"5.7.1", " 4.2.2 "} {
		if _, ok := parseEnhanced(s); !ok {
			t.Errorf("parseEnhanced(%q): not a code", s)
		}
	}
	for _, s := range []string{"", "5.7", "5.7.1 x", "3.1.1", "550"} {
		if e, ok := parseEnhanced(s); ok {
			t.Errorf("parseEnhanced(%q) = %v, want not a code", s, e)
		}
	}
}

func TestCodeFromText(t *testing.T) {
	cases := map[string]int{
		"550 5.1.1 user unknown":         550,
		"smtp; 550-5.1.1 The email":      550,
		"SMTP;421 4.7.0 try later":       421,
		"5.1.1 user unknown":             0,
		"No Such User Here":              0,
		"554":                            554,
		"5501 no":                        0,
		"250 ok":                         250,
		"1 Requested mail action abortd": 0,
	}
	for s, want := range cases {
		if got := CodeIn(s); got != want {
			t.Errorf("CodeIn(%q) = %d, want %d", s, got, want)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	rows := loadCorpus(b)
	evs := make([]maildiag.Event, len(rows))
	for i, r := range rows {
		evs[i] = r.ev
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		classifyEvent(&evs[i%len(evs)])
	}
}

func BenchmarkClassifyNonFailure(b *testing.B) {
	ev := maildiag.Event{Type: maildiag.Delivered, Code: 250, Reply: "2.0.0 OK  1763600000 d75a77b69052e-4b639dd586bsi7418741cf.389 - gsmtp",
		MXHost: "gmail-smtp-in.l.google.com", RecipientDomain: "gmail.com", Provider: "Gmail"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		classifyEvent(&ev)
	}
}
