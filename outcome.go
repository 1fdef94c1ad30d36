package maildiag

import (
	"strings"
	"time"
)

// Severity of a failed event, as Mailgun states it.
const (
	SeverityTemporary = "temporary"
	SeverityPermanent = "permanent"
)

// Reasons Mailgun gives for a failed event.
const (
	ReasonGeneric             = "generic"
	ReasonBounce              = "bounce"
	ReasonESPBlock            = "espblock"
	ReasonGreylisted          = "greylisted"
	ReasonBlacklisted         = "blacklisted"
	ReasonSuppressBounce      = "suppress-bounce"
	ReasonSuppressUnsubscribe = "suppress-unsubscribe"
	ReasonSuppressComplaint   = "suppress-complaint"
	ReasonOld                 = "old" // too old: temporary failures retried until Mailgun gave up
)

// RetryWindow is how long Mailgun retries a temporary failure before it
// drops the message as too old.
const RetryWindow = 8 * time.Hour

// Outcome is what one delivery event says became of a message for its
// recipient.
type Outcome string

// Outcomes. Other event types (opened, clicked, ...) have none.
const (
	OutcomeDelivered  Outcome = "delivered"
	OutcomeTemporary  Outcome = "temporary"  // deferred: Mailgun retries
	OutcomePermanent  Outcome = "permanent"  // failed for good
	OutcomeSuppressed Outcome = "suppressed" // dropped without trying: on a suppression list
	OutcomeRejected   Outcome = "rejected"   // refused by Mailgun before sending
)

// OutcomeOf sorts an event by its type, severity, reason and code. A failed
// event is suppressed when Mailgun dropped it for a suppression list, else
// temporary or permanent by its severity; without one, a too-old drop and a
// 5xx code are permanent and anything else temporary.
func OutcomeOf(typ, severity, reason string, code int) Outcome {
	switch typ {
	case Delivered:
		return OutcomeDelivered
	case Rejected:
		return OutcomeRejected
	case Failed:
	default:
		return ""
	}
	if _, ok := DropOf(reason); ok {
		return OutcomeSuppressed
	}
	switch {
	case severity == SeverityTemporary:
		return OutcomeTemporary
	case severity == SeverityPermanent, reason == ReasonOld, code >= 500:
		return OutcomePermanent
	}
	return OutcomeTemporary
}

// Outcome is the event's outcome (OutcomeOf).
func (e *Event) Outcome() Outcome { return OutcomeOf(e.Type, e.Severity, e.Reason, e.Code) }

// Drop is a reason for which Mailgun drops a message without trying to
// deliver it, with Mailgun's own code and words for it: the words support
// engineers search the logs for.
type Drop struct {
	Reason string // the failed event's reason
	Code   int    // Mailgun's pseudo code
	List   string // the suppression list that caused it; "" when none did
	Words  string // Mailgun's description
}

// Drops are Mailgun's drops.
var Drops = []Drop{
	{ReasonSuppressBounce, 605, ListBounces, "Not delivering to previously bounced address"},
	{ReasonSuppressUnsubscribe, 606, ListUnsubscribes, "Not delivering to unsubscribed address"},
	{ReasonSuppressComplaint, 607, ListComplaints, "Not delivering to a user who marked your messages as spam"},
	{"", 625, "", "Poor mailing list quality"},
}

// DropOf returns the drop a failed event's reason names.
func DropOf(reason string) (Drop, bool) {
	for _, d := range Drops {
		if d.Reason != "" && d.Reason == reason {
			return d, true
		}
	}
	return Drop{}, false
}

// DropOfCode returns the drop of one of Mailgun's pseudo codes (605, ...),
// as legacy webhooks give only the code.
func DropOfCode(code int) (Drop, bool) {
	for _, d := range Drops {
		if d.Code == code {
			return d, true
		}
	}
	return Drop{}, false
}

// Bounce kinds of a failure class.
const (
	Hard = "hard" // the address itself is at fault: retrying it cannot work
	Soft = "soft" // the address may be good once the cause is fixed
)

// BounceKind is Hard or Soft, or "" for a class that is not a bounce at
// all: a message Mailgun dropped without trying.
func (c ClassInfo) BounceKind() string {
	switch {
	case strings.HasPrefix(c.Name, "suppressed-"):
		return ""
	case c.Hard:
		return Hard
	}
	return Soft
}
