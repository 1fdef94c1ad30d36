package report

import "github.com/maildiag/maildiag"

// classAdvice is the next step for a failure class, used when the
// caller's ClassRow has no Advice: the taxonomy's own action.
func classAdvice(class string) string {
	info, _ := maildiag.ClassOf(class)
	return info.Action
}

// verdictText is the default explanation of a DomainRow verdict.
var verdictText = map[string]string{
	VerdictDomainBlock:  "Domain-wide block at the recipient, not bad addresses: ask their admin to allowlist our sending IPs, then remove the suppressions.",
	VerdictBadAddresses: "Scattered bad addresses: the domain accepts our mail; clean the list.",
	VerdictTemporary:    "Mostly deferrals: Mailgun is still retrying.",
}
