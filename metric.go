package maildiag

// Metric resolutions: Mailgun's Metrics API keeps hourly counts for 60
// days and daily ones for a year.
const (
	ResolutionHour = "hour"
	ResolutionDay  = "day"
)

// Metric is one period's counts of a sending domain from Mailgun's Metrics
// API: volumes and outcomes for times the events index may never have
// seen (before its first event, or past the log retention).
type Metric struct {
	SendingDomain   string `json:"sending_domain"`
	Resolution      string `json:"resolution"` // ResolutionHour or ResolutionDay
	StartUS         int64  `json:"start_us"`   // the period's start, UTC
	Accepted        int64  `json:"accepted"`
	Delivered       int64  `json:"delivered"`
	TemporaryFailed int64  `json:"temporary_failed"`
	PermanentFailed int64  `json:"permanent_failed"`
	HardBounces     int64  `json:"hard_bounces"`
	SoftBounces     int64  `json:"soft_bounces"`
	// Suppressed counts messages dropped for a suppression list (bounces,
	// unsubscribes, complaints) without a delivery attempt.
	Suppressed   int64 `json:"suppressed"`
	Complained   int64 `json:"complained"`
	Unsubscribed int64 `json:"unsubscribed"`
	Opened       int64 `json:"opened"`
	Clicked      int64 `json:"clicked"`
}
