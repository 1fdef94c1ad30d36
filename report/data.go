package report

import "time"

// Data is everything one report shows. The caller (cmd, with the analyses)
// fills it; the report only formats it. The same struct is printed by
// `maildiag report --output json`, so its JSON tags are a stable contract.
//
// Counts are plain totals for the period. The report computes every rate,
// share and change from them (delivery rate = delivered / accepted, share =
// count / sum of the rows, change = current - previous), so the caller never
// passes a percentage. Rows are shown in the order given: put the worst first.
// Long lists are cut to the limits in Options, with a count of the rest.
type Data struct {
	// Title heads the page, e.g. "Delivery health: last 7 days".
	// Empty: "Delivery health report".
	Title string `json:"title"`
	// Generated is when the report was made. It is passed in, not read from
	// the clock, so that the same Data always renders the same bytes.
	Generated time.Time `json:"generated"`
	// Period is the reported time range [From, Until).
	Period Range `json:"period"`
	// Previous is the range of equal length just before Period that the
	// cards compare with; zero when there is no comparison.
	Previous Range `json:"previous"`
	// Filters are the flags that narrowed the report, shown in the header.
	Filters Filters `json:"filters"`
	// Redacted says the caller replaced local parts of addresses (see Redact);
	// the header says so.
	Redacted bool `json:"redacted"`

	// Blocks are domain-wide blocks at recipients, shown first among the
	// alerts, each as one sentence built from its fields.
	Blocks []DomainBlock `json:"domain_blocks"`
	// Alerts are any other findings, shown after Blocks, most severe first
	// and otherwise in the given order.
	Alerts []Alert `json:"alerts"`

	// Totals are the period's counts for the summary cards.
	Totals Totals `json:"totals"`
	// PreviousTotals are the same counts for Previous; nil when the index
	// does not cover it, and then the cards show no change.
	PreviousTotals *Totals `json:"previous_totals,omitempty"`

	// Hourly says Volume and Classes are per hour; otherwise per day.
	Hourly bool `json:"hourly"`
	// Volume is the message flow per bucket, oldest first.
	Volume []VolumeBucket `json:"volume"`
	// Classes is the failure count per class per bucket, oldest first, on the
	// same buckets as Volume.
	Classes []ClassBucket `json:"classes"`
	// TopClasses are the failure classes of the period, most frequent first.
	// Pass every class: shares are computed over the sum of these rows.
	TopClasses []ClassRow `json:"top_classes"`

	// Domains are the recipient (customer) domains with failures, worst first.
	Domains []DomainRow `json:"domains"`
	// Providers are the receiving mailbox providers and gateways, in the
	// order to show (e.g. by messages).
	Providers []ProviderRow `json:"providers"`
	// Codes are the SMTP basic codes of failures, most frequent first.
	Codes []CodeRow `json:"codes"`
	// Enhanced are the RFC 3463 enhanced codes of failures, most frequent first.
	Enhanced []CodeRow `json:"enhanced_codes"`

	// SuppressionDays counts new suppressions per day and list, oldest first.
	SuppressionDays []SuppressionDay `json:"suppression_days"`
	// Suppressed lists the addresses suppressed in the period, in the order
	// to show (e.g. newest first). The page lists the first
	// Options.MaxAddresses and counts the rest.
	Suppressed []SuppressedAddress `json:"suppressed"`

	// Delays are accepted-to-delivered times per provider.
	Delays []DelayRow `json:"delays"`
	// Deferrals is the number of temporary failures (deferrals) in the period.
	Deferrals int64 `json:"deferrals"`
	// DeferredMessages is the number of messages deferred at least once.
	DeferredMessages int64 `json:"deferred_messages"`
	// Stuck are messages accepted with no final event after Stuck.AfterHours.
	Stuck Stuck `json:"stuck"`

	// Typos are recipient domains that look like misspelt well-known domains.
	Typos []TypoRow `json:"typos"`
	// Lookalikes are failing addresses with a near-identical address at the
	// same domain that does receive mail.
	Lookalikes []LookalikeRow `json:"lookalikes"`
}

// Range is a half-open time range [From, Until).
type Range struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

// IsZero reports whether the range is unset.
func (r Range) IsZero() bool { return r.From.IsZero() && r.Until.IsZero() }

// Filters are the command's filters, echoed in the header.
type Filters struct {
	// SendingDomains are the --sending-domain values; empty means all.
	SendingDomains []string `json:"sending_domains,omitempty"`
	// To is the --to recipient pattern, e.g. "*@acme.com"; empty means all.
	To string `json:"to,omitempty"`
}

// Severity ranks an alert.
type Severity string

// Alert severities, most urgent first.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Alert is a finding shown at the top of the report.
type Alert struct {
	// Severity is Critical, Warning or Info; empty counts as Warning.
	Severity Severity `json:"severity"`
	// Title is a short headline, e.g. "Microsoft 365 blocks 203.0.113.7".
	Title string `json:"title"`
	// Text says what it means and what to do, in a sentence or two.
	Text string `json:"text"`
	// Evidence are supporting lines (counts, sample replies), shown as a list.
	Evidence []string `json:"evidence,omitempty"`
}

