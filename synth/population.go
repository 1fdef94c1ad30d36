package synth

import (
	"math"
	"strconv"
	"strings"
)

// gateway is the kind of mail system behind a recipient domain; it decides
// which replies the domain gives.
type gateway uint8

const (
	gwGmail gateway = iota
	gwYahoo
	gwOutlook // consumer Microsoft: outlook.com, hotmail.com, ...
	gwICloud
	gwGMX // GMX, web.de and other European freemail
	gwOtherFree
	gwWorkspace
	gwM365
	gwMimecast
	gwProofpoint
	gwBarracuda
	gwSelfHosted
)

// rdomain is a recipient domain and its mail setup.
type rdomain struct {
	name     string
	gw       gateway
	mx       []string
	provider string // recipient-provider, "" to leave it out
	fbl      bool   // the provider sends complaints (feedback loop)
	dead     bool   // no MX: Mailgun says 498 No MX
	greylist bool
	tls      bool
	certOK   bool
	corp     bool
}

func (d *rdomain) mxFor(h uint64) string { return d.mx[h%uint64(len(d.mx))] }

// freemail are the big mailbox providers with their real MX hosts and an
// approximate share of a consumer-heavy list, in percent.
var freemail = []struct {
	name, provider string
	gw             gateway
	fbl            bool
	share          float64
	mx             []string
}{
	{"gmail.com", "Gmail", gwGmail, false, 30, []string{"gmail-smtp-in.l.google.com", "alt1.gmail-smtp-in.l.google.com", "alt2.gmail-smtp-in.l.google.com"}},
	{"googlemail.com", "Gmail", gwGmail, false, 0.3, []string{"gmail-smtp-in.l.google.com"}},
	{"yahoo.com", "Yahoo", gwYahoo, true, 5.5, []string{"mta5.am0.yahoodns.net", "mta6.am0.yahoodns.net", "mta7.am0.yahoodns.net"}},
	{"yahoo.co.uk", "Yahoo", gwYahoo, true, 0.6, []string{"mx-eu.mail.am0.yahoodns.net"}},
	{"aol.com", "Yahoo", gwYahoo, true, 1.2, []string{"mx-aol.mail.gm0.yahoodns.net"}},
	{"outlook.com", "Microsoft", gwOutlook, true, 3.5, []string{"outlook-com.olc.protection.outlook.com"}},
	{"hotmail.com", "Microsoft", gwOutlook, true, 4, []string{"hotmail-com.olc.protection.outlook.com"}},
	{"live.com", "Microsoft", gwOutlook, true, 0.8, []string{"live-com.olc.protection.outlook.com"}},
	{"msn.com", "Microsoft", gwOutlook, true, 0.4, []string{"msn-com.olc.protection.outlook.com"}},
	{"hotmail.co.uk", "Microsoft", gwOutlook, true, 0.4, []string{"eur.olc.protection.outlook.com"}},
	{"icloud.com", "Apple", gwICloud, false, 3.5, []string{"mx01.mail.icloud.com", "mx02.mail.icloud.com"}},
	{"me.com", "Apple", gwICloud, false, 0.5, []string{"mx01.mail.icloud.com", "mx02.mail.icloud.com"}},
	{"mac.com", "Apple", gwICloud, false, 0.2, []string{"mx01.mail.icloud.com", "mx02.mail.icloud.com"}},
	{"comcast.net", "", gwOtherFree, true, 0.6, []string{"mx1a1.comcast.net", "mx2c1.comcast.net"}},
	{"att.net", "", gwOtherFree, false, 0.2, []string{"ff-ip4-mx-vip1.prodigy.net", "ff-ip4-mx-vip2.prodigy.net"}},
	{"gmx.de", "", gwGMX, false, 0.6, []string{"mx00.emig.gmx.net", "mx01.emig.gmx.net"}},
	{"gmx.net", "", gwGMX, false, 0.3, []string{"mx00.gmx.net", "mx01.gmx.net"}},
	{"web.de", "", gwGMX, false, 0.5, []string{"mx-ha03.web.de", "mx-ha02.web.de"}},
	{"orange.fr", "", gwOtherFree, false, 0.3, []string{"smtp-in.orange.fr"}},
	{"proton.me", "", gwOtherFree, false, 0.3, []string{"mail.protonmail.ch", "mailsec.protonmail.ch"}},
	{"protonmail.com", "", gwOtherFree, false, 0.2, []string{"mail.protonmail.ch", "mailsec.protonmail.ch"}},
}

// corpShare is the share of recipients at company domains, in percent.
const corpShare = 44

// corporate gateways and their share among company domains.
var corpGateways = []struct {
	gw    gateway
	share float64
}{
	{gwWorkspace, 34}, {gwM365, 40}, {gwMimecast, 6}, {gwProofpoint, 6}, {gwBarracuda, 3}, {gwSelfHosted, 11},
}

// population is the account's recipients: a large implicit set of
// addresses computed from an index, so nothing per recipient is stored.
type population struct {
	seed    uint64
	size    uint64
	domains []*rdomain
	byName  map[string]*rdomain
	cum     []float64
}

