package classify

import "testing"

var gatewayCases = []struct {
	mx, provider, reply, domain string
	want                        string
}{
	// By MX host.
	{"gmail-smtp-in.l.google.com", "", "", "gmail.com", "Gmail"},
	{"alt2.gmail-smtp-in.l.google.com.", "", "", "googlemail.com", "Gmail"},
	{"aspmx.l.google.com", "", "", "initech.com", "Google"},
	{"smtp.google.com", "Google Workspace", "", "pied-piper.example", "Google"},
	{"ASPMX2.GOOGLEMAIL.COM", "", "", "hooli.example", "Google"},
	{"outlook-com.olc.protection.outlook.com", "", "", "outlook.com", "Microsoft (Outlook.com)"},
	{"eur.olc.protection.outlook.com", "", "", "hotmail.co.uk", "Microsoft (Outlook.com)"},
	{"contoso-com.mail.protection.outlook.com", "", "", "contoso.com", "Microsoft 365"},
	{"contoso-com.d-v1.mx.microsoft", "", "", "contoso.com", "Microsoft 365"},
	{"woodgrove.mail.eo.outlook.com", "", "", "woodgrove.example", "Microsoft 365"},
	{"mx1.hotmail.com", "", "", "hotmail.com", "Microsoft (Outlook.com)"},
	{"mta6.am0.yahoodns.net", "", "", "yahoo.com", "Yahoo"},
	{"mx-aol.mail.gm0.yahoodns.net", "", "", "aol.com", "Yahoo"},
	{"mx01.mail.icloud.com", "", "", "icloud.com", "Apple iCloud"},
	{"eu-smtp-inbound-1.mimecast.com", "", "", "acme.com", "Mimecast"},
	{"za-smtp-inbound-2.mimecast.co.za", "", "", "umbrella.example", "Mimecast"},
	{"mx0a-00482311.pphosted.com", "", "", "massive-dynamic.example", "Proofpoint"},
	{"mx1-us1.ppe-hosted.com", "", "", "black-mesa.example", "Proofpoint"},
	{"d418223a.ess.barracudanetworks.com", "", "", "cyberdyne.example", "Barracuda"},
	{"mx1.hc4321-64.iphmx.com", "", "", "soylent.example", "Cisco"},
	{"cluster5.us.messagelabs.com", "", "", "duff-beer.example", "Symantec Email Security.cloud"},
	{"globex-example.in.tmes.trendmicro.com", "", "", "globex.example", "Trend Micro"},
	{"mx-01-eu-west-1.prod.hydra.sophos.com", "", "", "ghostbusters.example", "Sophos"},
	{"mx01.hornetsecurity.com", "", "", "krusty-krab.example", "Hornetsecurity"},
	{"route1.mx.cloudflare.net", "", "", "initech.dev", "Cloudflare"},
	{"inbound-smtp.us-east-1.amazonaws.com", "", "", "globex.io", "Amazon SES"},
	{"mx00.emig.gmx.net", "", "", "gmx.de", "GMX"},
	{"mx-ha03.web.de", "", "", "web.de", "WEB.DE"},
	{"mx1a1.comcast.net", "", "", "comcast.net", "Comcast"},
	{"ff-ip4-mx-vip1.prodigy.net", "", "", "att.net", "AT&T"},
	{"smtp-in.orange.fr", "", "", "orange.fr", "Orange"},
	{"mail.protonmail.ch", "", "", "proton.me", "Proton Mail"},
	{"mx.zoho.eu", "", "", "zylker.example", "Zoho"},
	{"mx.yandex.net", "", "", "yandex.ru", "Yandex"},
	{"mxs.mail.ru", "", "", "mail.ru", "Mail.ru"},
	{"in1-smtp.messagingengine.com", "", "", "fastmail.com", "Fastmail"},
	{"mx2.emailsrvr.com", "", "", "prestige-worldwide.example", "Rackspace"},
	{"mx1.secureserver.net", "", "", "bobs-burgers.example", "GoDaddy"},
	// The MX host wins over everything else.
	{"eu-smtp-inbound-1.mimecast.com", "Gmail", "5.1.1 ... - gsmtp", "gmail.com", "Mimecast"},
	// By Mailgun's recipient-provider.
	{"", "Gmail", "", "mailgun.com", "Gmail"},
	{"", "Google Workspace", "", "initech.com", "Google"},
	{"", "Outlook 365", "", "contoso.com", "Microsoft 365"},
	{"", "microsoft", "", "example.net", "Microsoft (Outlook.com)"},
	{"", "Yahoo", "", "example.net", "Yahoo"},
	{"", "Apple", "", "example.net", "Apple iCloud"},
	// By well-known domains.
	{"", "", "", "gmail.com", "Gmail"},
	{"", "", "", "hotmail.com", "Microsoft (Outlook.com)"},
	{"", "", "", "ymail.com", "Yahoo"},
	{"", "", "", "me.com", "Apple iCloud"},
	{"", "", "", "gmx.net", "GMX"},
	{"", "", "", "web.de", "WEB.DE"},
	{"", "", "", "comcast.net", "Comcast"},
	{"", "", "", "sbcglobal.net", "AT&T"},
	{"", "", "", "wanadoo.fr", "Orange"},
	{"", "", "", "pm.me", "Proton Mail"},
	{"", "", "", "zohomail.com", "Zoho"},
	{"", "", "", "ya.ru", "Yandex"},
	{"", "", "", "inbox.ru", "Mail.ru"},
	{"", "", "", "fastmail.fm", "Fastmail"},
	{"", "", "", "GMAIL.COM", "Gmail"},
	// A consumer domain beats a reply that names Microsoft's servers.
	{"", "", "5.5.0 mailbox unavailable [AM9PR07MB7891.eurprd07.prod.outlook.com]", "hotmail.com", "Microsoft (Outlook.com)"},
	// By the words of the reply.
	{"", "", "smtp; 550-5.1.1 The email account does not exist. d75a77b69052e - gsmtp", "googlemail.com", "Gmail"},
	{"", "", "5.1.1 The email account does not exist. a1b2c3 - gsmtp", "initech.com", "Google"},
	{"", "", "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", "fabrikam.com", "Microsoft 365"},
	{"", "", "Envelope blocked - https://community.mimecast.com/docs/DOC-1369#550", "acme.com", "Mimecast"},
	{"", "", "5.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip=198.51.100.7", "aperture.example", "Proofpoint"},
	{"", "", "4.7.0 [TSS04] ... see https://postmaster.yahooinc.com/error-codes", "example.net", "Yahoo"},
	{"", "", "5.7.1 [CS01] Message rejected. Please visit https://support.apple.com/en-us/HT204137", "custom.example", "Apple iCloud"},
	// Whatever Mailgun called an unknown provider.
	{"", " Comcast Business ", "", "example.net", "Comcast Business"},
	// Nothing tells.
	{"", "", "", "", ""},
	{"mail.globex.com", "", "5.7.1 blocked using b.barracudacentral.org", "globex.com", ""},
	{"notgoogle.com", "", "", "example.com", ""},
	{"google.com.evil.example", "", "", "example.com", ""},
	{"", "", "", "gmial.com", ""},
	{"inbound-smtp.amazonaws.com", "", "", "example.com", ""},
}

