package ingest

import (
	stdjson "encoding/json"
)

// wire is the union of every JSON record shape ingest understands: Events API
// items, Logs API items, webhook payloads, legacy flat webhooks, containers
// holding items, and suppression-list entries. Fields whose type varies
// between shapes are kept raw and read by the normaliser.
type wire struct {
	Event       string             `json:"event"`
	ID          string             `json:"id"`
	Timestamp   stdjson.RawMessage `json:"timestamp"`  // float seconds; legacy: string
	AtTimestamp string             `json:"@timestamp"` // Logs API
	Recipient   string             `json:"recipient"`
	RecipDomain string             `json:"recipient-domain"`
	Provider    string             `json:"recipient-provider"`
	Severity    string             `json:"severity"`
	Reason      string             `json:"reason"`
	LogLevel    string             `json:"log-level"`
	Domain      stdjson.RawMessage `json:"domain"` // Logs: {"name":..}; legacy: string
	Tags        stdjson.RawMessage `json:"tags"`   // events and unsubscribes: []string (a string in some exports)
	Flags       struct {
		DelayedBounce *bool `json:"is-delayed-bounce"`
	} `json:"flags"`
	Envelope struct {
		Sender    string `json:"sender"`
		Targets   string `json:"targets"`
		SendingIP string `json:"sending-ip"`
	} `json:"envelope"`
	Message struct {
		Headers struct {
			To        string `json:"to"`
			From      string `json:"from"`
			Subject   string `json:"subject"`
			MessageID string `json:"message-id"`
		} `json:"headers"`
	} `json:"message"`
	Storage struct {
		URL stdjson.RawMessage `json:"url"` // string; Logs: array
	} `json:"storage"`
	Status struct {
		Code         stdjson.RawMessage `json:"code"`
		EnhancedCode string             `json:"enhanced-code"`
		BounceCode   string             `json:"bounce-code"`
		Message      string             `json:"message"`
		Description  string             `json:"description"`
		MXHost       string             `json:"mx-host"`
		AttemptNo    stdjson.RawMessage `json:"attempt-no"`
		RetrySeconds stdjson.RawMessage `json:"retry-seconds"`
		Session      stdjson.RawMessage `json:"session-seconds"`
		TLS          *bool              `json:"tls"`
		BounceType   string             `json:"bounce-type"`
	} `json:"delivery-status"`
	Reject struct {
		Reason      string `json:"reason"`
		Description string `json:"description"`
	} `json:"reject"`

	// Webhooks and containers.
	EventData stdjson.RawMessage `json:"event-data"`
	Items     stdjson.RawMessage `json:"items"`
	Paging    pagingLinks        `json:"paging"`

	// Legacy flat webhooks.
	Code           stdjson.RawMessage `json:"code"` // also bounce-list code
	Error          string             `json:"error"`
	Description    string             `json:"description"`
	LegacyMsgID    string             `json:"Message-Id"`
	MessageHeaders string             `json:"message-headers"`
	LegacyTag      stdjson.RawMessage `json:"tag"` // also old unsubscribe "tag"

	// Suppression-list entries.
	Address   string `json:"address"`
	CreatedAt string `json:"created_at"`
	CreatedAC string `json:"createdAt"` // allowlist uses camelCase
	Type      string `json:"type"`
	Value     string `json:"value"`
}
