package classify

import (
	"reflect"
	"strings"
	"testing"

	"github.com/maildiag/maildiag"
)

func TestRulesVersion(t *testing.T) {
	if len(RulesVersion) != 12 || strings.Trim(RulesVersion, "0123456789abcdef") != "" {
		t.Errorf("RulesVersion = %q, want 12 hex digits", RulesVersion)
	}
	if v := tablesVersion(rulesData, gatewaysData); v != RulesVersion {
		t.Errorf("tablesVersion is not stable: %q, then %q", RulesVersion, v)
	}
	if v := tablesVersion(rulesData+"\n# a comment\n", gatewaysData); v == RulesVersion {
		t.Error("changing rules.txt kept the version")
	}
	if v := tablesVersion(rulesData, gatewaysData+"\n"); v == RulesVersion {
		t.Error("changing gateways.txt kept the version")
	}
	// The split between the files counts, not just their concatenation.
	if tablesVersion("ab", "c") == tablesVersion("a", "bc") {
		t.Error("version ignores where one file ends")
	}
}

func TestSplitFields(t *testing.T) {
	cases := []struct {
		line string
		want []string
	}{
		{"", nil},
		{"   # comment", nil},
		{"a b\tc", []string{"a", "b", "c"}},
		{`id class text="envelope blocked|access denied" code=550`, []string{"id", "class", "text=envelope blocked|access denied", "code=550"}},
		{`id "Microsoft 365" mx=x`, []string{"id", "Microsoft 365", "mx=x"}},
		{`r c text="say \"hi\" \\ there"`, []string{"r", "c", `text=say "hi" \ there`}},
		{`r c text="#5.1.0 address"`, []string{"r", "c", "text=#5.1.0 address"}},
		{`r c text=""`, []string{"r", "c", "text="}},
	}
	for _, c := range cases {
		got, err := splitFields(c.line)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitFields(%q) = %q, %v; want %q", c.line, got, err, c.want)
		}
	}
	if _, err := splitFields(`r c text="open`); err == nil {
		t.Error("unterminated quote: no error")
	}
}

func TestParseRuleErrors(t *testing.T) {
	const tail = "\nlast other\n"
	cases := []struct{ rules, want string }{
		{"", "no rules"},
		{"a user-unknown code=550", "the last rule must have no conditions"},
		{"a no-such-class" + tail, `rules.txt:1: rule a: unknown class "no-such-class"`},
		{"a" + tail, "no class"},
		{"Bad_ID other" + tail, "id must be"},
		{"a other code=55x" + tail, `"55x": not a code`},
		{"a other code=599-500" + tail, "not a code range"},
		{"a other enh=5.7" + tail, "want class.subject.detail"},
		{"a other enh=3.1.1" + tail, "class must be 2, 4, 5 or x"},
		{"a other enh=5.x.1" + tail, "bad subject"},
		{"a other enh=5.7.z" + tail, "bad detail"},
		{"a other type=delivered" + tail, "want failed or rejected"},
		{"a other severity=hard" + tail, "want permanent or temporary"},
		{"a other delayed=maybe" + tail, "want yes or no"},
		{"a other hard=1" + tail, "want yes or no"},
		{"a other gateway=Nobody" + tail, `gateway "Nobody" is not named`},
		{"a other colour=red" + tail, `unknown condition "colour"`},
		{"a other code" + tail, "is not key=value"},
		{"a other code=550 code=551" + tail, "code given twice"},
		{"a other text=a||b" + tail, "empty alternative"},
		{`a other text="  "` + tail, "blank text"},
		{`a other text="open` + tail, "unterminated quote"},
		{"a other\nb other\na other" + tail, "rules.txt:3: rule a: id already used on line 1"},
	}
	for _, c := range cases {
		_, err := load(c.rules, gatewaysData)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rules %q: got error %v, want one containing %q", c.rules, err, c.want)
		}
	}
}

func TestParseGatewayErrors(t *testing.T) {
	cases := []struct{ gateways, want string }{
		{`a`, "no gateway name"},
		{`a "X"`, "no conditions"},
		{`a "X" colour=red`, `unknown condition "colour"`},
		{`a "X" mx=`, "empty alternative"},
		{`a "X" mx=a mx=b`, "mx given twice"},
		{`a "$provider" provider=Gmail`, "only for an entry whose one condition is provider=*"},
		{`a "$provider" provider=* domain=x.com`, "only for an entry whose one condition is provider=*"},
		{"a \"X\" mx=x\na \"Y\" mx=y", "gateways.txt:2: entry a: id already used on line 1"},
		{`A "X" mx=x`, "id must be"},
	}
	for _, c := range cases {
		_, err := load("other other\n", c.gateways)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("gateways %q: got error %v, want one containing %q", c.gateways, err, c.want)
		}
	}
}

