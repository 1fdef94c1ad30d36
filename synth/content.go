package synth

import (
	"strconv"
	"strings"
)

// kind is a kind of message a product sends, with its subject templates,
// tags and how people react to it. Subject and link codes:
// $O order number, $V invoice number, $C city, $M month, $N six-digit code,
// $P a person's name, $B the brand.
type kind struct {
	name      string
	tags      []string
	subjects  []string
	fromLocal string // local part of the From address
	fromName  string // display name suffix, e.g. " Billing"
	weight    float64
	open      float64 // chance a delivered message is opened
	click     float64 // chance an opened message is clicked
	link      string  // path of the link people click
	sizeKB    float64 // median size
	attach    string  // attachment file name template, "" for none
	vars      string  // user-variables template
}

// profile is what one sending domain sends.
type profile struct {
	kinds       []*kind
	cum         []float64
	newsletters []string // campaign subjects
}

var (
	kindConfirm = &kind{name: "confirmation", tags: []string{"confirmation"}, subjects: []string{"Confirm your email address"},
		fromLocal: "no-reply", weight: 6, open: 0.5, click: 0.6, link: "/account/confirm?token=$N", sizeKB: 14, vars: `{"user_id":"u_$N","template":"confirm-email"}`}
	kindReset = &kind{name: "password-reset", tags: []string{"password-reset"}, subjects: []string{"Reset your password", "Your password reset link"},
		fromLocal: "no-reply", weight: 4, open: 0.55, click: 0.5, link: "/account/reset?token=$N", sizeKB: 12, vars: `{"user_id":"u_$N","template":"password-reset"}`}
)

var shopProfile = newProfile([]*kind{
	kindConfirm, kindReset,
	{name: "order-confirmation", tags: []string{"order-confirmation"}, subjects: []string{"Your $B order #$O is confirmed", "Thanks for your order #$O"},
		fromLocal: "orders", weight: 14, open: 0.35, click: 0.15, link: "/orders/$O", sizeKB: 38, vars: `{"customer_id":"$N","order_id":"$O"}`},
	{name: "shipping", tags: []string{"shipping", "order-update"}, subjects: []string{"Your order #$O has shipped", "Your order #$O is on its way"},
		fromLocal: "orders", weight: 12, open: 0.4, click: 0.3, link: "/orders/$O/tracking", sizeKB: 31, vars: `{"customer_id":"$N","order_id":"$O"}`},
	{name: "delivery", tags: []string{"shipping"}, subjects: []string{"Your package has been delivered"},
		fromLocal: "orders", weight: 6, open: 0.25, click: 0.1, link: "/orders/$O", sizeKB: 27, vars: `{"customer_id":"$N","order_id":"$O"}`},
	{name: "receipt", tags: []string{"receipt"}, subjects: []string{"Your receipt from $B #$O"},
		fromLocal: "no-reply", weight: 8, open: 0.2, click: 0.05, link: "/orders/$O/receipt", sizeKB: 26, vars: `{"customer_id":"$N","order_id":"$O"}`},
	{name: "abandoned-cart", tags: []string{"abandoned-cart"}, subjects: []string{"You left something in your cart", "Still thinking it over?"},
		fromLocal: "hello", weight: 8, open: 0.18, click: 0.3, link: "/cart?utm_source=email&utm_campaign=abandoned-cart", sizeKB: 45, vars: `{"customer_id":"$N"}`},
	{name: "review-request", tags: []string{"review-request"}, subjects: []string{"How did we do? Rate your order #$O"},
		fromLocal: "hello", weight: 4, open: 0.15, click: 0.2, link: "/orders/$O/review", sizeKB: 22, vars: `{"customer_id":"$N","order_id":"$O"}`},
}, []string{
	"Black Friday starts now: up to 50% off 🎉",
	"New arrivals picked for you",
	"Weekend flash sale – 24 hours only",
	"Your weekly picks from Brightcart",
	`Our "Winter Essentials" edit is here`,
	"Free shipping ends tonight",
})

