package analyze

import "time"

// HealthResult is a delivery-health report of one period: what `maildiag
// report` renders as HTML, prints with --output json, and what the team
// server's API serves. Its JSON is a stable contract: fields are added,
// never renamed or given another meaning.
//
// Counts are plain totals of events in the period. Rates are fractions
// from 0 to 1, next to the counts they are made of. Times are RFC 3339, in
// UTC. Lists are never null: an empty one is []. Rows are in the order to
// show them, worst or largest first; a list cut short says how many rows
// it left out. Every sentence (titles, alert texts, verdicts, notes) is
// written by the analysis from the facts it gathered; a renderer only
// formats numbers and dates.
type HealthResult struct {
	// Title heads the report: "Delivery health: 13 November to 19
	// November 2026".
	Title string `json:"title"`
	// Generated is when the report was made: the query's clock.
	Generated time.Time `json:"generated"`
	// Period is the reported range [from, until).
	Period Period `json:"period"`
	// Previous is the range of equal length just before Period that
	// PreviousTotals count.
	Previous Period `json:"previous"`
	// Filters echo what narrowed the report.
	Filters HealthFilters `json:"filters"`
	// Redacted says the local parts of addresses were replaced by short
	// hashes, everywhere in the result (report.Redact).
	Redacted bool `json:"redacted"`

	// NoEvents says the index holds no event of the period within the
	// filters: an empty index, a period outside the index, or a --to
	// that matches no recipient. Note says which, and what the index
	// covers; a report of no events must not read as a healthy one.
	NoEvents bool   `json:"no_events"`
	Note     string `json:"note,omitempty"`
	// IndexCovers is the time from the index's first event to its last;
	// absent when the index holds no event.
	IndexCovers *Period `json:"index_covers,omitempty"`

	// Blocks are recipient domains whose gateway refuses our mail for
	// everyone (domain-wide blocks), most addresses first. They head the
	// alerts.
	Blocks []DomainBlock `json:"domain_blocks"`
	// Alerts are the other findings that need action, most severe first.
	Alerts []Alert `json:"alerts"`

	// Totals count the period's events.
	Totals Totals `json:"totals"`
	// PreviousTotals count the Previous period's events; absent when the
	// index does not reach back to its start (and no metrics cover it),
	// so that a comparison with a period it only partly holds is never
	// made.
	PreviousTotals *Totals `json:"previous_totals,omitempty"`
	// PreviousFromMetrics says PreviousTotals are Mailgun's metrics of
	// the period (sync --metrics), as the index begins after its start:
	// counts only, of the whole account or the sending domains asked.
	PreviousFromMetrics bool `json:"previous_from_metrics,omitempty"`

	// Rates are the period's delivery, bounce, complaint, deferral and
	// suppression rates, with the previous period's and what each means
	// against Thresholds.
	Rates []Rate `json:"rates"`
	// Thresholds are the limits the rates and alerts were judged by.
	Thresholds Thresholds `json:"thresholds"`

	// Hourly says Volume and Classes are per UTC hour (periods of up to
	// 48 hours); otherwise per UTC day.
	Hourly bool `json:"hourly"`
	// Volume counts the events of each hour or day, oldest first.
	Volume []VolumeBucket `json:"volume"`
	// MetricsHistory are the hours or days of the period (as in Volume)
	// that end before the index's first event, counted by Mailgun's
	// Metrics API (sync --metrics): volumes and rates the index never saw,
	// where Volume has nothing. FailedPermanent leaves suppression drops
	// out, as in Totals; Rejected stays 0 (metrics do not count them).
	// Absent without stored metrics, and when the report is narrowed to
	// recipients (metrics count whole sending domains).
	MetricsHistory []VolumeBucket `json:"metrics_history,omitempty"`
	// Classes count the failures of each class in each bucket of Volume.
	Classes []ClassBucket `json:"classes"`
	// TopClasses are every failure class of the period, most failures
	// first.
	TopClasses []ClassRow `json:"top_classes"`

	// Domains are the customer (recipient) domains with failures or
	// deferrals, worst first by impact (failures weighted by failure rate,
	// so that a domain losing most of its mail outranks a big one losing
	// a little): at most 25.
	Domains []DomainRow `json:"domains"`
	// Providers are the receiving mailbox providers and gateways, most
	// accepted messages first.
	Providers []ProviderRow `json:"providers"`
	// SendingDomains and SendingIPs split the period by our sending
	// domain and sending IP, with their volume and delivery rate, most
	// failures first.
	SendingDomains []SplitRow `json:"sending_domains"`
	SendingIPs     []SplitRow `json:"sending_ips"`
	// Tags split the period by the messages' tags (Mailgun's o:tag), as
	// its dashboard does, most failures first; a message with several
	// tags counts under each.
	Tags []SplitRow `json:"tags"`
	// Codes are the SMTP basic codes of failures, most frequent first: at
	// most 15.
	Codes []CodeRow `json:"codes"`
	// Enhanced are the RFC 3463 enhanced codes of failures, most frequent
	// first: at most 15.
	Enhanced []CodeRow `json:"enhanced_codes"`

	// SuppressionDays count new suppressions per day and list, oldest
	// first.
	SuppressionDays []SuppressionDay `json:"suppression_days"`
	// Suppressed are the addresses suppressed in the period, oldest first,
	// at most HealthQuery.MaxRows of them.
	Suppressed []NewSuppression `json:"suppressed"`
	// SuppressedNotShown is how many more addresses were suppressed than
	// Suppressed lists.
	SuppressedNotShown int `json:"suppressed_not_shown"`

	// Delays are accepted-to-delivered times per provider or gateway, most
	// deliveries first.
	Delays []DelayRow `json:"delays"`
	// Deferrals is the number of temporary failures in the period.
	Deferrals int64 `json:"deferrals"`
	// DeferredMessages is the number of messages deferred at least once.
	DeferredMessages int64 `json:"deferred_messages"`
	// Stuck are the messages still without a final event.
	Stuck Stuck `json:"stuck"`

	// Typos are recipient domains with no mail server that look like a
	// misspelt well-known domain.
	Typos []TypoRow `json:"typos"`
	// Lookalikes pair addresses that bounced as unknown with a
	// near-identical address at the same domain that receives mail.
	Lookalikes []LookalikeRow `json:"lookalikes"`
}