func newPopulation(seed int64, events int, prof Profile) *population {
	r := newRNG(seed, streamPopulation)
	p := &population{seed: uint64(seed), byName: make(map[string]*rdomain)}
	p.size = uint64(clamp(events/3, 2000, 5_000_000))
	ncorp := clamp(events/150, 400, 30_000)
	if prof == ProfileTransactional {
		p.size = uint64(max(events, 2000)) * txnPopulationPerEvent
		ncorp = clamp(events/txnEventsPerDomain, 400, txnMaxCorpDomains)
	}
	var weights []float64
	for _, f := range freemail {
		d := &rdomain{name: f.name, gw: f.gw, mx: f.mx, provider: f.provider, fbl: f.fbl, tls: true, certOK: true}
		p.add(d)
		weights = append(weights, f.share)
	}
	gwCum := make([]float64, len(corpGateways))
	for i, g := range corpGateways {
		gwCum[i] = g.share
		if i > 0 {
			gwCum[i] += gwCum[i-1]
		}
	}
	// Zipf-like weights: a few large customers, a long tail of small ones;
	// the offset keeps the largest under about 1% of all recipients.
	zipf := func(rank int) float64 { return 1 / math.Pow(float64(rank+10), 1.0) }
	zsum := 0.0
	for k := 1; k <= ncorp; k++ {
		zsum += zipf(k)
	}
	for k := 1; len(p.domains) < len(freemail)+ncorp; k++ {
		name := companyDomain(&r)
		if p.byName[name] != nil || storyDomains[name] {
			continue
		}
		d := &rdomain{name: name, corp: true, tls: true, certOK: true}
		d.gw = corpGateways[weighted(gwCum, r.float())].gw
		setupCorp(d, &r)
		rank := len(p.domains) - len(freemail) + 1
		// Dead domains (expired, no MX) are small ones.
		d.dead = rank > 50 && r.chance(0.01)
		p.add(d)
		weights = append(weights, corpShare/zsum*zipf(rank))
	}
	p.cum = cumulative(weights)
	return p
}