var saasProfile = newProfile([]*kind{
	kindConfirm, kindReset,
	{name: "invoice", tags: []string{"invoice"}, subjects: []string{"Invoice $V is ready", "New invoice $V from your supplier"},
		fromLocal: "billing", fromName: " Billing", weight: 18, open: 0.3, click: 0.4, link: "/invoices/$V", sizeKB: 64, attach: "$V.pdf", vars: `{"account_id":"acc_$N","invoice":"$V"}`},
	{name: "payment-receipt", tags: []string{"payment-receipt"}, subjects: []string{"Payment received for invoice $V"},
		fromLocal: "billing", fromName: " Billing", weight: 10, open: 0.25, click: 0.1, link: "/invoices/$V", sizeKB: 40, attach: "receipt-$V.pdf", vars: `{"account_id":"acc_$N","invoice":"$V"}`},
	{name: "report", tags: []string{"report", "monthly"}, subjects: []string{"Your monthly report for $M is ready"},
		fromLocal: "reports", weight: 8, open: 0.35, click: 0.4, link: "/reports/monthly", sizeKB: 52, vars: `{"account_id":"acc_$N"}`},
	{name: "invitation", tags: []string{"invitation"}, subjects: []string{"$P invited you to join their team on $B"},
		fromLocal: "no-reply", weight: 4, open: 0.5, click: 0.5, link: "/invitations/$N", sizeKB: 18, vars: `{"account_id":"acc_$N","template":"invite"}`},
	{name: "login-code", tags: []string{"login-code"}, subjects: []string{"Your $B sign-in code: $N"},
		fromLocal: "no-reply", weight: 10, open: 0.7, click: 0.02, link: "/login", sizeKB: 9, vars: `{"user_id":"u_$N"}`},
	{name: "dunning", tags: []string{"dunning"}, subjects: []string{"Reminder: invoice $V is due in 3 days", "Invoice $V is overdue"},
		fromLocal: "billing", fromName: " Billing", weight: 6, open: 0.3, click: 0.35, link: "/invoices/$V/pay", sizeKB: 35, vars: `{"account_id":"acc_$N","invoice":"$V"}`},
}, []string{
	"What's new in Ledgerly: bank feeds 2.0",
	"Your year-end closing checklist",
	"Ledgerly product update – November",
	"Webinar: faster month-end close with automation",
})

var travelProfile = newProfile([]*kind{
	kindConfirm, kindReset,
	{name: "booking-confirmation", tags: []string{"booking-confirmation"}, subjects: []string{"Your booking is confirmed: $C", "Booking $O confirmed – $C"},
		fromLocal: "bookings", weight: 16, open: 0.55, click: 0.3, link: "/trips/$O", sizeKB: 58, attach: "itinerary-$O.pdf", vars: `{"traveller_id":"t_$N","booking":"$O"}`},
	{name: "check-in", tags: []string{"check-in"}, subjects: []string{"Check in now for your flight to $C"},
		fromLocal: "no-reply", weight: 8, open: 0.6, click: 0.5, link: "/trips/$O/check-in", sizeKB: 30, vars: `{"traveller_id":"t_$N","booking":"$O"}`},
	{name: "receipt", tags: []string{"receipt"}, subjects: []string{"Your $B receipt #$O"},
		fromLocal: "no-reply", weight: 8, open: 0.25, click: 0.05, link: "/trips/$O/receipt", sizeKB: 28, vars: `{"traveller_id":"t_$N","booking":"$O"}`},
	{name: "trip-reminder", tags: []string{"trip-reminder"}, subjects: []string{"Your trip to $C starts in 3 days"},
		fromLocal: "no-reply", weight: 8, open: 0.45, click: 0.2, link: "/trips/$O", sizeKB: 33, vars: `{"traveller_id":"t_$N","booking":"$O"}`},
	{name: "review-request", tags: []string{"review-request"}, subjects: []string{"How was your stay in $C?"},
		fromLocal: "hello", weight: 5, open: 0.2, click: 0.25, link: "/reviews/$O", sizeKB: 21, vars: `{"traveller_id":"t_$N"}`},
}, []string{
	"Weekend deals from €49",
	"Last-minute escapes to Lisbon, Porto & Seville",
	"Your travel inspiration for December",
	"Flash sale: 30% off city breaks",
})

var fitnessProfile = newProfile([]*kind{
	kindConfirm, kindReset,
	{name: "weekly-summary", tags: []string{"weekly-summary"}, subjects: []string{"Your weekly activity summary", "You moved more this week"},
		fromLocal: "coach", weight: 24, open: 0.3, click: 0.15, link: "/app/summary", sizeKB: 48, vars: `{"member_id":"m_$N"}`},
	{name: "receipt", tags: []string{"receipt", "subscription"}, subjects: []string{"Your $B Premium receipt"},
		fromLocal: "billing", weight: 6, open: 0.2, click: 0.05, link: "/account/billing", sizeKB: 20, vars: `{"member_id":"m_$N"}`},
	{name: "trial-ending", tags: []string{"trial-ending"}, subjects: []string{"Your free trial ends in 3 days"},
		fromLocal: "hello", weight: 5, open: 0.35, click: 0.25, link: "/premium?utm_source=email", sizeKB: 36, vars: `{"member_id":"m_$N"}`},
	{name: "challenge", tags: []string{"challenge"}, subjects: []string{"$P challenged you to a 10,000-step day"},
		fromLocal: "coach", weight: 5, open: 0.4, click: 0.35, link: "/challenges/$N", sizeKB: 25, vars: `{"member_id":"m_$N"}`},
}, []string{
	"10-minute workouts for busy days",
	"New: guided sleep programs",
	"Your year in motion 🏃",
	"Winter running: 5 tips from our coaches",
})