// TestSmallTable runs a table written here, so that the semantics of each
// condition are pinned independently of the shipped rules.
func TestSmallTable(t *testing.T) {
	const rules = `
by-type      rejected-by-mailgun  type=rejected
two-texts    spam-content         text="spam" text="url"
by-gateway   policy-block         gateway="Big Gate" text=denied
by-range     blocklisted          enh=5.7.606-649
by-any-class user-unknown         enh=x.1.1 severity=permanent
by-reason    greylisted           reason=GreyListed
by-delayed   delayed-bounce       delayed=yes code=550|551
soft-5xx     other                hard=no code=500-599
last         other                hard=yes
`
	const gateways = `big "Big Gate" mx=gate.example`
	tb, err := load(rules, gateways)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ev   maildiag.Event
		rule string
		hard bool
	}{
		{maildiag.Event{Type: maildiag.Rejected, Reason: "anything"}, "by-type", false},
		{maildiag.Event{Type: maildiag.Failed, Reply: "SPAM with a URL"}, "two-texts", false},
		{maildiag.Event{Type: maildiag.Failed, Reply: "spam only"}, "last", true},
		{maildiag.Event{Type: maildiag.Failed, Reply: "Access DENIED", MXHost: "mx1.gate.example"}, "by-gateway", false},
		{maildiag.Event{Type: maildiag.Failed, Reply: "Access denied", MXHost: "mx1.other.example"}, "last", true},
		{maildiag.Event{Type: maildiag.Failed, Code: 550, EnhancedCode: "5.7.649"}, "by-range", false},
		{maildiag.Event{Type: maildiag.Failed, Code: 550, EnhancedCode: "5.7.650"}, "soft-5xx", false},
		{maildiag.Event{Type: maildiag.Failed, Reply: "4.1.1 unknown", Severity: "permanent"}, "by-any-class", true},
		{maildiag.Event{Type: maildiag.Failed, Reply: "4.1.1 unknown", Severity: "temporary"}, "last", true},
		{maildiag.Event{Type: maildiag.Failed, Reason: "greylisted"}, "by-reason", false},
		{maildiag.Event{Type: maildiag.Failed, DelayedBounce: true, Reply: "smtp; 551 5.1.1 gone"}, "by-delayed", true},
		{maildiag.Event{Type: maildiag.Failed, DelayedBounce: true, Code: 552}, "soft-5xx", false},
	}
	for _, c := range cases {
		rh := replyHits{reply: c.ev.Reply}
		gw := tb.gateway(c.ev.MXHost, c.ev.Provider, c.ev.RecipientDomain, &rh)
		got := tb.classify(&c.ev, kindOf(c.ev.Type), gw, &rh)
		if got.Rule != c.rule || got.Hard != c.hard {
			t.Errorf("%+v: got rule %s hard %v, want rule %s hard %v", c.ev, got.Rule, got.Hard, c.rule, c.hard)
		}
	}
}

// TestEarlyTextRulesAreGuarded keeps the text scan lazy: the rules before
// the provider texts of tier 3 decide most failures by their codes, and a
// text condition there must come with a code, enhanced-code or type
// condition, or every failure reaching it would be scanned (without the
// guards, the tier-2 word rules made BenchmarkClassifySynth about 40%
// slower: 950 against 680 ns/op, CPU time, medians of 7).
func TestEarlyTextRulesAreGuarded(t *testing.T) {
	const firstProviderRule = "ms-block-list"
	tb := loaded()
	end, ok := tb.ruleIndex[firstProviderRule]
	if !ok {
		t.Fatalf("rule %s not found: name the first rule of tier 3 here", firstProviderRule)
	}
	for _, r := range tb.rules[:end] {
		if r.texts != nil && r.enh == nil && r.codes == nil && r.kinds == 0 {
			t.Errorf("rule %s (rules.txt:%d): a text condition before tier 3 without code=, enh= or type=", r.ID, r.Line)
		}
	}
}