func (p *population) add(d *rdomain) {
	p.domains = append(p.domains, d)
	p.byName[d.name] = d
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// companyDomain makes a pronounceable company domain.
func companyDomain(r *rng) string {
	head := companyHeads[r.intn(len(companyHeads))]
	var name string
	switch r.intn(10) {
	case 0, 1, 2, 3, 4, 5:
		name = head + companyTails[r.intn(len(companyTails))]
	case 6, 7:
		name = head + companyHeads[r.intn(len(companyHeads))]
	case 8:
		name = head + "-" + companyTails[r.intn(len(companyTails))]
	default:
		name = lastNames[r.intn(len(lastNames))] + companyTails[r.intn(len(companyTails))]
	}
	return name + companyTLDs[r.intn(len(companyTLDs))]
}

// setupCorp picks the MX hosts of a company domain for its gateway.
func setupCorp(d *rdomain, r *rng) {
	switch d.gw {
	case gwWorkspace:
		d.provider = "Google Workspace"
		if r.chance(0.2) {
			d.mx = []string{"smtp.google.com"}
		} else {
			d.mx = []string{"aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com"}
		}
	case gwM365:
		d.provider = "Outlook 365"
		d.mx = []string{m365MX(d.name)}
	case gwMimecast:
		region := "us"
		if isEuropean(d.name) {
			region = "eu"
		}
		d.mx = []string{region + "-smtp-inbound-1.mimecast.com", region + "-smtp-inbound-2.mimecast.com"}
	case gwProofpoint:
		id := strconv.Itoa(r.between(100000, 999999))
		d.mx = []string{"mx0a-00" + id + ".pphosted.com", "mx0b-00" + id + ".pphosted.com"}
	case gwBarracuda:
		id := strconv.Itoa(r.between(100000, 999999))
		d.mx = []string{"d" + id + "a.ess.barracudanetworks.com", "d" + id + "b.ess.barracudanetworks.com"}
	default:
		host := []string{"mail.", "mx.", "mx1.", "smtp."}[r.intn(4)]
		d.mx = []string{host + d.name}
		d.greylist = r.chance(0.4)
		d.tls = r.chance(0.9)
		d.certOK = d.tls && r.chance(0.8)
	}
}

// m365MX is Microsoft 365's inbound host for a domain: dots become dashes.
func m365MX(domain string) string {
	return strings.ReplaceAll(domain, ".", "-") + ".mail.protection.outlook.com"
}

func isEuropean(domain string) bool {
	for _, tld := range []string{".co.uk", ".de", ".fr", ".nl", ".es", ".it", ".se", ".ch", ".ie"} {
		if strings.HasSuffix(domain, tld) {
			return true
		}
	}
	return false
}

// recipient is one address of the population.
type recipient struct {
	addr   string
	to     string // To header
	domain *rdomain
	role   bool
}

// pick returns recipient number i (0 <= i < size); its strings come from
// sl, buf is scratch space.
func (p *population) pick(i uint64, sl *slabs, bufp *[]byte) recipient {
	buf := *bufp
	h := mix(p.seed^0x5bd1e995, i)
	d := p.domains[weighted(p.cum, unit(h))]
	h2 := mix(h, 7)
	first := firstNames[h2%uint64(len(firstNames))]
	last := lastNames[(h2>>8)%uint64(len(lastNames))]
	n := h2 >> 16
	buf = buf[:0]
	named, role := true, false
	if d.corp {
		switch f := n % 100; {
		case f < 55:
			buf = append(append(append(buf, first...), '.'), last...)
		case f < 70:
			buf = append(append(buf, first[0]), last...)
		case f < 78:
			buf = append(buf, first...)
		case f < 86:
			buf = append(append(buf, first[0], '.'), last...)
		case f < 89:
			buf = append(append(append(buf, first...), '_'), last...)
		case f < 92:
			buf = append(append(buf, first...), last[0])
		default:
			buf = append(buf, roleLocals[(n>>8)%uint64(len(roleLocals))]...)
			named, role = false, true
		}
	} else {
		num := n >> 8
		switch f := n % 100; {
		case f < 14:
			buf = append(append(append(buf, first...), '.'), last...)
		case f < 30:
			buf = append(append(append(buf, first...), '.'), last...)
			buf = strconv.AppendUint(buf, num%90+10, 10)
		case f < 44:
			buf = append(append(buf, first...), last...)
			buf = strconv.AppendUint(buf, 1960+num%46, 10)
		case f < 56:
			buf = append(append(buf, first[0]), last...)
			buf = strconv.AppendUint(buf, num%1000, 10)
		case f < 63:
			buf = append(append(append(buf, first...), '_'), last...)
			buf = strconv.AppendUint(buf, num%100, 10)
		case f < 73:
			buf = append(buf, first...)
			buf = strconv.AppendUint(buf, num%10000, 10)
		case f < 85:
			w1 := nicknameWords[num%uint64(len(nicknameWords))]
			w2 := nicknameWords[(num>>8)%uint64(len(nicknameWords))]
			buf = append(append(buf, w1...), w2...)
			buf = strconv.AppendUint(buf, (num>>16)%1000, 10)
			named = false
		case f < 92:
			buf = append(append(append(append(buf, first...), '.'), byte('a'+(num>>20)%26), '.'), last...)
		default:
			buf = append(append(append(buf, last...), '.'), first...)
			buf = strconv.AppendUint(buf, num%100, 10)
		}
	}
	buf = append(append(buf, '@'), d.name...)
	addr := sl.str(buf)
	to := addr
	if named && (n>>40)%100 < 45 {
		fi, li := h2%uint64(len(firstNames)), (h2>>8)%uint64(len(lastNames))
		buf = append(append(append(buf[:0], capFirst[fi]...), ' '), capLast[li]...)
		buf = append(append(append(buf, " <"...), addr...), '>')
		to = sl.str(buf)
	}
	*bufp = buf
	return recipient{addr: addr, to: to, domain: d, role: role}
}

// Capitalised names for display names, made once.
var capFirst, capLast = capitalizeAll(firstNames), capitalizeAll(lastNames)

func capitalizeAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = capitalize(n)
	}
	return out
}

func displayName(first, last string) string {
	return capitalize(first) + " " + capitalize(last)
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// addrProps are the fixed properties of an address, derived from its text.
type addrProps struct {
	h            uint64
	invalid      bool // the mailbox does not exist
	acceptBounce bool // invalid, but the gateway accepts first and bounces later
	disabled     bool
	full         bool // persistently over quota
}

func (p *population) props(addr string, d *rdomain, role bool) addrProps {
	h := hashString(p.seed, addr)
	u := unit(h)
	a := addrProps{h: h}
	inv := 0.065
	if d.corp {
		inv = 0.075
	}
	if role {
		inv = 0.015
	}
	switch {
	case u < inv:
		a.invalid = true
		switch d.gw {
		case gwSelfHosted, gwBarracuda:
			a.acceptBounce = unit(mix(h, 1)) < 0.3
		case gwM365:
			a.acceptBounce = unit(mix(h, 1)) < 0.15
		}
	case u < inv+0.002:
		a.disabled = true
	case u < inv+0.006:
		a.full = true
	}
	return a
}

// Suppressions made before the generated time range: some invalid addresses
// are already on a domain's bounce list, a few people unsubscribed or
// complained earlier. They explain drops with no bounce in the range, as in
// real accounts.
func (a addrProps) preBounced(sender int) bool {
	return a.invalid && unit(mix(a.h, uint64(100+sender))) < 0.6
}

func (a addrProps) preUnsubscribed(sender int) bool {
	return unit(mix(a.h, uint64(300+sender))) < 0.01
}

func (a addrProps) preComplained(sender int, d *rdomain) bool {
	return d.fbl && unit(mix(a.h, uint64(500+sender))) < 0.001
}

// preAge returns how long before the range a pre-existing entry was made.
func (a addrProps) preAge(sender int) int64 {
	return int64(1+mix(a.h, uint64(700+sender))%400) * 86400 * 1e6
}