// Period is a half-open time range [From, Until).
type Period struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

// IsZero reports whether the period is unset.
func (p Period) IsZero() bool { return p.From.IsZero() && p.Until.IsZero() }

// HealthFilters are the query's filters, as given.
type HealthFilters struct {
	// SendingDomains are the sending domains reported on; empty: all.
	SendingDomains []string `json:"sending_domains,omitempty"`
	// To is the recipient pattern, e.g. "*@acme.com"; empty: all.
	To string `json:"to,omitempty"`
}

// Alert severities, most urgent first.
const (
	AlertCritical = "critical"
	AlertWarning  = "warning"
	AlertInfo     = "info"
)

// Alert kinds besides a domain verdict's kind (VerdictDeadDomain, ...).
const (
	AlertStuck           = "stuck-messages"
	AlertTypo            = "typo-domain"
	AlertRateLimitWave   = "rate-limit-wave"
	AlertIPBlock         = "sending-ip-block"
	AlertSendingBlock    = "sending-domain-block"
	AlertBounceRate      = "bounce-rate"
	AlertComplaintRate   = "complaint-rate"
	AlertDeferralSpike   = "deferral-spike"
	AlertSuppressionJump = "suppression-jump"
	AlertExpiredLinks    = "expired-links"
)

// Alert is a finding that needs action.
type Alert struct {
	// Severity is AlertCritical, AlertWarning or AlertInfo.
	Severity string `json:"severity"`
	// Kind says what was found: AlertStuck, AlertTypo or the kind of a
	// domain verdict (VerdictDeadDomain).
	Kind string `json:"kind"`
	// Domain is the recipient domain it is about, if one.
	Domain string `json:"domain,omitempty"`
	// Title is a headline: "gmial.com looks like a typo of gmail.com".
	Title string `json:"title"`
	// Text says what it means and what to do.
	Text string `json:"text"`
	// Evidence are supporting lines: counts, times, a reply.
	Evidence []string `json:"evidence,omitempty"`
	// Provider is the receiving provider or gateway it is about, if one.
	Provider string `json:"provider,omitempty"`
	// SendingDomains and SendingIPs are our senders it is about: the ones
	// a recipient's admin should allowlist, or the ones refused.
	SendingDomains []string `json:"sending_domains,omitempty"`
	SendingIPs     []string `json:"sending_ips,omitempty"`
}

