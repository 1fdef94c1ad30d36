package analyze

import (
	"context"
	"strings"
	"time"

	"github.com/maildiag/maildiag"
)

// Store is what the analyses read: an index of events and suppression
// lists, whatever its engine. Each analysis uses a few of these methods;
// the store does its own dialect, layout and decompression. Times are UTC,
// ranges half-open [From, Until), and a zero time leaves that end open.
type Store interface {
	EventReader
	FailureReader
	CountReader
	DirectoryReader
	SuppressionReader
}

// EventReader reads whole events.
type EventReader interface {
	// Events returns the events EventQuery selects, oldest first, with
	// their class, rule and gateway as stored.
	Events(ctx context.Context, q EventQuery) ([]maildiag.Event, error)
	// Deliveries counts the delivered events of some recipients.
	Deliveries(ctx context.Context, recipients []RecipientID) (map[RecipientID]Deliveries, error)
	// Span is the time of the first and the last event stored.
	Span(ctx context.Context) (Span, error)
	// CompleteUntil is the time up to which syncs have read a sending
	// domain's events completely: zero when they never have (its events
	// were only imported, and may stop anywhere).
	CompleteUntil(ctx context.Context, sendingDomain string) (time.Time, error)
}

// FailureReader reads failed and rejected events.
type FailureReader interface {
	// Failures calls fn with every failure the filter selects, without its
	// texts (reply, description, subject, From): FailureDetails reads those
	// for the few rows an answer quotes. fn must not keep the pointer.
	Failures(ctx context.Context, f FailureFilter, fn func(*Failure) error) error
	// FailureDetails reads some failures whole.
	FailureDetails(ctx context.Context, refs []Ref) (map[Ref]*Failure, error)
}

// CountReader reads the counts a store keeps as it stores events, so that
// breakdowns cost the same at ten million events as at ten thousand.
type CountReader interface {
	// Counts sums the events of whole UTC days [q.From, q.Until) by the
	// query's dimensions, type and outcome.
	Counts(ctx context.Context, q CountQuery) ([]Count, error)
	// HourlyCounts counts events by UTC hour of [from, until), sending
	// domain, type and outcome (no recipient domain: Count.RecipientDomain
	// is empty).
	HourlyCounts(ctx context.Context, from, until time.Time, sendingDomains []string) ([]Count, error)
	// DomainHourCounts counts the events to some recipient domains by UTC
	// hour of [from, until), sending domain, type and outcome.
	DomainHourCounts(ctx context.Context, recipientDomains []string, from, until time.Time) ([]Count, error)
	// Delays counts deliveries of the UTC days [from, until) by their
	// accepted-to-delivered delay.
	Delays(ctx context.Context, from, until time.Time, sendingDomains []string) ([]DelayCount, error)
	// DeliveryDelays are the exact accepted-to-delivered times of the
	// deliveries in [from, until) to the recipient domains named.
	DeliveryDelays(ctx context.Context, recipientDomains []string, from, until time.Time, sendingDomains []string) ([]DeliveryDelay, error)
	// Pending returns the messages accepted in [from, until) with no final
	// event, oldest first: at most limit of them (0: all) and how many
	// there are.
	Pending(ctx context.Context, from, until time.Time, limit int) ([]Pending, int, error)
	// SplitCounts sums the events of whole UTC days [q.From, q.Until) by
	// sending IP and by tag, type and outcome: what splits a report's
	// volume and rates as Mailgun's dashboard does. An event with several
	// tags counts once under each; one with no IP or tag under none.
	SplitCounts(ctx context.Context, q SplitQuery) ([]SplitCount, error)
}

// DirectoryReader reads the domains and addresses a store knows.
type DirectoryReader interface {
	// Domains returns every domain, sending and recipient, by name.
	Domains(ctx context.Context) (map[string]Domain, error)
	// DomainsNamed returns those of names the store has.
	DomainsNamed(ctx context.Context, names []string) ([]Domain, error)
	// SendingDomains returns the account's sending domains, by name.
	SendingDomains(ctx context.Context) ([]string, error)
	// MatchDomains returns the domains whose name matches a glob of * and
	// ? (maildiag.MatchGlob), by name.
	MatchDomains(ctx context.Context, glob string) ([]Domain, error)
	// LargestDomains returns the n recipient domains with the most
	// addresses.
	LargestDomains(ctx context.Context, n int) ([]Domain, error)
	// FindRecipient returns an address's id, or 0 when the store has none.
	FindRecipient(ctx context.Context, address string) (RecipientID, error)
	// Recipients returns the addresses at a domain that match a glob of *
	// and ? ("": all).
	Recipients(ctx context.Context, domain, glob string) ([]Recipient, error)
	// RecipientsNear returns, by domain, the addresses whose local part is
	// near those wanted there (NearLocals.Has), in id order; a domain
	// with none is left out.
	RecipientsNear(ctx context.Context, want map[string]NearLocals) (map[string][]Recipient, error)
	// Addresses resolves recipient ids.
	Addresses(ctx context.Context, ids []RecipientID) (map[RecipientID]string, error)
}

