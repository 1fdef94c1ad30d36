package synth

import "strconv"

// Clients and places behind opens and clicks. Gmail and Apple fetch images
// through proxies, so their opens come from the proxy, not the person.

var (
	clientGoogleProxy = &Client{Type: "browser", OS: "Windows", DeviceType: "desktop", Name: "Firefox",
		UserAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"}
	clientAppleProxy = &Client{Type: "unknown", OS: "unknown", DeviceType: "unknown", Name: "unknown",
		UserAgent: "Mozilla/5.0"}
)

var clients = []*Client{
	{Type: "browser", OS: "Windows", DeviceType: "desktop", Name: "Chrome",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	{Type: "browser", OS: "OS X", DeviceType: "desktop", Name: "Safari",
		UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"},
	{Type: "mobile browser", OS: "iOS", DeviceType: "mobile", Name: "Mobile Safari",
		UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"},
	{Type: "mobile browser", OS: "Android", DeviceType: "mobile", Name: "Chrome Mobile",
		UserAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36"},
	{Type: "email client", OS: "Windows", DeviceType: "desktop", Name: "Outlook 2016",
		UserAgent: "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"},
	{Type: "browser", OS: "Windows", DeviceType: "desktop", Name: "Edge",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70"},
	{Type: "browser", OS: "Linux", DeviceType: "desktop", Name: "Firefox",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"},
	{Type: "email client", OS: "OS X", DeviceType: "desktop", Name: "Apple Mail",
		UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"},
	{Type: "mobile browser", OS: "iOS", DeviceType: "tablet", Name: "Mobile Safari",
		UserAgent: "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"},
}

var clientCum = cumulative([]float64{24, 12, 22, 14, 9, 7, 3, 6, 3})

var geos = []*Geo{
	{"US", "CA", "San Francisco"}, {"US", "CA", "Los Angeles"}, {"US", "NY", "New York"},
	{"US", "TX", "Austin"}, {"US", "TX", "Dallas"}, {"US", "IL", "Chicago"}, {"US", "WA", "Seattle"},
	{"US", "MA", "Boston"}, {"US", "FL", "Miami"}, {"US", "GA", "Atlanta"}, {"US", "CO", "Denver"},
	{"CA", "ON", "Toronto"}, {"CA", "QC", "Montréal"}, {"GB", "England", "London"},
	{"GB", "England", "Manchester"}, {"GB", "Scotland", "Edinburgh"}, {"IE", "Leinster", "Dublin"},
	{"DE", "Berlin", "Berlin"}, {"DE", "Bavaria", "Munich"}, {"DE", "Hamburg", "Hamburg"},
	{"FR", "Île-de-France", "Paris"}, {"FR", "Auvergne-Rhône-Alpes", "Lyon"}, {"NL", "North Holland", "Amsterdam"},
	{"ES", "Madrid", "Madrid"}, {"ES", "Catalonia", "Barcelona"}, {"IT", "Lombardy", "Milan"},
	{"PL", "Mazovia", "Warsaw"}, {"SE", "Stockholm", "Stockholm"}, {"PT", "Lisbon", "Lisbon"},
	{"AU", "NSW", "Sydney"}, {"AU", "VIC", "Melbourne"}, {"BR", "São Paulo", "São Paulo"},
	{"IN", "Karnataka", "Bengaluru"}, {"IN", "Maharashtra", "Mumbai"}, {"JP", "Tokyo", "Tokyo"},
	{"SG", "Unknown", "Singapore"}, {"ZA", "Western Cape", "Cape Town"}, {"MX", "CDMX", "Mexico City"},
}

var geoGoogle = &Geo{"US", "CA", "Mountain View"}
var geoApple = &Geo{"US", "Unknown", "Unknown"}

// Engagement rates are scaled so that about a fifth of delivered messages
// are opened overall; per-kind rates keep their relative order.
const openScale = 0.5

// engage schedules opens, clicks, unsubscribes and complaints after a
// delivery at t.
func (g *generator) engage(c *msgCtx, t int64) {
	r, k, d := c.r, c.kind, c.d
	if c.sc != nil && c.sc.noEngage {
		return
	}
	pOpen := k.open * openScale
	proxy := false
	if d.gw == gwICloud {
		// Apple Mail Privacy Protection fetches images for most users.
		pOpen, proxy = 0.7, true
	}
	if g.txn && c.sc == nil {
		pOpen *= txnOpenScale
	}
	opened := r.chance(pOpen) || c.sc != nil && c.sc.open
	complained := false
	if c.sc != nil && c.sc.complain > 0 {
		complained = true
		g.complain(c, t+c.sc.complain)
	} else if c.sc == nil && d.fbl {
		p := 0.0008
		if c.camp != nil {
			p = 0.01
		}
		if r.chance(p) {
			complained = true
			g.complain(c, t+int64(min(r.logNormal(4*3600, 1.2), 46*3600)*1e6))
		}
	}
	if opened {
		var delay float64
		if proxy {
			delay = float64(r.between(20, 900))
		} else {
			delay = min(r.logNormal(2700, 1.6), 46*3600)
		}
		ot := t + int64(delay*1e6) + int64(r.intn(1e6))
		if d.gw == gwGmail || d.gw == gwWorkspace {
			proxy = true
		}
		eng := g.engagementFor(g.arena(c, ot), d, r, proxy)
		g.push(c, Event{Type: Opened, Time: ot, Msg: c.m, Engagement: eng})
		if r.chance(0.2) {
			again := ot + int64(min(r.logNormal(3*3600, 1.2), 40*3600)*1e6)
			// A copy where the later event lives: see slabs.
			eng2 := g.arena(c, again).engagement()
			*eng2 = *eng
			eng2.IP = g.arena(c, again).clone(eng.IP)
			g.push(c, Event{Type: Opened, Time: again, Msg: c.m, Engagement: eng2})
		}
		if r.chance(k.click) {
			ct := ot + int64(r.logNormal(40, 1.3)*1e6) + 2e6
			click := g.engagementFor(g.arena(c, ct), d, r, false)
			click.URL = g.clickURL(c, ct)
			g.push(c, Event{Type: Clicked, Time: ct, Msg: c.m, Engagement: click})
		}
	}
	if complained || c.sc != nil {
		return
	}
	// One-click unsubscribe from the mailbox's interface needs no open.
	p := 0.0003
	if c.camp != nil {
		p = 0.008
	}
	if r.chance(p) {
		ut := t + int64(min(r.logNormal(2*3600, 1.3), 46*3600)*1e6)
		eng := g.engagementFor(g.arena(c, ut), d, r, false)
		eng.Tags = allTags
		if r.chance(0.15) {
			eng.Tags = c.m.Tags
		}
		s := g.stateOf(c)
		if s.unsub == 0 {
			s.unsub, s.unsubTags = ut, eng.Tags
		}
		g.push(c, Event{Type: Unsubscribed, Time: ut, Msg: c.m, Engagement: eng})
	}
}

func (g *generator) complain(c *msgCtx, t int64) {
	s := g.stateOf(c)
	if s.complained == 0 || t < s.complained {
		s.complained = t
	}
	g.push(c, Event{Type: Complained, Time: t, Msg: c.m})
}

func (g *generator) clickURL(c *msgCtx, at int64) string {
	b := append(g.scratch[:0], "https://"...)
	b = append(b, c.s.site...)
	if c.camp != nil {
		b = append(b, "/?utm_source=newsletter&utm_medium=email&utm_campaign="...)
		b = append(b, c.camp.slug...)
	} else {
		b = expandContent(b, c.kind.link, &c.vals)
	}
	g.scratch = b
	return g.arena(c, at).str(b)
}

// engagementFor returns who opened or clicked a message to a domain.
// Addresses come from documentation ranges (192.0.2.0/24, 2001:db8::/32).
func (g *generator) engagementFor(a *slabs, d *rdomain, r *rng, proxy bool) *Engagement {
	e := a.engagement()
	switch {
	case proxy && (d.gw == gwGmail || d.gw == gwWorkspace):
		e.Client, e.Geo = clientGoogleProxy, geoGoogle
	case proxy && d.gw == gwICloud:
		e.Client, e.Geo = clientAppleProxy, geoApple
	default:
		e.Client = clients[weighted(clientCum, r.float())]
		e.Geo = geos[r.intn(len(geos))]
	}
	var b [40]byte
	var s []byte
	if r.chance(0.3) {
		s = append(b[:0], "2001:db8:"...)
		s = strconv.AppendUint(s, uint64(r.intn(0xffff)), 16)
		s = append(s, "::"...)
		s = strconv.AppendUint(s, uint64(1+r.intn(0xfffe)), 16)
	} else {
		s = append(b[:0], "192.0.2."...)
		s = strconv.AppendInt(s, int64(1+r.intn(254)), 10)
	}
	e.IP = a.str(s)
	return e
}