// DomainBlock is a recipient domain whose gateway rejects our mail for
// everyone, so that good addresses are suppressed: many addresses bounced
// alike within a few hours.
type DomainBlock struct {
	// Domain is the recipient domain: acme.com.
	Domain string `json:"domain"`
	// Text is the finding in one sentence with the next step: "acme.com:
	// 44 addresses bounced with 550 from one Mimecast gateway within 2
	// hours: a domain-wide block at the recipient, not bad addresses. Ask
	// ...".
	Text string `json:"text"`
	// Addresses is how many distinct addresses bounced in the wave.
	Addresses int64 `json:"addresses"`
	// Code is the SMTP basic code they bounced with: 550.
	Code int `json:"code"`
	// EnhancedCode is the RFC 3463 code, e.g. 5.7.1; may be empty.
	EnhancedCode string `json:"enhanced_code,omitempty"`
	// Gateway is who answered: Mimecast; may be empty.
	Gateway string `json:"gateway,omitempty"`
	// MXHost is the host that answered.
	MXHost string `json:"mx_host,omitempty"`
	// First and Last are the first and last bounce of the wave.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// SendingDomains and SendingIPs are our sending domains and IPs that
	// were refused: the ones the recipient's admin should allowlist.
	SendingDomains []string `json:"sending_domains,omitempty"`
	SendingIPs     []string `json:"sending_ips,omitempty"`
	// SampleReply is one remote reply, verbatim.
	SampleReply string `json:"sample_reply,omitempty"`
	// Advice is the next step (the end of Text).
	Advice string `json:"advice,omitempty"`
}

// Totals count one period's events.
type Totals struct {
	// Accepted counts messages Mailgun accepted for delivery, per recipient.
	Accepted int64 `json:"accepted"`
	// Delivered counts deliveries the receiving server took (250).
	Delivered int64 `json:"delivered"`
	// FailedTemporary counts temporary failures (deferrals, retried).
	FailedTemporary int64 `json:"failed_temporary"`
	// FailedPermanent counts permanent failures, without suppression drops.
	FailedPermanent int64 `json:"failed_permanent"`
	// Suppressed counts messages Mailgun dropped because the address was
	// on a suppression list (605, 606, 607).
	Suppressed   int64 `json:"suppressed"`
	Complaints   int64 `json:"complaints"`
	Unsubscribes int64 `json:"unsubscribes"`
	Opened       int64 `json:"opened"`
	Clicked      int64 `json:"clicked"`
	// Rejected counts messages Mailgun refused at the API.
	Rejected int64 `json:"rejected"`
	// DeliveryRate is Delivered over the period's messages: the accepted
	// ones, or those with a final outcome (delivered, failed permanently,
	// dropped) when more, as when messages accepted before the period are
	// delivered in it; so it never passes 1. 0 when there are none.
	DeliveryRate float64 `json:"delivery_rate"`
}

// VolumeBucket counts the events of one hour or day.
type VolumeBucket struct {
	// Start is the start of the hour or day.
	Start time.Time `json:"start"`
	Totals
}

// ClassBucket counts the failures of each class in one bucket.
type ClassBucket struct {
	// Start is the start of the bucket, as in Volume.
	Start time.Time `json:"start"`
	// Counts are the classes seen, in the order of TopClasses.
	Counts []ClassCount `json:"counts"`
}

// ClassCount is a number of failures of one class.
type ClassCount struct {
	Class string `json:"class"`
	Count int64  `json:"count"`
}

// ClassRow is one failure class over the period.
type ClassRow struct {
	// Class is the class name: user-unknown, policy-block, ...
	Class string `json:"class"`
	// Title is its label: "User unknown".
	Title string `json:"title"`
	// Count is the number of failed events of the class.
	Count int64 `json:"count"`
	// Kind is maildiag.Hard, maildiag.Soft, or absent for a message
	// Mailgun dropped without trying.
	Kind string `json:"kind,omitempty"`
	// Recipients is the number of distinct addresses that failed so.
	Recipients int `json:"recipients"`
	// Advice is what to do about it.
	Advice string `json:"advice"`
	// Final counts the class's failures that ended the delivery
	// (permanent failures and drops), Deferrals its temporary ones:
	// Count is their sum.
	Final     int64 `json:"final"`
	Deferrals int64 `json:"deferrals"`
}