// SuppressionReader reads suppression-list entries.
type SuppressionReader interface {
	// Suppressions returns the entries the filter selects, removed ones
	// too, by address.
	Suppressions(ctx context.Context, f SuppressionFilter) ([]ListEntry, error)
	// ListSyncs returns when each list was last read whole.
	ListSyncs(ctx context.Context) ([]maildiag.ListSync, error)
}

// RecipientID identifies an address in a store. It is small to keep per
// failure; Addresses resolves it. 0 is no address.
type RecipientID int64

// MessageRef identifies one message in a store; with a RecipientID, one
// delivery. 0 is an event without a message-id.
type MessageRef int64

// Ref identifies one stored failure to the store that returned it; the
// analyses only compare it and hand it back.
type Ref [3]int64

// EventQuery selects whole events: those of some addresses, of a message
// (to any of its recipients, or to Addresses), or with a Mailgun event id.
type EventQuery struct {
	Addresses []string
	MessageID string // without angle brackets
	EventID   string
	// Full reads every event from its original JSON, with Raw. Without it,
	// engagement events (opened, clicked, ...) come with their type, time,
	// sending domain, recipient and message-id only.
	Full bool
}

// Deliveries counts one recipient's delivered events.
type Deliveries struct {
	N    int
	Last time.Time
}

// Span is the time range a store's events cover; zero when it is empty.
type Span struct {
	First, Last time.Time
}

// Failure is one failed or rejected event.
type Failure struct {
	Ref             Ref
	Time            time.Time
	Type            string // failed | rejected
	SendingDomain   string
	Recipient       RecipientID
	RecipientDomain string
	Message         MessageRef
	EventID         string
	Outcome         maildiag.Outcome // temporary, permanent or suppressed; "" for rejected
	Severity        string
	Reason          string
	Code            int
	Enhanced        string
	Class           string
	Rule            string
	Gateway         string
	Provider        string
	MXHost          string
	Attempt         int
	RetrySeconds    int
	BounceType      string
	DelayedBounce   bool
	SendingIP       string
	// Tags are the message's tags. The slice may be shared between
	// failures: read it, never change it.
	Tags []string

	// The texts, read by FailureDetails only.
	Reply, Description, Subject, From string
}

// Event is the failure as an event, without its recipient's address and
// message id, which a store has by reference only.
func (f *Failure) Event() maildiag.Event {
	return maildiag.Event{TimeUS: f.Time.UnixMicro(), Type: f.Type, ID: f.EventID, SendingDomain: f.SendingDomain,
		RecipientDomain: f.RecipientDomain, Provider: f.Provider, Severity: f.Severity, Reason: f.Reason, Code: f.Code,
		EnhancedCode: f.Enhanced, Reply: f.Reply, Description: f.Description, MXHost: f.MXHost, Attempt: f.Attempt,
		RetrySeconds: f.RetrySeconds, BounceType: f.BounceType, DelayedBounce: f.DelayedBounce, SendingIP: f.SendingIP,
		Subject: f.Subject, From: f.From, Class: f.Class, Rule: f.Rule, Gateway: f.Gateway}
}

// Text is what the receiving server or Mailgun said about the failure:
// the SMTP reply, else Mailgun's description, else its reason when that is
// a sentence (a rejected message has only that) rather than a short code.
func (f *Failure) Text() string {
	switch {
	case f.Reply != "":
		return f.Reply
	case f.Description != "":
		return f.Description
	case strings.Contains(f.Reason, " "):
		return f.Reason
	}
	return ""
}

// FailureFilter selects failures. Empty fields select everything; text
// filters compare case-insensitively.
type FailureFilter struct {
	From, Until      time.Time
	RecipientDomains []string
	Recipients       []RecipientID // only these; with RecipientDomains, only these of them
	SendingDomains   []string
	Codes            []int
	Enhanced         []string // exact codes, or prefixes ending in '.' (5.7.)
	Classes          []string
	Severities       []string
	Gateways         []string // gateway or Mailgun's recipient-provider
	FromContains     string
	SubjectContains  string
	// SuppressionCauses keeps only the failures that put an address on
	// a suppression list or were dropped for one (Suppressed reads these):
	// suppression drops, permanent failures that were not delayed
	// bounces, and bounces.
	SuppressionCauses bool
}