func TestDetectGateway(t *testing.T) {
	for _, c := range gatewayCases {
		if got := detectGateway(c.mx, c.provider, c.reply, c.domain); got != c.want {
			t.Errorf("detectGateway(%q, %q, %q, %q) = %q, want %q", c.mx, c.provider, c.reply, c.domain, got, c.want)
		}
	}
}

// TestEveryGatewayEntryDecidesSomething fails on dead entries of
// gateways.txt.
func TestEveryGatewayEntryDecidesSomething(t *testing.T) {
	used := make(map[int]bool)
	for _, c := range gatewayCases {
		rh := replyHits{reply: c.reply}
		used[loaded().gatewayEntry(c.mx, c.provider, c.domain, &rh)] = true
	}
	for i, g := range loaded().gateways {
		if !used[i] {
			t.Errorf("gateway entry %s (gateways.txt:%d, %q): decides no test case", g.id, g.line, g.name)
		}
	}
}

func TestGatewayNamesInRules(t *testing.T) {
	names := make(map[string]bool)
	for _, g := range loaded().gateways {
		names[g.name] = true
	}
	for _, r := range loaded().rules {
		for _, gw := range r.gateways {
			if !names[gw] {
				t.Errorf("rule %s: gateway %q not in gateways.txt", r.ID, gw)
			}
		}
	}
}

func BenchmarkDetectGateway(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := gatewayCases[i%len(gatewayCases)]
		detectGateway(c.mx, c.provider, c.reply, c.domain)
	}
}