// Verdicts of a DomainRow: a reading of the domain's DomainVerdict for one
// table cell.
const (
	// RowDomainBlock: the recipient's gateway rejects us for everyone.
	RowDomainBlock = "domain-block"
	// RowBadAddresses: the domain's failures are its addresses' own.
	RowBadAddresses = "bad-addresses"
	// RowTemporary: deferrals only, which may still succeed.
	RowTemporary = "temporary"
	// RowDeadDomain: the domain has no working mail server.
	RowDeadDomain = "dead-domain"
	// RowSuppressed: its failures are mostly drops of addresses on a
	// suppression list.
	RowSuppressed = "suppressed"
)

// DomainRow is one customer (recipient) domain.
type DomainRow struct {
	// Domain is the recipient domain: acme.com.
	Domain string `json:"domain"`
	// Messages is the number of messages to it: the accepted ones, or
	// the delivered and failed ones when those are more.
	Messages  int64 `json:"messages"`
	Accepted  int64 `json:"accepted"`
	Delivered int64 `json:"delivered"`
	// Failures counts permanent failures and suppression drops.
	Failures int64 `json:"failures"`
	// Deferrals counts temporary failures.
	Deferrals int64 `json:"deferrals"`
	// FailureRate is Failures / Messages.
	FailureRate float64 `json:"failure_rate"`
	// Impact is Failures × FailureRate, the rank of the row.
	Impact float64 `json:"impact"`
	// Class is the most common class of its failures (final outcomes
	// only: permanent failures and drops), ClassCount how many had it.
	Class      string `json:"class,omitempty"`
	ClassCount int64  `json:"class_count,omitempty"`
	// DeferralClass is the most common class of its deferrals.
	DeferralClass string `json:"deferral_class,omitempty"`
	// Gateway is who receives its mail: Mimecast, Microsoft 365.
	Gateway string `json:"gateway,omitempty"`
	// Verdict is RowDomainBlock, RowDeadDomain, RowBadAddresses or RowTemporary; absent
	// when its failures are too few to judge.
	Verdict string `json:"verdict,omitempty"`
	// VerdictText says why, and for a block what to do.
	VerdictText string `json:"verdict_text,omitempty"`
}

// ProviderRow is one receiving mailbox provider or gateway ("-": unknown).
type ProviderRow struct {
	// Provider is Gmail, Microsoft 365, Mimecast, ...
	Provider string `json:"provider"`
	// Messages is the accepted messages to it, or the delivered and failed
	// ones when those are more.
	Messages  int64 `json:"messages"`
	Accepted  int64 `json:"accepted"`
	Delivered int64 `json:"delivered"`
	// Failures counts permanent failures and suppression drops.
	Failures  int64 `json:"failures"`
	Deferrals int64 `json:"deferrals"`
	// DeliveryRate is Delivered / Messages.
	DeliveryRate float64 `json:"delivery_rate"`
	// Class is its most common class of final failures (permanent
	// failures and drops, not deferrals) and ClassCount how many had it.
	Class      string `json:"class,omitempty"`
	ClassCount int64  `json:"class_count,omitempty"`
	// DeferralClass is its most common class of deferrals, and
	// DeferralClassCount how many deferrals had it.
	DeferralClass      string `json:"deferral_class,omitempty"`
	DeferralClassCount int64  `json:"deferral_class_count,omitempty"`
	// Domains is the number of customer domains behind it.
	Domains int `json:"domains"`
}

// CodeRow is one SMTP basic code (550) or enhanced code (5.7.1).
type CodeRow struct {
	// Code is the code as text; "-" for failures without one.
	Code string `json:"code"`
	// Count is the number of failed events with it.
	Count int64 `json:"count"`
	// Class is the class of the first failure seen with it, and Meaning
	// that class's title.
	Class   string `json:"class"`
	Meaning string `json:"meaning,omitempty"`
	// SampleReply is what was said of that failure, verbatim (may span
	// lines): the remote reply, else Mailgun's description or reason.
	SampleReply string `json:"sample_reply,omitempty"`
}