var archetypes = []*profile{shopProfile, saasProfile, travelProfile, fitnessProfile}

// kindNewsletter describes campaign messages; their subject, links and
// user-variables come from the campaign.
var kindNewsletter = &kind{name: "newsletter", tags: []string{"newsletter"}, fromLocal: "news", open: 0.14, click: 0.2, sizeKB: 85}

func newProfile(kinds []*kind, newsletters []string) *profile {
	w := make([]float64, len(kinds))
	for i, k := range kinds {
		w[i] = k.weight
	}
	return &profile{kinds: kinds, cum: cumulative(w), newsletters: newsletters}
}

var cities = []string{
	"Lisbon", "Berlin", "Barcelona", "Amsterdam", "Rome", "Paris", "Prague", "Vienna",
	"Copenhagen", "Dublin", "Edinburgh", "New York", "Chicago", "Austin", "Toronto", "Montréal",
	"Mexico City", "Tokyo", "Singapore", "Sydney", "Cape Town", "Marrakech", "Reykjavík", "Kraków",
}

var months = []string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

// sender is one sending domain with its brand and content.
type sender struct {
	idx     int
	domain  string
	brand   string // display name
	site    string // the brand's own domain, e.g. brightcart.io
	ips     []string
	profile *profile
	weight  float64
	froms   map[*kind]string // From header per kind
	fromAdr map[*kind]string
}

func newSenders(domains []string) []*sender {
	out := make([]*sender, len(domains))
	for i, d := range domains {
		s := &sender{idx: i, domain: d, profile: archetypes[i%len(archetypes)],
			froms: make(map[*kind]string), fromAdr: make(map[*kind]string)}
		s.site = siteOf(d)
		s.brand = brandOf(s.site)
		s.ips = []string{
			"198.51.100." + strconv.Itoa(10+(i*7)%240),
			"203.0.113." + strconv.Itoa(20+(i*7)%230),
		}
		// Earlier domains send more, as a main product would.
		s.weight = 1 / (1 + 0.35*float64(i))
		out[i] = s
	}
	return out
}

// from returns the From header and envelope sender for a kind of message.
func (s *sender) from(k *kind) (header, addr string) {
	if h, ok := s.froms[k]; ok {
		return h, s.fromAdr[k]
	}
	addr = k.fromLocal + "@" + s.domain
	header = s.brand + k.fromName + " <" + addr + ">"
	s.froms[k], s.fromAdr[k] = header, addr
	return header, addr
}

// siteOf drops a mail subdomain: mg.brightcart.io -> brightcart.io.
func siteOf(domain string) string {
	parts := strings.Split(domain, ".")
	if len(parts) <= 2 {
		return domain
	}
	// Keep three labels for two-label public suffixes like co.uk.
	if n := len(parts); len(parts[n-2]) <= 3 && len(parts[n-1]) == 2 && n >= 3 && (parts[n-2] == "co" || parts[n-2] == "com") {
		return strings.Join(parts[n-3:], ".")
	}
	return strings.Join(parts[len(parts)-2:], ".")
}

// brandOf makes a display name from a site: fitpulse.app -> Fitpulse.
func brandOf(site string) string {
	name := site
	if i := strings.IndexByte(site, '.'); i > 0 {
		name = site[:i]
	}
	return capitalize(name)
}

// expandContent fills a subject, link or variables template.
func expandContent(dst []byte, t string, c *contentVals) []byte {
	for i := 0; i < len(t); i++ {
		ch := t[i]
		if ch != '$' || i+1 == len(t) {
			dst = append(dst, ch)
			continue
		}
		i++
		switch t[i] {
		case 'O':
			dst = strconv.AppendInt(dst, int64(c.order), 10)
		case 'V':
			dst = append(dst, "INV-"...)
			dst = strconv.AppendInt(dst, int64(c.year), 10)
			dst = append(dst, '-')
			dst = appendPadded(dst, c.invoice, 5)
		case 'C':
			dst = append(dst, cities[c.city]...)
		case 'M':
			dst = append(dst, months[c.month]...)
		case 'N':
			dst = appendPadded(dst, c.code, 6)
		case 'P':
			dst = append(dst, capFirst[c.first]...)
			dst = append(dst, ' ')
			dst = append(dst, capLast[c.last]...)
		case 'B':
			dst = append(dst, c.brand...)
		default:
			dst = append(dst, '$', t[i])
		}
	}
	return dst
}

func appendPadded(dst []byte, v, width int) []byte {
	var b [20]byte
	s := strconv.AppendInt(b[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// contentVals are the per-message values of the templates.
type contentVals struct {
	order, invoice, code, city, month, year int
	first, last                             int // a person's name, by index
	brand                                   string
}