// DomainBlock is a recipient domain whose gateway rejects all our mail, so its
// addresses are suppressed although they are good. The report turns it into
// one sentence, e.g. "acme.com: 42 addresses bounced with 550 5.7.1 from one
// Mimecast gateway within 2 hours: a domain-wide block at the recipient, not
// bad addresses. Ask their admin to allowlist our sending IPs, then remove the
// suppressions."
type DomainBlock struct {
	// Domain is the recipient domain, e.g. acme.com.
	Domain string `json:"domain"`
	// Addresses is the number of distinct addresses that bounced.
	Addresses int64 `json:"addresses"`
	// Code is the SMTP basic code they bounced with, e.g. 550.
	Code int `json:"code"`
	// EnhancedCode is the RFC 3463 code, e.g. 5.7.1; may be empty.
	EnhancedCode string `json:"enhanced_code,omitempty"`
	// Gateway names who answered, e.g. Mimecast; may be empty.
	Gateway string `json:"gateway,omitempty"`
	// MXHost is the host that answered, e.g. eu-smtp-inbound-1.mimecast.com.
	MXHost string `json:"mx_host,omitempty"`
	// First and Last are the first and last bounce of the wave; the sentence
	// says "within" their distance.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// SendingDomains are our sending domains that were hit.
	SendingDomains []string `json:"sending_domains,omitempty"`
	// SampleReply is one remote reply, verbatim.
	SampleReply string `json:"sample_reply,omitempty"`
	// Advice replaces the default next step ("Ask their admin to allowlist
	// our sending IPs, then remove the suppressions.") when not empty.
	Advice string `json:"advice,omitempty"`
}

// Totals are one period's counts behind the summary cards. The report
// computes the delivery rate as Delivered / Accepted.
type Totals struct {
	// Accepted is the number of messages Mailgun accepted for delivery.
	Accepted int64 `json:"accepted"`
	// Delivered is the number of messages the receiving server took (250).
	Delivered int64 `json:"delivered"`
	// FailedTemporary counts temporary failures (deferrals, retried).
	FailedTemporary int64 `json:"failed_temporary"`
	// FailedPermanent counts permanent failures, excluding suppressed drops.
	FailedPermanent int64 `json:"failed_permanent"`
	// Suppressed counts messages dropped because the address was on a
	// suppression list (Mailgun codes 605, 606, 607).
	Suppressed int64 `json:"suppressed"`
	// Complaints counts spam complaints.
	Complaints int64 `json:"complaints"`
	// Unsubscribes counts unsubscribe events.
	Unsubscribes int64 `json:"unsubscribes"`
}

// VolumeBucket is the message flow in one day or hour.
type VolumeBucket struct {
	// Start is the start of the bucket.
	Start time.Time `json:"start"`
	// Accepted, Delivered, FailedTemporary and FailedPermanent count events
	// in the bucket as in Totals. The report computes the delivery rate.
	Accepted        int64 `json:"accepted"`
	Delivered       int64 `json:"delivered"`
	FailedTemporary int64 `json:"failed_temporary"`
	FailedPermanent int64 `json:"failed_permanent"`
}

// ClassBucket is the failure count per class in one bucket.
type ClassBucket struct {
	// Start is the start of the bucket.
	Start time.Time `json:"start"`
	// Counts are the classes seen in the bucket, in any order; absent means 0.
	Counts []ClassCount `json:"counts"`
}

// ClassCount is the number of failures of one class.
type ClassCount struct {
	Class string `json:"class"`
	Count int64  `json:"count"`
}

// Bounce kinds of a failure class.
const (
	// Hard failures are permanent: retrying the address will not help.
	Hard = "hard"
	// Soft failures are temporary or caused by the sender: the address may
	// still be good.
	Soft = "soft"
)

// ClassRow is one failure class over the whole period.
type ClassRow struct {
	// Class is the class id, e.g. user-unknown, policy-block, rate-limited.
	Class string `json:"class"`
	// Count is the number of failed events of the class. Share is computed
	// over the sum of all TopClasses rows.
	Count int64 `json:"count"`
	// Kind is Hard, Soft or empty (not a bounce, e.g. suppressed).
	Kind string `json:"kind,omitempty"`
	// Advice says what to do about it; empty: the report's default for
	// well-known classes.
	Advice string `json:"advice,omitempty"`
}

// Domain verdicts.
const (
	// VerdictDomainBlock: the recipient's gateway rejects us for everyone.
	VerdictDomainBlock = "domain-block"
	// VerdictBadAddresses: failures are scattered over bad addresses.
	VerdictBadAddresses = "bad-addresses"
	// VerdictTemporary: mostly deferrals that may still succeed.
	VerdictTemporary = "temporary"
)

