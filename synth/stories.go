package synth

import "time"

// Stories names what Generate planted in an account: the cases the
// analyzers must recognise, with the addresses, message ids and times they
// should report. Every story lies at least two days before the end of the
// range and is complete in the output whatever the number of events.
type Stories struct {
	DomainBlock *DomainBlock `json:"domain_block"`
	IPBlock     *IPBlock     `json:"ip_block"`
	RateLimit   *RateLimit   `json:"rate_limit"`
	TypoDomain  *TypoDomain  `json:"typo_domain"`
	Lookalike   *Lookalike   `json:"lookalike"`
	NeverOpened *NeverOpened `json:"never_opened"`
	Complaints  *Complaints  `json:"complaints"`
	DuplicateID *DuplicateID `json:"duplicate_id"`
	Verify      *Verify      `json:"verify_identity"`
}

// Verify is a customer who received several "Verify your identity"
// messages: the older ones no longer stored by Mailgun (it keeps them 72
// hours), the last one (2.5 days before the end) still stored, for the
// quick view of log search.
type Verify struct {
	Address       string         `json:"address"`
	SendingDomain string         `json:"sending_domain"`
	Subject       string         `json:"subject"`
	Messages      []StoryMessage `json:"messages"` // oldest first
}

// StoryMessage is one message of a story and how it ended.
type StoryMessage struct {
	MessageID string    `json:"message_id"`
	Recipient string    `json:"recipient"`
	SendingIP string    `json:"sending_ip"`
	Accepted  time.Time `json:"accepted"`
	// Outcome is delivered, failed (permanent), dropped (suppressed) or
	// expired (602 after retries); Deferrals counts temporary failures first.
	Outcome   string    `json:"outcome"`
	Code      int       `json:"code"`
	Deferrals int       `json:"deferrals"`
	Final     time.Time `json:"final"`
}

// DomainBlock is a customer domain behind a gateway that starts rejecting
// all mail from one sending domain: many addresses bounce within two hours,
// land on the bounce list, and later messages to them are dropped (605).
type DomainBlock struct {
	Domain        string         `json:"domain"`
	MXHost        string         `json:"mx_host"`
	Gateway       string         `json:"gateway"`
	SendingDomain string         `json:"sending_domain"`
	Code          int            `json:"code"`
	Reply         string         `json:"reply"`
	BlockStart    time.Time      `json:"block_start"`
	BlockEnd      time.Time      `json:"block_end"`
	Addresses     []string       `json:"addresses"`
	Delivered     []StoryMessage `json:"delivered_before"`
	Blocked       []StoryMessage `json:"blocked"`
	Dropped       []StoryMessage `json:"dropped_after"`
}

// IPBlock is a Microsoft 365 tenant deferring one sending IP (451 4.7.650)
// and then refusing it (550 5.7.1 S3150), while the other IP still delivers.
type IPBlock struct {
	Domain        string         `json:"domain"`
	MXHost        string         `json:"mx_host"`
	SendingDomain string         `json:"sending_domain"`
	SendingIP     string         `json:"sending_ip"`
	OtherIP       string         `json:"other_ip"`
	DeferralStart time.Time      `json:"deferral_start"`
	BlockStart    time.Time      `json:"block_start"`
	DeferralReply string         `json:"deferral_reply"`
	BlockReply    string         `json:"block_reply"`
	Deferrals     int            `json:"deferrals"`
	Blocks        int            `json:"blocks"`
	Addresses     []string       `json:"addresses"`
	Messages      []StoryMessage `json:"messages"`
	OtherIPs      []StoryMessage `json:"other_ip_messages"`
}

// RateLimit is a wave of Gmail 421 4.7.28 deferrals for one sending domain
// and IP over a few hours, after which the messages are delivered.
// Deferrals counts every 4.7.28 failure of that domain in the window,
// background messages included; Messages are the planted ones.
type RateLimit struct {
	SendingDomain   string         `json:"sending_domain"`
	SendingIP       string         `json:"sending_ip"`
	RecipientDomain string         `json:"recipient_domain"`
	Start           time.Time      `json:"start"`
	End             time.Time      `json:"end"`
	Reply           string         `json:"reply"`
	Deferrals       int            `json:"deferrals"`
	Messages        []StoryMessage `json:"messages"`
}

// TypoDomain is a misspelt freemail domain with no MX: 498 on every
// attempt until Mailgun gives up with 602.
type TypoDomain struct {
	Domain        string         `json:"domain"`
	Intended      string         `json:"intended"`
	SendingDomain string         `json:"sending_domain"`
	Reply         string         `json:"reply"`
	Addresses     []string       `json:"addresses"`
	Messages      []StoryMessage `json:"messages"`
}

// Lookalike is an address that does not exist next to a near-identical one
// at the same domain that receives mail.
type Lookalike struct {
	Domain           string         `json:"domain"`
	MXHost           string         `json:"mx_host"`
	SendingDomain    string         `json:"sending_domain"`
	BouncedAddress   string         `json:"bounced_address"`
	DeliveredAddress string         `json:"delivered_address"`
	Reply            string         `json:"reply"`
	Bounce           StoryMessage   `json:"bounce"`
	Dropped          []StoryMessage `json:"dropped"`
	Delivered        []StoryMessage `json:"delivered"`
}

// NeverOpened is a confirmation email delivered with 250 more than a day
// before the end of the range and never opened: "I never got it".
type NeverOpened struct {
	Address       string    `json:"address"`
	SendingDomain string    `json:"sending_domain"`
	MessageID     string    `json:"message_id"`
	Subject       string    `json:"subject"`
	Tags          []string  `json:"tags"`
	MXHost        string    `json:"mx_host"`
	Reply         string    `json:"reply"`
	Accepted      time.Time `json:"accepted"`
	DeliveredAt   time.Time `json:"delivered_at"`
}

// Complaints are recipients who marked a newsletter as spam; they are on
// the complaints list and later messages to them are dropped (607).
type Complaints struct {
	SendingDomain string           `json:"sending_domain"`
	Complaints    []StoryComplaint `json:"complaints"`
	Dropped       []StoryMessage   `json:"dropped"`
}

// StoryComplaint is one complaint.
type StoryComplaint struct {
	Address      string    `json:"address"`
	MessageID    string    `json:"message_id"`
	ComplainedAt time.Time `json:"complained_at"`
}

// DuplicateID is a pair of events on different UTC days sharing an id:
// Mailgun ids are unique only within a day.
type DuplicateID struct {
	ID     string       `json:"id"`
	Events []StoryEvent `json:"events"`
}

// StoryEvent identifies one event.
type StoryEvent struct {
	Type      string    `json:"type"`
	Time      time.Time `json:"time"`
	MessageID string    `json:"message_id"`
	Recipient string    `json:"recipient"`
}
