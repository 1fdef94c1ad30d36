package testkit

import (
	"time"

	"github.com/maildiag/maildiag"
	a "github.com/maildiag/maildiag/analyze"
)

// Sending domains of the scenarios: a shop's transactional, marketing and
// sign-in mail.
const (
	shopMail = "mg.shop.example"
	shopNews = "news.shop.example"
	shopAuth = "auth.shop.example"
)

const (
	gmailMX  = "gmail-smtp-in.l.google.com"
	o365MX   = "initech-com.mail.protection.outlook.com"
	mimecast = "eu-smtp-inbound-1.mimecast.com"
	unknown  = "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos"
	blocked  = "Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550"
	greylist = "451 4.7.1 Greylisted, please try again later"
	full     = "552 5.2.2 The email account that you tried to reach is over quota"
)

const h, m, d = time.Hour, time.Minute, 24 * time.Hour

func msg(sd, subject string, evs ...SEvent) SMessage {
	return SMessage{SendingDomain: sd, Subject: subject, Events: evs}
}

func to(rcpt string, mm SMessage) SMessage { mm.Recipient = rcpt; return mm }

func noMX(domain string) string { return "No MX for " + domain }

// Scenarios are the recipient histories trace is judged on: each case of
// the verdicts issue, mixed histories, removals after drops, exports
// without message-ids, and the support handbook's workflows.
func Scenarios() []Scenario {
	bounceEntry := func(sd, code, err string, at time.Duration) SEntry {
		return SEntry{SendingDomain: sd, List: maildiag.ListBounces, Code: code, Error: err, At: at}
	}
	return []Scenario{
		{Name: "delivered with 250: spam folder", Person: "ann.lee@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your invoice", Accepted(0), Delivered(m, "mx1.westmedia.example"))},
			Kind:     a.TraceDelivered, Says: []string{"look in spam", "no-reply@mg.shop.example"}},
		{Name: "delivered and opened", Person: "ben.ode@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your invoice", Accepted(0), Delivered(m, "mx1.westmedia.example"), Opened(5*m))},
			Kind:     a.TraceOpened, Says: []string{"opened", "reached them"}},
		{Name: "delivered and clicked", Person: "cara.ng@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your invoice", Accepted(0), Delivered(m, "mx1.westmedia.example"), Clicked(9*m))},
			Kind:     a.TraceOpened},
		{Name: "delivered to Microsoft 365", Person: "dan.roe@initech.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Delivered(m, o365MX))},
			Kind:     a.TraceDelivered, Says: []string{"Microsoft 365 quarantine"}},
		{Name: "delivered through Mimecast", Person: "eve.fox@acme.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Delivered(m, mimecast))},
			Kind:     a.TraceDelivered, Says: []string{"Mimecast quarantine"}},
		{Name: "deferred: wait", Person: "fay.gu@westmedia.example", Now: 30 * m,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Deferred(m, 451, "4.7.1", greylist, "mx1.westmedia.example"))},
			Kind:     a.TraceRetrying, Says: []string{"Wait: Mailgun retries until 2026-11-20 17:00 UTC"}},
		{Name: "deferred, then delivered", Person: "gus.ho@westmedia.example", Now: 3 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Deferred(m, 451, "4.7.1", greylist, "mx1.westmedia.example"),
				Delivered(40*m, "mx1.westmedia.example"))},
			Kind: a.TraceDelivered},
		{Name: "deferred for hours, then too old", Person: "hal.ito@westmedia.example", Now: 10 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Deferred(m, 421, "4.7.0", "421 4.7.0 Too many connections, slow down", "mx1.westmedia.example"),
				TooOld(8*h))},
			Kind: a.TraceExpired, Says: []string{"Dropped as too old", "421"}},
		{Name: "no mail server, expired after retries", Person: "ivy.jo@deadcorp.example", Now: 10 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Deferred(m, 498, "", noMX("deadcorp.example"), ""), TooOld(8*h))},
			Kind:     a.TraceNoMX, Says: []string{"has no mail server", "cannot be delivered"}},
		{Name: "no mail server while Mailgun retries is not wait", Person: "jay.ku@deadcorp2.example", Now: time.Hour,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Deferred(m, 498, "", noMX("deadcorp2.example"), ""))},
			Kind:     a.TraceNoMX, Says: []string{"now or on a retry"}},
		{Name: "typo domain", Person: "kim.lo@gmial.com", Now: 10 * h,
			Messages: []SMessage{msg(shopAuth, "Confirm your email address", Accepted(0), Deferred(m, 498, "", noMX("gmial.com"), ""), TooOld(8*h))},
			Kind:     a.TraceTypoDomain, Says: []string{"kim.lo@gmail.com"}},
		{Name: "user unknown", Person: "lou.ma@initech.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Bounced(m, 550, "5.1.1", unknown, o365MX))},
			Kind:     a.TraceUserUnknown, Says: []string{"does not exist", "right address"}},
		{Name: "lookalike signup: firstname_lastname bounced, firstname.lastname receives", Person: "john_smith@globex.example", Now: 2 * h,
			Messages: []SMessage{
				to("john.smith@globex.example", msg(shopNews, "News", Accepted(-48*h), Delivered(-48*h+m, "mx.globex.example"))),
				msg(shopMail, "Your order", Accepted(0), Bounced(m, 550, "5.1.1", unknown, "mx.globex.example"))},
			Kind: a.TraceUserUnknown, Says: []string{"probably john.smith@globex.example"}},
		{Name: "policy block", Person: "max.ny@acme.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Bounced(m, 550, "5.7.1", blocked, mimecast))},
			Kind:     a.TraceFailed, Says: []string{"allowlist"}},
		{Name: "mailbox full, permanently", Person: "ned.oh@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Bounced(m, 552, "5.2.2", full, "mx1.westmedia.example"))},
			Kind:     a.TraceFailed},
		{Name: "Not delivering to previously bounced address", Person: "ola.pe@acme.example", Now: 30 * h,
			Messages: []SMessage{
				msg(shopMail, "Your order", Accepted(0), Bounced(m, 550, "5.7.1", blocked, mimecast)),
				msg(shopMail, "Your invoice", Accepted(24*h), Dropped(24*h, maildiag.ReasonSuppressBounce))},
			Entries: []SEntry{bounceEntry(shopMail, "550", blocked, m)},
			Kind:    a.TraceSuppressed, MessageKinds: []string{a.TraceFailed, a.TraceSuppressed},
			Says: []string{"Not delivering to previously bounced address", "maildiag suppressions remove ola.pe@acme.example --list bounces --sending-domain mg.shop.example --yes"}},
		{Name: "dropped, the suppression removed since: resend", Person: "pia.qu@acme.example", Now: 4 * d,
			Messages: []SMessage{
				msg(shopMail, "Your order", Accepted(0), Bounced(m, 550, "5.7.1", blocked, mimecast)),
				msg(shopMail, "Your invoice", Accepted(24*h), Dropped(24*h, maildiag.ReasonSuppressBounce))},
			Entries: []SEntry{{SendingDomain: shopMail, List: maildiag.ListBounces, Code: "550", Error: blocked, At: m, Removed: 3 * d}},
			Kind:    a.TraceResend, Says: []string{"maildiag resend 20261120090000.2.", "@mg.shop.example --yes"}},
		{Name: "unsubscribed", Person: "quin.ra@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopNews, "News", Accepted(0), Dropped(m, maildiag.ReasonSuppressUnsubscribe))},
			Entries:  []SEntry{{SendingDomain: shopNews, List: maildiag.ListUnsubscribes, At: -10 * d}},
			Kind:     a.TraceUnsubscribed, Says: []string{"Not delivering to unsubscribed address", "opt in again"}},
		{Name: "dropped for a complaint", Person: "rae.so@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopNews, "News", Accepted(0), Dropped(m, maildiag.ReasonSuppressComplaint))},
			Entries:  []SEntry{{SendingDomain: shopNews, List: maildiag.ListComplaints, At: -10 * d}},
			Kind:     a.TraceComplained, Says: []string{"explicit consent"}},
		{Name: "complained", Person: "sam.tu@westmedia.example", Now: 5 * h,
			Messages: []SMessage{msg(shopNews, "News", Accepted(0), Delivered(m, "mx1.westmedia.example"), Complained(4*h))},
			Kind:     a.TraceComplained},
		{Name: "rejected by Mailgun", Person: "tia.uv@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Rejected(0, "invalid", "to parameter is not a valid address"))},
			Kind:     a.TraceRejected, Says: []string{"Fix the sending request"}},
		{Name: "accepted moments ago", Person: "uma.vo@westmedia.example", Now: 2 * m,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0))},
			Kind:     a.TraceAcceptedOnly, Says: []string{"Wait a few minutes"}},
		{Name: "an export that ends before delivery", Person: "vic.wu@westmedia.example", Now: 3 * d,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0))},
			Kind:     a.TraceIncomplete, Says: []string{"import a later export"}},
		{Name: "password reset from another sending domain, dropped; a later invite delivered", Person: "christine.smith@westmedia.example", Now: 6 * h,
			Messages: []SMessage{
				msg(shopAuth, "Reset your password", Accepted(0), Dropped(0, maildiag.ReasonSuppressUnsubscribe)),
				msg(shopMail, "You are invited", Accepted(2*h), Delivered(2*h+m, "mx1.westmedia.example"))},
			Entries: []SEntry{{SendingDomain: shopAuth, List: maildiag.ListUnsubscribes, At: -20 * d}},
			Kind:    a.TraceUnsubscribed, MessageKinds: []string{a.TraceUnsubscribed, a.TraceDelivered},
			Says: []string{"Reset your password", "--sending-domain auth.shop.example"}},
		{Name: "newsletters delivered around a dropped confirmation", Person: "wes.xi@westmedia.example", Now: 3 * d,
			Messages: []SMessage{
				msg(shopNews, "November news", Accepted(-2*d), Delivered(-2*d+m, "mx1.westmedia.example")),
				msg(shopAuth, "Confirm your email address", Accepted(0), Dropped(0, maildiag.ReasonSuppressBounce)),
				msg(shopNews, "December news", Accepted(2*d), Delivered(2*d+m, "mx1.westmedia.example"))},
			Entries: []SEntry{bounceEntry(shopAuth, "550", "5.7.1 Message rejected due to local policy", -5*d)},
			Kind:    a.TraceSuppressed, MessageKinds: []string{a.TraceDelivered, a.TraceSuppressed, a.TraceDelivered},
			Says: []string{"--sending-domain auth.shop.example"}},
		{Name: "on the bounce lists of two sending domains", Person: "xan.yu@acme.example", Now: 2 * d,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(d), Dropped(d, maildiag.ReasonSuppressBounce))},
			Entries:  []SEntry{bounceEntry(shopMail, "550", blocked, 0), bounceEntry(shopNews, "550", blocked, m)},
			Kind:     a.TraceSuppressed, Says: []string{"--sending-domain mg.shop.example", "--sending-domain news.shop.example", "2 sending domains"}},
		{Name: "unknown on three bounce lists: no removal", Person: "pandagolden412@gmail.example", Now: 2 * d,
			Messages: []SMessage{msg(shopAuth, "Confirm your email address", Accepted(d), Dropped(d, maildiag.ReasonSuppressBounce))},
			Entries: []SEntry{bounceEntry(shopMail, "550", unknown, 0), bounceEntry(shopNews, "550", unknown, m),
				bounceEntry(shopAuth, "550", unknown, 2*m)},
			Kind: a.TraceUserUnknown, Says: []string{"would only bounce again"}},
		{Name: "suppressed, the mailbox was full", Person: "yas.za@westmedia.example", Now: 2 * d,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(d), Dropped(d, maildiag.ReasonSuppressBounce))},
			Entries:  []SEntry{bounceEntry(shopMail, "552", full, 0)},
			Kind:     a.TraceSuppressed, Says: []string{"The address itself bounced"}},
		{Name: "expired confirmation link", Person: "zed.ab@westmedia.example", Now: 3 * d,
			Messages: []SMessage{msg(shopAuth, "Confirm your email address", Accepted(0), Delivered(m, "mx1.westmedia.example"))},
			Kind:     a.TraceLinkExpired, Says: []string{"send a new one"}},
		{Name: "fresh confirmation link", Person: "abe.bc@westmedia.example", Now: h,
			Messages: []SMessage{msg(shopAuth, "Confirm your email address", Accepted(0), Delivered(m, "mx1.westmedia.example"))},
			Kind:     a.TraceDelivered},
		{Name: "a reset link by its tag", Person: "bea.cd@westmedia.example", Now: 2 * d,
			Messages: []SMessage{func() SMessage {
				mm := msg(shopAuth, "Your Shop account", Accepted(0), Delivered(m, "mx1.westmedia.example"))
				mm.Tags = []string{"password-reset"}
				return mm
			}()},
			Kind: a.TraceLinkExpired},
		{Name: "an unopened delivery outranks an older opened one", Person: "cal.de@westmedia.example", Now: 3 * d,
			Messages: []SMessage{
				msg(shopNews, "News", Accepted(0), Delivered(m, "mx1.westmedia.example"), Opened(h)),
				msg(shopMail, "Your invoice", Accepted(2*d), Delivered(2*d+m, "mx1.westmedia.example"))},
			Kind: a.TraceDelivered, MessageKinds: []string{a.TraceOpened, a.TraceDelivered}, Says: []string{"Your invoice"}},
		{Name: "an expired link outranks a later delivery", Person: "dee.ef@westmedia.example", Now: 3 * d,
			Messages: []SMessage{
				msg(shopAuth, "Reset your password", Accepted(0), Delivered(m, "mx1.westmedia.example")),
				msg(shopMail, "Your invoice", Accepted(2*d), Delivered(2*d+m, "mx1.westmedia.example"))},
			Kind: a.TraceLinkExpired, MessageKinds: []string{a.TraceLinkExpired, a.TraceDelivered}},
		{Name: "an export without message-ids", Person: "eli.fg@westmedia.example", Now: 2 * h,
			Messages: []SMessage{{SendingDomain: shopMail, Subject: "Your order", NoMessageID: true,
				Events: []SEvent{Accepted(0)}}, {SendingDomain: shopMail, Subject: "Your order", NoMessageID: true,
				Events: []SEvent{Delivered(m, "mx1.westmedia.example")}}},
			Kind: a.TraceDelivered},
		{Name: "not found", Person: "nobody.here@westmedia.example", Now: h,
			Kind: a.TraceNotFound, Says: []string{"No events for nobody.here@westmedia.example"}},
		{Name: "not found, an underscore twin receives", Person: "jane_doe@initech.example", Now: 2 * h,
			Messages: []SMessage{to("jane.doe@initech.example", msg(shopMail, "Your order", Accepted(0), Delivered(m, o365MX)))},
			Kind:     a.TraceNotFound, Says: []string{"probably jane.doe@initech.example"}},
		{Name: "not found, mail went to the typo domain", Person: "henry.wisniewski@gmail.com", Now: 10 * h,
			Messages: []SMessage{to("henry.wisniewski@gmial.com", msg(shopAuth, "Confirm your email address", Accepted(0),
				Deferred(m, 498, "", noMX("gmial.com"), ""), TooOld(8*h)))},
			Kind: a.TraceNotFound, Says: []string{"stored as henry.wisniewski@gmial.com"}},
		{Name: "the password reset among other mail, by subject", Person: "fox.gh@westmedia.example", Now: 2 * d,
			Messages: []SMessage{
				msg(shopNews, "News", Accepted(0), Delivered(m, "mx1.westmedia.example")),
				msg(shopAuth, "Reset your password", Accepted(d), Deferred(d+m, 451, "4.7.1", greylist, "mx1.westmedia.example"), TooOld(d+8*h)),
				msg(shopMail, "Your invoice", Accepted(d+h), Delivered(d+h+m, "mx1.westmedia.example"))},
			Subject: "reset", Kind: a.TraceExpired, MessageKinds: []string{a.TraceExpired}},
		{Name: "filters that match nothing", Person: "gia.hi@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Delivered(m, "mx1.westmedia.example"))},
			Subject:  "reset", Kind: a.TraceNotFound, Says: []string{"does not match the filters"}},
		{Name: "one sending domain's suppressions", Person: "hub.ij@acme.example", Now: 2 * d,
			Messages:      []SMessage{msg(shopNews, "News", Accepted(d), Delivered(d+m, mimecast))},
			Entries:       []SEntry{bounceEntry(shopMail, "550", blocked, 0)},
			SendingDomain: shopNews, Kind: a.TraceDelivered, MessageKinds: []string{a.TraceDelivered}},
		{Name: "the message of one event id", Person: "ida.jk@westmedia.example", Now: 2 * d,
			Messages: []SMessage{
				msg(shopMail, "Your order", Accepted(0), Bounced(m, 552, "5.2.2", full, "mx1.westmedia.example")),
				msg(shopMail, "Your invoice", Accepted(d), Delivered(d+m, "mx1.westmedia.example"))},
			EventIDOf: 2, Kind: a.TraceDelivered, MessageKinds: []string{a.TraceDelivered}},
		{Name: "greylisted, still retrying", Person: "jon.kl@westmedia.example", Now: 2 * h,
			Messages: []SMessage{msg(shopMail, "Your order", Accepted(0), Deferred(m, 451, "4.7.1", greylist, "mx1.westmedia.example"),
				Deferred(30*m, 451, "4.7.1", greylist, "mx1.westmedia.example"))},
			Kind: a.TraceRetrying},
		{Name: "on an unsubscribe list, no mail in the index", Person: "kai.lm@westmedia.example", Now: h,
			Entries: []SEntry{{SendingDomain: shopNews, List: maildiag.ListUnsubscribes, At: -3 * d}},
			Kind:    a.TraceUnsubscribed},
	}
}