// SuppressionDropReasons are the reasons of the drops for a suppression
// list, for FailureFilter.SuppressionCauses.
func SuppressionDropReasons() []string {
	var out []string
	for _, d := range maildiag.Drops {
		if d.List != "" {
			out = append(out, d.Reason)
		}
	}
	return out
}

// Count dimensions a CountQuery groups by, besides type and outcome.
const (
	CountByDay = 1 << iota
	CountBySendingDomain
	CountByRecipientDomain
)

// CountQuery selects and groups counts of whole UTC days.
type CountQuery struct {
	From, Until      time.Time
	SendingDomains   []string
	RecipientDomains []string
	Types            []string // empty: all
	By               int      // CountBy* flags; the other dimensions are summed over and left empty
}

// Count is a number of events of one type and outcome in one day or hour,
// from one sending domain to one recipient domain; dimensions summed over
// are zero or empty.
type Count struct {
	Time            time.Time // start of the day or hour
	SendingDomain   string
	RecipientDomain string
	Type            string
	Outcome         maildiag.Outcome // failed events only
	N               int64
}

// SplitQuery selects the events SplitCounts sums.
type SplitQuery struct {
	From, Until      time.Time
	SendingDomains   []string // empty: all
	RecipientDomains []string // empty: all
}

// Split dimensions of a SplitCount.
const (
	SplitByIP  = "ip"
	SplitByTag = "tag"
)

// SplitCount is a number of events of one type and outcome from one
// sending IP or with one tag.
type SplitCount struct {
	By      string // SplitByIP or SplitByTag
	Name    string // the IP or the tag
	Type    string
	Outcome maildiag.Outcome // failed events only
	N       int64
}

// DeliveryDelay is the accepted-to-delivered time of one delivery.
type DeliveryDelay struct {
	RecipientDomain string
	Delay           time.Duration
}

// DeliveryStep is a stored accepted or delivered event of one delivery (a
// message to a recipient), for DelaysOf.
type DeliveryStep struct {
	Recipient  RecipientID
	MessageKey int64 // the message id's key in the store; 0: none
	TimeUS     int64
	Delivered  bool // else accepted
}

// DelaysOf pairs each delivered step in [fromUS, untilUS) with its
// delivery's earliest accepted step and returns the times between them.
// A delivery accepted before the steps read (or never) has none.
func DelaysOf(steps []DeliveryStep, fromUS, untilUS int64) []time.Duration {
	type key struct {
		rcpt RecipientID
		mk   int64
	}
	accepted := map[key]int64{}
	for _, s := range steps {
		if k := (key{s.Recipient, s.MessageKey}); !s.Delivered && s.MessageKey != 0 {
			if a, ok := accepted[k]; !ok || s.TimeUS < a {
				accepted[k] = s.TimeUS
			}
		}
	}
	var out []time.Duration
	for _, s := range steps {
		if !s.Delivered || s.MessageKey == 0 || s.TimeUS < fromUS || s.TimeUS >= untilUS {
			continue
		}
		if a, ok := accepted[key{s.Recipient, s.MessageKey}]; ok && a <= s.TimeUS {
			out = append(out, time.Duration(s.TimeUS-a)*time.Microsecond)
		}
	}
	return out
}

// DelayCount is a number of deliveries on one day, from one sending domain
// through one gateway, whose accepted-to-delivered delay was at most Le
// (and more than the next smaller Le the store counts by).
type DelayCount struct {
	Day           time.Time
	SendingDomain string
	Gateway       string
	Le            time.Duration // the longest bucket has the largest Duration
	N             int64
}

// Pending is a message accepted for a recipient with no final event.
type Pending struct {
	Recipient       RecipientID
	RecipientDomain string
	SendingDomain   string
	Accepted        time.Time
}

// Domain is a sending or recipient domain as a store knows it.
type Domain struct {
	Name       string `json:"name"`
	Provider   string `json:"provider,omitempty"` // Mailgun's recipient-provider
	Gateway    string `json:"gateway,omitempty"`
	MXHost     string `json:"mx_host,omitempty"`
	Recipients int64  `json:"recipients"` // addresses at the domain
}

// Recipient is a stored address.
type Recipient struct {
	ID      RecipientID
	Address string
}

// SuppressionFilter selects suppression-list entries.
type SuppressionFilter struct {
	Domains        []string // entries whose address is at one of these domains
	AddressGlob    string   // * and ?; "": any
	SendingDomains []string
	Lists          []string
	CreatedFrom    time.Time
	CreatedUntil   time.Time
}

// ListEntry is a stored suppression-list entry and what syncs saw of it.
type ListEntry struct {
	maildiag.Suppression
	FirstSeen, LastSeen time.Time
	Removed             time.Time // zero: on the list when last seen
	Imported            bool      // read from an exported file, not synced
}
