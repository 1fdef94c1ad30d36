package maildiag

import "testing"

func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		typ, severity, reason string
		code                  int
		want                  Outcome
	}{
		{Delivered, "", "", 250, OutcomeDelivered},
		{Rejected, "", "", 0, OutcomeRejected},
		{Opened, "", "", 0, ""},
		{Failed, SeverityPermanent, ReasonSuppressBounce, 605, OutcomeSuppressed},
		{Failed, "", ReasonSuppressComplaint, 0, OutcomeSuppressed},
		{Failed, SeverityTemporary, ReasonGeneric, 421, OutcomeTemporary},
		{Failed, SeverityPermanent, ReasonBounce, 550, OutcomePermanent},
		{Failed, "", ReasonOld, 0, OutcomePermanent},
		{Failed, "", "", 550, OutcomePermanent},
		{Failed, "", "", 451, OutcomeTemporary},
		{Failed, SeverityTemporary, "", 550, OutcomeTemporary},
	}
	for _, c := range cases {
		if got := OutcomeOf(c.typ, c.severity, c.reason, c.code); got != c.want {
			t.Errorf("OutcomeOf(%q, %q, %q, %d) = %q, want %q", c.typ, c.severity, c.reason, c.code, got, c.want)
		}
	}
}

func TestDrops(t *testing.T) {
	for _, d := range Drops {
		byCode, ok := DropOfCode(d.Code)
		if !ok || byCode != d {
			t.Errorf("DropOfCode(%d) = %v, %v; want %v", d.Code, byCode, ok, d)
		}
		if d.Reason == "" {
			continue
		}
		byReason, ok := DropOf(d.Reason)
		if !ok || byReason != d {
			t.Errorf("DropOf(%q) = %v, %v; want %v", d.Reason, byReason, ok, d)
		}
		if d.List == "" || d.Words == "" {
			t.Errorf("drop %d: no list or words", d.Code)
		}
	}
	if _, ok := DropOf(ReasonBounce); ok {
		t.Error("a bounce is not a drop")
	}
}

func TestBounceKind(t *testing.T) {
	for name, want := range map[string]string{
		ClassUserUnknown: Hard, ClassPolicyBlock: Soft, ClassSuppressedBounce: "", ClassSuppressedListQuality: "", ClassOther: Soft,
	} {
		c, _ := ClassOf(name)
		if got := c.BounceKind(); got != want {
			t.Errorf("%s: BounceKind() = %q, want %q", name, got, want)
		}
	}
}