// DomainRow is one recipient domain.
type DomainRow struct {
	// Domain is the recipient domain, e.g. acme.com.
	Domain string `json:"domain"`
	// Messages is the number of messages sent to it; Failures the number of
	// them that failed. The report computes the failure rate.
	Messages int64 `json:"messages"`
	Failures int64 `json:"failures"`
	// Class is the dominant failure class.
	Class string `json:"class,omitempty"`
	// Gateway is who receives its mail, e.g. Mimecast, Microsoft 365.
	Gateway string `json:"gateway,omitempty"`
	// Verdict is one of the Verdict constants, or empty.
	Verdict string `json:"verdict,omitempty"`
	// VerdictText explains it; empty: a default sentence for Verdict.
	VerdictText string `json:"verdict_text,omitempty"`
}

// ProviderRow is one receiving mailbox provider or gateway.
type ProviderRow struct {
	// Provider is e.g. Gmail, Microsoft 365, Yahoo, Apple iCloud, Mimecast.
	Provider string `json:"provider"`
	// Messages, Delivered and Failures count messages to it. The report
	// computes the delivery rate as Delivered / Messages.
	Messages  int64 `json:"messages"`
	Delivered int64 `json:"delivered"`
	Failures  int64 `json:"failures"`
	// Class is its main failure class and ClassCount how many failures had it.
	Class      string `json:"class,omitempty"`
	ClassCount int64  `json:"class_count,omitempty"`
}

// CodeRow is one SMTP code (550) or enhanced code (5.7.1).
type CodeRow struct {
	// Code is the code as text.
	Code string `json:"code"`
	// Count is the number of failed events with it.
	Count int64 `json:"count"`
	// Meaning is a short gloss, e.g. "mailbox does not exist"; may be empty.
	Meaning string `json:"meaning,omitempty"`
	// SampleReply is what was said of one failure with this code, verbatim
	// (may be long and span lines): the remote reply, else Mailgun's
	// description or reason.
	SampleReply string `json:"sample_reply,omitempty"`
}

// SuppressionDay counts the addresses added to each suppression list on a day.
type SuppressionDay struct {
	Day          time.Time `json:"day"`
	Bounces      int64     `json:"bounces"`
	Complaints   int64     `json:"complaints"`
	Unsubscribes int64     `json:"unsubscribes"`
}

// SuppressedAddress is one address added to a suppression list in the period.
type SuppressedAddress struct {
	Address string `json:"address"`
	// List is bounces, complaints or unsubscribes.
	List          string    `json:"list"`
	SendingDomain string    `json:"sending_domain"`
	Created       time.Time `json:"created"`
	// Code is the bounce code, "550" or "5.1.1"; empty for other lists.
	Code string `json:"code,omitempty"`
	// Reason is the reply that put it there, verbatim.
	Reason string `json:"reason,omitempty"`
}

// DelayRow is the accepted-to-delivered time of one provider's messages.
type DelayRow struct {
	Provider string `json:"provider"`
	// Messages is the number of delivered messages measured.
	Messages int64 `json:"messages"`
	// P50, P90 and P99 are percentiles of the delay, in seconds.
	P50 float64 `json:"p50_seconds"`
	P90 float64 `json:"p90_seconds"`
	P99 float64 `json:"p99_seconds"`
	// Deferrals is the number of temporary failures before delivery.
	Deferrals int64 `json:"deferrals"`
}

// Stuck are messages accepted with no final event (delivered or failed
// permanently) after AfterHours.
type Stuck struct {
	// AfterHours is the threshold; 0 means Mailgun's 8-hour retry window.
	AfterHours int `json:"after_hours"`
	// Count is how many messages are stuck; Messages may list only some.
	Count int64 `json:"count"`
	// Messages are examples, oldest first.
	Messages []StuckMessage `json:"messages,omitempty"`
}

// StuckMessage is one message still without a final event.
type StuckMessage struct {
	Recipient     string    `json:"recipient"`
	SendingDomain string    `json:"sending_domain"`
	Subject       string    `json:"subject,omitempty"`
	Accepted      time.Time `json:"accepted"`
	// LastEvent is the latest event seen, e.g. "failed temporary 421 4.7.28".
	LastEvent string `json:"last_event,omitempty"`
}

// TypoRow is a recipient domain that is probably a misspelling.
type TypoRow struct {
	// Domain is the misspelt domain, e.g. gmial.com; Suggested the likely
	// intended one, e.g. gmail.com.
	Domain    string `json:"domain"`
	Suggested string `json:"suggested"`
	// Addresses and Messages count what was sent to Domain.
	Addresses int64 `json:"addresses"`
	Messages  int64 `json:"messages"`
	// Note is the evidence, e.g. "no MX (498)".
	Note string `json:"note,omitempty"`
}

// LookalikeRow is a failing address next to a near-identical one that works,
// e.g. john_smith@initech.com bouncing while john.smith@initech.com receives.
type LookalikeRow struct {
	// Failing is the bouncing address and Failures its failed messages.
	Failing  string `json:"failing"`
	Failures int64  `json:"failures"`
	// Code is its bounce code, e.g. "550 5.1.1".
	Code string `json:"code,omitempty"`
	// Receiving is the near-identical address and Delivered its deliveries.
	Receiving string `json:"receiving"`
	Delivered int64  `json:"delivered"`
}