// SuppressionDay counts the addresses added to each list on one UTC day.
type SuppressionDay struct {
	Day          time.Time `json:"day"`
	Bounces      int64     `json:"bounces"`
	Complaints   int64     `json:"complaints"`
	Unsubscribes int64     `json:"unsubscribes"`
}

// NewSuppression is an address suppressed in the period: from the
// suppression lists when the index holds them, else derived from its first
// hard bounce.
type NewSuppression struct {
	Address string `json:"address"`
	// List is bounces, complaints or unsubscribes.
	List          string    `json:"list"`
	SendingDomain string    `json:"sending_domain"`
	Created       time.Time `json:"created"`
	// Code is the bounce code, "550" or "550 5.1.1"; empty for other lists.
	Code string `json:"code,omitempty"`
	// Reason is the reply that put it there, on one line.
	Reason string `json:"reason,omitempty"`
}

// DelayRow is the accepted-to-delivered time of one provider's or
// gateway's deliveries. With Exact, the percentiles are of the deliveries'
// own delays (reports narrowed to recipient domains); without, they are
// the upper bounds of the store's delay buckets they fall in.
type DelayRow struct {
	Provider string `json:"provider"`
	// Messages is the number of deliveries measured.
	Messages int64 `json:"messages"`
	// P50, P90 and P99 are percentiles of the delay, in seconds.
	P50 float64 `json:"p50_seconds"`
	P90 float64 `json:"p90_seconds"`
	P99 float64 `json:"p99_seconds"`
	// Deferrals is the number of temporary failures at the same provider.
	Deferrals int64 `json:"deferrals"`
	// Exact says the percentiles are of the delays themselves.
	Exact bool `json:"exact"`
	// Method says how the percentiles were found: DelayExact, from each
	// delivery's delay (reports narrowed with a recipient filter), or
	// DelayInterpolated, from the delay buckets counted at ingest,
	// linearly within the bucket holding the percentile.
	Method string `json:"method"`
}

// DelayRow methods.
const (
	DelayExact        = "exact"
	DelayInterpolated = "interpolated-within-buckets"
)

// Stuck are the messages accepted in the period more than AfterHours
// before its end (or before now) with no final event.
type Stuck struct {
	// AfterHours is Mailgun's retry window (maildiag.RetryWindow).
	AfterHours int `json:"after_hours"`
	// Count is how many there are; Messages lists the oldest.
	Count    int64          `json:"count"`
	Messages []StuckMessage `json:"messages,omitempty"`
}

// StuckMessage is one message still without a final event.
type StuckMessage struct {
	Recipient     string    `json:"recipient"`
	SendingDomain string    `json:"sending_domain"`
	Subject       string    `json:"subject,omitempty"`
	Accepted      time.Time `json:"accepted"`
	// LastEvent is the latest event seen, e.g. "failed temporary 421
	// 4.7.28", when known.
	LastEvent string `json:"last_event,omitempty"`
}

// TypoRow is a recipient domain with no mail server that is probably a
// misspelling of a well-known one.
type TypoRow struct {
	// Domain is the misspelt domain, gmial.com; Suggested the intended
	// one, gmail.com.
	Domain    string `json:"domain"`
	Suggested string `json:"suggested"`
	// Addresses counts the addresses at Domain that failed, Messages the
	// failures.
	Addresses int64 `json:"addresses"`
	Messages  int64 `json:"messages"`
	// Note is the evidence.
	Note string `json:"note,omitempty"`
}

// LookalikeRow is an address that bounced as unknown next to a
// near-identical one at the same domain that receives mail:
// john_smith@initech.com bouncing while john.smith@initech.com receives.
type LookalikeRow struct {
	// Failing is the bouncing address and Failures its bounces.
	Failing  string `json:"failing"`
	Failures int64  `json:"failures"`
	// Code says how it bounced: its class's title.
	Code string `json:"code,omitempty"`
	// Receiving is the near-identical address and Delivered its
	// deliveries (at any time).
	Receiving string `json:"receiving"`
	Delivered int64  `json:"delivered"`
	// Edits is the number of single-character edits between the two
	// local parts.
	Edits int `json:"edits"`
	// LastBounce is the latest bounce of Failing in the period.
	LastBounce time.Time `json:"last_bounce"`
}
