package analyze_test

import (
	"context"
	"strings"
	"testing"

	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index"
	"github.com/maildiag/maildiag/internal/testkit"
)

// TestScenarios traces each recipient history of the scenario corpus,
// imported from Mailgun-shaped exports, and checks the overall verdict,
// each message's and the words of the next step.
func TestScenarios(t *testing.T) {
	scenarios := testkit.Scenarios()
	if len(scenarios) < 40 {
		t.Fatalf("%d scenarios, want at least 40", len(scenarios))
	}
	path, ids := testkit.ScenarioIndex(t, scenarios)
	ctx := context.Background()
	db, err := index.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			o := analyze.TraceOptions{Now: testkit.ScenarioT0.Add(s.Now), Subject: s.Subject}
			if s.SendingDomain != "" {
				o.SendingDomains = []string{s.SendingDomain}
			}
			if s.EventIDOf > 0 {
				o.EventID = ids[i][s.EventIDOf-1]
			}
			res, err := analyze.Trace(ctx, db, s.Person, o)
			if err != nil {
				t.Fatal(err)
			}
			v := res.Verdict
			if v.Kind != s.Kind {
				t.Errorf("verdict %s, want %s: %s / %s", v.Kind, s.Kind, v.Summary, v.NextStep)
			}
			if s.MessageKinds != nil {
				var got []string
				for _, m := range res.Messages {
					got = append(got, m.Verdict.Kind)
				}
				if strings.Join(got, " ") != strings.Join(s.MessageKinds, " ") {
					t.Errorf("message verdicts %v, want %v", got, s.MessageKinds)
				}
			}
			text := v.Summary + " " + v.NextStep
			for _, w := range s.Says {
				if !strings.Contains(text, w) {
					t.Errorf("verdict does not say %q: %s / %s", w, v.Summary, v.NextStep)
				}
			}
			for _, bad := range []string{"message .", "Message  to", "about message ."} {
				if strings.Contains(text, bad) {
					t.Errorf("verdict says %q: %s", bad, text)
				}
			}
			if v.NextStep == "" {
				t.Error("no next step")
			}
		})
	}
}
