package maildiag

// Failure class names. They are stable identifiers: users filter on them
// and scripts depend on them, so a name is never changed or reused.
const (
	ClassSuppressedBounce      = "suppressed-bounce"
	ClassSuppressedComplaint   = "suppressed-complaint"
	ClassSuppressedUnsubscribe = "suppressed-unsubscribe"
	ClassSuppressedListQuality = "suppressed-list-quality"
	ClassUserUnknown           = "user-unknown"
	ClassMailboxDisabled       = "mailbox-disabled"
	ClassMailboxFull           = "mailbox-full"
	ClassDomainNotFound        = "domain-not-found"
	ClassPolicyBlock           = "policy-block"
	ClassBlocklisted           = "blocklisted"
	ClassRateLimited           = "rate-limited"
	ClassAuthentication        = "authentication"
	ClassSpamContent           = "spam-content"
	ClassMessageTooLarge       = "message-too-large"
	ClassGreylisted            = "greylisted"
	ClassConnection            = "connection"
	ClassExpired               = "expired"
	ClassDelayedBounce         = "delayed-bounce"
	ClassRejectedByMailgun     = "rejected-by-mailgun"
	ClassOther                 = "other"
)

// ClassInfo describes one failure class.
type ClassInfo struct {
	Name  string // kebab-case id, one of the Class* constants
	Title string // short human label
	// Hard is true when the address itself is at fault: retrying the same
	// address can never work. Soft failures can succeed once their cause
	// (a block, a quota, our own setup) is fixed.
	Hard bool
	// Action is what a support engineer should do about it.
	Action string
}

// Classes is the failure taxonomy in display order: Mailgun's own drops
// first, then problems of the address, of the recipient's policy, of our
// sending, of the message, transient ones, and what is left.
var Classes = []ClassInfo{
	{ClassSuppressedBounce, "Suppressed: earlier bounce", true,
		"Mailgun dropped the message without trying: the address is on the sending domain's bounce list. Read the bounce that put it there; if that was a block or a typo now fixed, remove the suppression and resend, otherwise correct the address."},
	{ClassSuppressedComplaint, "Suppressed: spam complaint", true,
		"Mailgun dropped the message because the recipient marked our mail as spam. Leave the suppression unless the recipient asks in writing to receive mail again."},
	{ClassSuppressedUnsubscribe, "Suppressed: unsubscribed", true,
		"Mailgun dropped the message because the recipient unsubscribed. Remove the unsubscribe only if they opt back in; send transactional mail without the unsubscribed tag."},
	{ClassSuppressedListQuality, "Dropped: poor list quality", false,
		"Mailgun dropped the message because too many addresses on the list were invalid. Clean the list (bounced and never-engaged addresses), then ask Mailgun support to lift the restriction."},
	{ClassUserUnknown, "User unknown", true,
		"The recipient's server says the mailbox does not exist. Check the address with the customer for typos (a near-identical address may be the right one); do not resend to it as it is."},
	{ClassMailboxDisabled, "Mailbox disabled", true,
		"The mailbox exists but is disabled or inactive. Ask the customer for an address they use now."},
	{ClassMailboxFull, "Mailbox full", false,
		"The recipient's mailbox is over its quota. Mailgun retries for a while; the recipient must free space, then resend."},
	{ClassDomainNotFound, "Domain not found", true,
		"The recipient domain has no working mail servers: no MX, an expired domain or a typo such as gmial.com. Correct the domain with the customer; mail to it cannot be delivered."},
	{ClassPolicyBlock, "Policy block", false,
		"The recipient's gateway or admin refused our mail by policy. Ask their mail admin to allowlist our sending domain and IPs, then remove the suppressions and resend."},
	{ClassBlocklisted, "Block-listed", false,
		"Our sending IP or domain is on a block list the recipient uses (Spamhaus, Microsoft, Proofpoint, ...). Look the IP up at the link in the reply, request delisting or ask Mailgun support for other IPs, and fix the cause (complaints, stale lists)."},
	{ClassRateLimited, "Rate limited", false,
		"The recipient's provider is throttling our mail for its volume or our reputation. Mailgun retries; if it persists, slow the sending rate, warm up new IPs and check the provider's postmaster tools."},
	{ClassAuthentication, "Authentication failed", false,
		"The message failed SPF, DKIM or DMARC at the recipient. Check the sending domain's DNS records in Mailgun and the From domain's DMARC alignment, then resend."},
	{ClassSpamContent, "Spam content", false,
		"The recipient's filter judged this message itself to be spam (content, links or attachments). Review what that message contains and links to, and resend after changing it."},
	{ClassMessageTooLarge, "Message too large", false,
		"The message exceeds the recipient's or Mailgun's size limit. Send large attachments as links and resend a smaller message."},
	{ClassGreylisted, "Greylisted", false,
		"The recipient's server deferred a first attempt from an unknown sender (greylisting). Nothing to do: Mailgun retries and a later attempt is normally accepted."},
	{ClassConnection, "Connection failed", false,
		"Mailgun could not connect to, or keep a session with, the recipient's mail servers (down, refusing, timing out, or a TLS failure). Mailgun retries; if it persists, ask the recipient's admin to check their mail servers."},
	{ClassExpired, "Expired after retries", false,
		"Mailgun kept getting temporary failures and gave up after about 8 hours of retries. Look at the message's earlier deferrals for the cause, fix it, then resend."},
	{ClassDelayedBounce, "Delayed bounce", true,
		"The recipient's gateway accepted the message and bounced it later, usually because the mailbox behind it does not exist. Read the bounce text and correct the address with the customer."},
	{ClassRejectedByMailgun, "Rejected by Mailgun", false,
		"Mailgun refused the API request before sending anything: an invalid address, a sandbox or unverified domain, or an account limit. Fix the request or the account setting the reason names, then send again."},
	{ClassOther, "Other", false,
		"No rule recognised this failure. Read the server's reply; if it recurs, add a rule for it to analyze/classify/rules.txt."},
}

var classIndex = func() map[string]int {
	m := make(map[string]int, len(Classes))
	for i, c := range Classes {
		m[c.Name] = i
	}
	return m
}()

// ClassOf returns the description of a failure class by name.
func ClassOf(name string) (ClassInfo, bool) {
	i, ok := classIndex[name]
	if !ok {
		return ClassInfo{}, false
	}
	return Classes[i], true
}
