package report

import (
	"fmt"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// The fixture is one realistic week of four sending domains, with the
// stories the analyses are meant to find planted in it:
//   - acme.com, behind Mimecast, blocks us domain-wide: 42 addresses bounce
//     with 550 5.7.1 "Envelope blocked" within 2 hours on Wed 3 Dec;
//   - contoso.com, behind Microsoft 365, defers with 4.7.650 on Fri 5 Dec,
//     then blocks our IP with 550 5.7.1 (S3150) from Sat 6 Dec;
//   - Gmail rate-limits mg.brightcart.io with 421 4.7.28 on Wed 3 and Thu 4;
//   - gmial.com is a typo of gmail.com (no MX);
//   - john_smith@initech.com bounces while john.smith@initech.com receives.

var (
	weekStart = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	sending   = []string{"mg.brightcart.io", "mail.ledgerly.com", "notify.tripnest.co", "news.fitpulse.app"}
)

func day(n int) time.Time { return weekStart.AddDate(0, 0, n) }

func at(dayN, hour, minute int) time.Time {
	return day(dayN).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

const (
	replyGmailUnknown = "550-5.1.1 The email account that you tried to reach does not exist. Please try\n" +
		"550-5.1.1 double-checking the recipient's email address for typos or\n" +
		"550-5.1.1 unnecessary spaces. For more information, go to\n" +
		"550 5.1.1  https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-b9d1f5c3a1esi1234567a.412 - gsmtp"
	replyGmailRate = "421-4.7.28 [203.0.113.7      15] Gmail has detected an unusual rate of unsolicited\n" +
		"421-4.7.28 mail originating from your SPF domain [mg.brightcart.io      15]. To protect\n" +
		"421-4.7.28 our users from spam, mail sent from your domain has been temporarily rate\n" +
		"421 4.7.28 limited. https://support.google.com/mail/?p=UnsolicitedRateLimitError - gsmtp"
	replyMimecast  = "550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550 [dFk2e8WJNa2T5r0KV0kq1w.uk150]"
	replyMS4_7_650 = "451 4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) [AM0PR10MB2345.EURPRD10.PROD.OUTLOOK.COM]"
	replyMS3150    = "550 5.7.1 Unfortunately, messages from [203.0.113.7] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [BN8NAM11FT066.eop-nam11.prod.protection.outlook.com 2025-12-06T08:14:09.512Z 08DE2F1B7C3A9D45]"
	replyFull      = "552 5.2.2 The email account that you tried to reach is over quota and inactive."
	replyNoMX      = "No MX for gmial.com"
	replySuppress  = "Not delivering to previously bounced address"
	replyProof     = "554 5.7.1 [P4] Message blocked due to spam content in the message. Refer to https://ipcheck.proofpoint.com/?ip=203.0.113.7"
	replyYahoo     = "421 4.7.0 [TSS04] Messages from 203.0.113.7 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
	replyInitech   = "550 5.1.1 <john_smith@initech.com>: Recipient address rejected: User unknown in virtual mailbox table"
)

var (
	firstNames = []string{"olivia", "liam", "emma", "noah", "ava", "elijah", "sophia", "lucas", "mia", "mateo", "amelia", "levi", "harper", "ezra", "evelyn", "luca", "abigail", "asher", "ella", "leo", "scarlett"}
	lastNames  = []string{"nguyen", "okafor", "schmidt", "rossi", "kowalski", "haddad", "tanaka", "fernandes"}
)

// person returns a distinct, realistic local part for n.
func person(n int) string {
	f := firstNames[n%len(firstNames)]
	l := lastNames[(n/len(firstNames))%len(lastNames)]
	switch n % 3 {
	case 0:
		return f + "." + l
	case 1:
		return f + l
	default:
		return f + "_" + l
	}
}

// The verdict texts the rows of the fixture show.
const (
	blockVerdict     = "Domain-wide block at the recipient, not bad addresses: ask their admin to allowlist our sending IPs, then remove the suppressions."
	badVerdict       = "Scattered bad addresses: the domain accepts our mail; clean the list."
	temporaryVerdict = "Mostly deferrals: Mailgun is still retrying."
)

func sampleData() *analyze.HealthResult {
	d := &analyze.HealthResult{
		Title:     "Delivery health: 1–7 December 2025",
		Generated: time.Date(2025, 12, 8, 6, 0, 0, 0, time.UTC),
		Period:    analyze.Period{From: day(0), Until: day(7)},
		Previous:  analyze.Period{From: day(-7), Until: day(0)},
		Totals: analyze.Totals{
			Accepted: 42880, Delivered: 41275, FailedTemporary: 2005, FailedPermanent: 932,
			Suppressed: 214, Complaints: 6, Unsubscribes: 38,
		},
		PreviousTotals: &analyze.Totals{
			Accepted: 40110, Delivered: 39380, FailedTemporary: 880, FailedPermanent: 401,
			Suppressed: 162, Complaints: 0, Unsubscribes: 41,
		},
	}

	d.Blocks = []analyze.DomainBlock{{
		Domain: "acme.com",
		Text: "acme.com: 42 addresses bounced with 550 5.7.1 from one Mimecast gateway within 2 hours: a domain-wide block at the recipient, not bad addresses. " +
			"Ask their admin to allowlist our sending IPs, then remove the suppressions.",
		Addresses: 42, Code: 550, EnhancedCode: "5.7.1",
		Gateway: "Mimecast", MXHost: "eu-smtp-inbound-1.mimecast.com",
		First: at(2, 9, 12), Last: at(2, 10, 58),
		SendingDomains: []string{"mg.brightcart.io", "mail.ledgerly.com"},
		SampleReply:    replyMimecast,
		Advice:         "Ask their admin to allowlist our sending IPs, then remove the suppressions.",
	}}
	d.Alerts = []analyze.Alert{
		{
			Severity: analyze.AlertCritical,
			Title:    "Microsoft 365 blocks our IP 203.0.113.7 (S3150)",
			Text:     "contoso.com (Microsoft 365): after 4.7.650 reputation deferrals on Fri 5 Dec, Microsoft rejects our sending IP as block-listed (S3150) since Sat 6 Dec. Request delisting through Microsoft's sender support, then resend.",
			Evidence: []string{"Fri 5 Dec: 118 deferrals 451 4.7.650 from contoso-com.mail.protection.outlook.com", "Sat 6 – Sun 7 Dec: 94 rejections 550 5.7.1 (S3150)", "Sending IP 203.0.113.7 (mail.ledgerly.com)"},
		},
		{
			Severity: analyze.AlertWarning,
			Title:    "Gmail rate-limits mg.brightcart.io (421 4.7.28)",
			Text:     "Gmail deferred 1,020 messages with 421 4.7.28 on Wed 3 and Thu 4 Dec: an unusual rate of unsolicited mail from our SPF domain. Mailgun retried and 96% were delivered later. Slow down the news sends and check complaint rates.",
			Evidence: []string{"Wed 3 Dec: 610 deferrals 4.7.28", "Thu 4 Dec: 410 deferrals 4.7.28", "40 expired after 8 hours of retries"},
		},
		{
			Severity: analyze.AlertInfo,
			Title:    "Typo domain gmial.com",
			Text:     "18 messages went to 14 addresses at gmial.com, which has no MX: a typo of gmail.com. Fix the addresses at sign-up.",
		},
	}

	vol := [][4]int64{
		{6820, 6702, 95, 61},
		{7140, 6995, 120, 84},
		{8310, 7705, 690, 412},
		{7560, 7228, 540, 150},
		{7020, 6810, 310, 96},
		{3150, 3020, 180, 88},
		{2880, 2815, 70, 41},
	}
	for i, v := range vol {
		d.Volume = append(d.Volume, analyze.VolumeBucket{Start: day(i), Totals: analyze.Totals{Accepted: v[0], Delivered: v[1], FailedTemporary: v[2], FailedPermanent: v[3],
			DeliveryRate: float64(v[1]) / float64(v[0])}})
	}
	d.Rates = analyze.RatesOf(d.Totals, d.PreviousTotals, analyze.Thresholds{})
	d.SendingDomains = []analyze.SplitRow{
		{Name: "mg.brightcart.io", Messages: 18400, Accepted: 18400, Delivered: 17320, DeliveryRate: 17320.0 / 18400, Failures: 410, Deferrals: 1310,
			Class: "user-unknown", ClassCount: 180, DeferralClass: "rate-limited", DeferralClassCount: 1139},
		{Name: "mail.ledgerly.com", Messages: 9800, Accepted: 9800, Delivered: 9620, DeliveryRate: 9620.0 / 9800, Failures: 160, Deferrals: 240, Class: "policy-block", ClassCount: 42},
	}
	d.SendingIPs = []analyze.SplitRow{
		{Name: "203.0.113.7", Messages: 12400, Delivered: 12020, DeliveryRate: 12020.0 / 12400, Failures: 380, Deferrals: 1290, Class: "blocklisted", ClassCount: 61,
			DeferralClass: "rate-limited", DeferralClassCount: 1139},
	}
	d.Tags = []analyze.SplitRow{
		{Name: "newsletter", Messages: 14100, Accepted: 14100, Delivered: 13480, DeliveryRate: 13480.0 / 14100, Failures: 320, Deferrals: 1150,
			Class: "user-unknown", ClassCount: 140, DeferralClass: "rate-limited", DeferralClassCount: 1020},
		{Name: "password-reset", Messages: 2100, Accepted: 2100, Delivered: 2061, DeliveryRate: 2061.0 / 2100, Failures: 39, Class: "policy-block", ClassCount: 30},
	}

	// Per day: user-unknown, mailbox-full, policy-block, blocklisted,
	// rate-limited, domain-not-found, suppressed-bounce, expired.
	classes := []string{"user-unknown", "mailbox-full", "policy-block", "blocklisted", "rate-limited", "domain-not-found", "suppressed-bounce", "expired"}
	perDay := [][]int64{
		{38, 9, 6, 0, 22, 3, 28, 0},
		{52, 11, 9, 0, 30, 2, 31, 1},
		{61, 10, 58, 0, 610, 4, 36, 12},
		{44, 8, 12, 0, 410, 3, 40, 28},
		{41, 12, 8, 118, 35, 2, 29, 6},
		{29, 7, 5, 61, 20, 2, 27, 3},
		{22, 6, 4, 33, 12, 2, 23, 0},
	}
	total := make([]int64, len(classes))
	for i, row := range perDay {
		b := analyze.ClassBucket{Start: day(i)}
		for k, n := range row {
			if n > 0 {
				b.Counts = append(b.Counts, analyze.ClassCount{Class: classes[k], Count: n})
			}
			total[k] += n
		}
		d.Classes = append(d.Classes, b)
	}
	order := []int{4, 0, 6, 3, 2, 1, 7, 5} // by total, most first
	for _, k := range order {
		info, _ := maildiag.ClassOf(classes[k])
		d.TopClasses = append(d.TopClasses, analyze.ClassRow{Class: classes[k], Title: info.Title, Count: total[k], Kind: info.BounceKind(), Advice: info.Action})
	}

	d.Domains = []analyze.DomainRow{
		{Domain: "acme.com", Messages: 44, Failures: 42, Class: "policy-block", Gateway: "Mimecast", Verdict: analyze.RowDomainBlock, VerdictText: blockVerdict},
		{Domain: "contoso.com", Messages: 380, Failures: 212, Class: "blocklisted", Gateway: "Microsoft 365", Verdict: analyze.RowDomainBlock,
			VerdictText: "Microsoft 365 blocks our sending IP (S3150) after 4.7.650 deferrals: request delisting, then resend."},
		{Domain: "gmial.com", Messages: 18, Failures: 18, Class: "domain-not-found", Verdict: analyze.RowBadAddresses, VerdictText: "Typo of gmail.com: no MX."},
		{Domain: "globex.net", Messages: 150, Failures: 31, Class: "policy-block", Gateway: "Proofpoint", Verdict: analyze.RowBadAddresses, VerdictText: badVerdict},
		{Domain: "initech.com", Messages: 260, Failures: 9, Class: "user-unknown", Gateway: "Google Workspace", Verdict: analyze.RowBadAddresses, VerdictText: badVerdict},
		{Domain: "umbrella-corp.io", Messages: 90, Failures: 12, Class: "mailbox-full", Gateway: "Gmail", Verdict: analyze.RowTemporary, VerdictText: temporaryVerdict},
		{Domain: "hooli.xyz", Messages: 410, Failures: 11, Class: "user-unknown", Gateway: "Microsoft 365", Verdict: analyze.RowBadAddresses, VerdictText: badVerdict},
		{Domain: "stark-industries.co", Messages: 120, Failures: 7, Class: "mailbox-full", Gateway: "Mimecast", Verdict: analyze.RowTemporary, VerdictText: temporaryVerdict},
		{Domain: "wayne-enterprises.com", Messages: 75, Failures: 5, Class: "user-unknown", Gateway: "Proofpoint", Verdict: analyze.RowBadAddresses, VerdictText: badVerdict},
		{Domain: "hotmial.com", Messages: 3, Failures: 3, Class: "domain-not-found", Verdict: analyze.RowBadAddresses, VerdictText: "Typo of hotmail.com: no MX."},
		{Domain: "soylent.co", Messages: 64, Failures: 3, Class: "user-unknown", Gateway: "Gmail", Verdict: analyze.RowBadAddresses, VerdictText: badVerdict},
		{Domain: "massive-dynamic.com", Messages: 52, Failures: 2, Class: "user-unknown", Gateway: "Microsoft 365", Verdict: analyze.RowBadAddresses, VerdictText: badVerdict},
	}
	d.Providers = []analyze.ProviderRow{
		{Provider: "Gmail", Messages: 18400, Delivered: 17720, Failures: 680, Class: "rate-limited", ClassCount: 520},
		{Provider: "Microsoft 365", Messages: 9800, Delivered: 9380, Failures: 420, Class: "blocklisted", ClassCount: 212},
		{Provider: "Yahoo", Messages: 4100, Delivered: 4010, Failures: 90, Class: "rate-limited", ClassCount: 61},
		{Provider: "Apple iCloud", Messages: 3200, Delivered: 3185, Failures: 15, Class: "user-unknown", ClassCount: 13},
		{Provider: "Mimecast", Messages: 1150, Delivered: 1060, Failures: 90, Class: "policy-block", ClassCount: 49},
		{Provider: "Proofpoint", Messages: 820, Delivered: 770, Failures: 50, Class: "policy-block", ClassCount: 31},
		{Provider: "Google Workspace", Messages: 2900, Delivered: 2870, Failures: 30, Class: "user-unknown", ClassCount: 22},
		{Provider: "Other", Messages: 2510, Delivered: 2280, Failures: 230, Class: "user-unknown", ClassCount: 101},
	}
	d.Codes = []analyze.CodeRow{
		{Code: "421", Count: 1137, Meaning: "service not available, try later", SampleReply: replyGmailRate},
		{Code: "550", Count: 470, Meaning: "mailbox unavailable or policy rejection", SampleReply: replyGmailUnknown},
		{Code: "605", Count: 214, Meaning: "Mailgun: previously bounced address", SampleReply: replySuppress},
		{Code: "451", Count: 118, Meaning: "local error, try later", SampleReply: replyMS4_7_650},
		{Code: "552", Count: 63, Meaning: "mailbox full", SampleReply: replyFull},
		{Code: "554", Count: 31, Meaning: "transaction failed", SampleReply: replyProof},
		{Code: "498", Count: 18, Meaning: "Mailgun: no MX for the domain", SampleReply: replyNoMX},
	}
	d.Enhanced = []analyze.CodeRow{
		{Code: "4.7.28", Count: 1020, Meaning: "Gmail: rate limited for unsolicited mail", SampleReply: replyGmailRate},
		{Code: "5.1.1", Count: 287, Meaning: "bad destination mailbox", SampleReply: replyGmailUnknown},
		{Code: "5.7.1", Count: 167, Meaning: "delivery not authorised", SampleReply: replyMS3150},
		{Code: "4.7.650", Count: 118, Meaning: "Microsoft: IP reputation", SampleReply: replyMS4_7_650},
		{Code: "4.7.0", Count: 61, Meaning: "Yahoo TSS04: volume or complaints", SampleReply: replyYahoo},
		{Code: "5.2.2", Count: 63, Meaning: "mailbox full", SampleReply: replyFull},
	}

	sup := [][3]int64{{9, 0, 4}, {12, 1, 6}, {58, 2, 9}, {10, 1, 7}, {14, 1, 5}, {9, 1, 4}, {6, 0, 3}}
	for i, s := range sup {
		d.SuppressionDays = append(d.SuppressionDays, analyze.SuppressionDay{Day: day(i), Bounces: s[0], Complaints: s[1], Unsubscribes: s[2]})
	}
	for i := range 42 {
		d.Suppressed = append(d.Suppressed, analyze.NewSuppression{
			Address: person(i) + "@acme.com", List: "bounces", SendingDomain: sending[i%2],
			Created: at(2, 9, 12).Add(time.Duration(i) * 150 * time.Second), Code: "550", Reason: replyMimecast,
		})
	}
	for i := range 14 {
		d.Suppressed = append(d.Suppressed, analyze.NewSuppression{
			Address: person(100+i) + "@gmial.com", List: "bounces", SendingDomain: sending[2+i%2],
			Created: at(i%7, 8+i%9, 5*i%60), Code: "498", Reason: replyNoMX,
		})
	}
	d.Suppressed = append(d.Suppressed,
		analyze.NewSuppression{Address: "john_smith@initech.com", List: "bounces", SendingDomain: "mail.ledgerly.com", Created: at(1, 14, 3), Code: "5.1.1", Reason: replyInitech},
		analyze.NewSuppression{Address: "priya.raman@hooli.xyz", List: "complaints", SendingDomain: "news.fitpulse.app", Created: at(3, 19, 40)},
		analyze.NewSuppression{Address: "k.oconnor@umbrella-corp.io", List: "unsubscribes", SendingDomain: "news.fitpulse.app", Created: at(4, 7, 15)},
	)
	for i := range 24 {
		list, code, reason := "bounces", "550", replyGmailUnknown
		if i%4 == 3 {
			list, code, reason = "unsubscribes", "", ""
		}
		d.Suppressed = append(d.Suppressed, analyze.NewSuppression{
			Address: person(200+i) + "@gmail.com", List: list, SendingDomain: sending[i%4],
			Created: at(i%7, 10+i%10, 7*i%60), Code: code, Reason: reason,
		})
	}

	d.Delays = []analyze.DelayRow{
		{Provider: "Gmail", Messages: 17720, P50: 4, P90: 95, P99: 4.1 * 3600, Deferrals: 1120},
		{Provider: "Microsoft 365", Messages: 9380, P50: 6, P90: 12 * 60, P99: 5.8 * 3600, Deferrals: 402},
		{Provider: "Yahoo", Messages: 4010, P50: 5, P90: 40, P99: 35 * 60, Deferrals: 190},
		{Provider: "Apple iCloud", Messages: 3185, P50: 3, P90: 9, P99: 60, Deferrals: 12},
		{Provider: "Mimecast", Messages: 1060, P50: 8, P90: 25, P99: 3 * 60, Deferrals: 41},
		{Provider: "Proofpoint", Messages: 770, P50: 11, P90: 70, P99: 9 * 60, Deferrals: 33},
	}
	d.Deferrals = 2005
	d.DeferredMessages = 1460
	d.Stuck = analyze.Stuck{AfterHours: 8, Count: 7, Messages: []analyze.StuckMessage{
		{Recipient: "a.lindqvist@contoso.com", SendingDomain: "mail.ledgerly.com", Subject: "Your Ledgerly invoice #INV-20931", Accepted: at(6, 8, 2), LastEvent: "failed temporary 451 4.7.650"},
		{Recipient: "r.mehta@contoso.com", SendingDomain: "mail.ledgerly.com", Subject: "Reset your Ledgerly password", Accepted: at(6, 9, 41), LastEvent: "failed temporary 451 4.7.650"},
		{Recipient: "tomas.novak@gmail.com", SendingDomain: "mg.brightcart.io", Subject: "Your order #BC-77812 has shipped", Accepted: at(3, 22, 10), LastEvent: "failed temporary 421 4.7.28"},
		{Recipient: "j.dubois@yahoo.com", SendingDomain: "news.fitpulse.app", Subject: "Your weekly FitPulse summary", Accepted: at(6, 18, 30), LastEvent: "failed temporary 421 4.7.0 [TSS04]"},
		{Recipient: "ines.costa@globex.net", SendingDomain: "notify.tripnest.co", Subject: "Booking confirmed: Lisbon, 12–15 Dec", Accepted: at(6, 21, 5), LastEvent: "accepted"},
	}}
	d.Typos = []analyze.TypoRow{
		{Domain: "gmial.com", Suggested: "gmail.com", Addresses: 14, Messages: 18, Note: "no MX (498)"},
		{Domain: "hotmial.com", Suggested: "hotmail.com", Addresses: 3, Messages: 3, Note: "no MX (498)"},
		{Domain: "yaho.com", Suggested: "yahoo.com", Addresses: 2, Messages: 2, Note: "no MX (498)"},
	}
	d.Lookalikes = []analyze.LookalikeRow{
		{Failing: "john_smith@initech.com", Failures: 3, Code: "550 5.1.1", Receiving: "john.smith@initech.com", Delivered: 27},
		{Failing: "m.garcia@globex.net", Failures: 2, Code: "550 5.1.1", Receiving: "m.garcia1@globex.net", Delivered: 11},
	}
	return d
}

// emptyData is a period in which nothing happened.
func emptyData() *analyze.HealthResult {
	return &analyze.HealthResult{
		Generated: time.Date(2025, 12, 8, 6, 0, 0, 0, time.UTC),
		Period:    analyze.Period{From: day(0), Until: day(7)},
		Stuck:     analyze.Stuck{AfterHours: 8},
	}
}

// largeData is sampleData scaled to a big account: 5,000 customer domains,
// 1,000 suppressed addresses, 60 hourly buckets.
func largeData() *analyze.HealthResult {
	d := sampleData()
	d.Hourly = true
	d.Volume, d.Classes = nil, nil
	for h := range 60 {
		t := weekStart.Add(time.Duration(h) * time.Hour)
		d.Volume = append(d.Volume, analyze.VolumeBucket{Start: t, Totals: analyze.Totals{Accepted: int64(400 + h*7%90), Delivered: int64(380 + h*5%80), FailedTemporary: int64(h % 13), FailedPermanent: int64(h % 7)}})
		b := analyze.ClassBucket{Start: t}
		for k, c := range []string{"user-unknown", "mailbox-full", "policy-block", "blocklisted", "rate-limited", "domain-not-found", "suppressed-bounce", "expired", "reputation", "spam-content"} {
			b.Counts = append(b.Counts, analyze.ClassCount{Class: c, Count: int64((h + k*3) % 11)})
		}
		d.Classes = append(d.Classes, b)
	}
	d.Domains = d.Domains[:0]
	for i := range 5000 {
		d.Domains = append(d.Domains, analyze.DomainRow{
			Domain: fmt.Sprintf("customer-%04d.example", i), Messages: int64(5000 - i), Failures: int64((5000 - i) / 10),
			Class: "user-unknown", Gateway: "Microsoft 365", Verdict: analyze.RowBadAddresses, VerdictText: badVerdict,
		})
	}
	d.Suppressed = d.Suppressed[:0]
	for i := range 1000 {
		d.Suppressed = append(d.Suppressed, analyze.NewSuppression{
			Address: fmt.Sprintf("%s%d@customer-%04d.example", person(i), i, i%5000), List: "bounces",
			SendingDomain: sending[i%4], Created: weekStart.Add(time.Duration(i) * time.Minute), Code: "550", Reason: replyGmailUnknown,
		})
	}
	return d
}
