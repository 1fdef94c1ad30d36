package report

import (
	"cmp"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/maildiag/maildiag/analyze"
)

// view is what the page template reads: every number already formatted,
// every list already cut, so the template holds no logic beyond loops.
type view struct {
	Title     string
	Period    string
	Previous  string
	Generated string
	Filters   []field
	Redacted  bool
	TOC       []tocEntry

	NoEvents    bool
	Note        string
	Alerts      []alertView
	Rates       []cardView
	Cards       []cardView
	HasPrevious bool

	Volume       volumeView
	Failures     failuresView
	Domains      domainsView
	Providers    providersView
	Senders      sendersView
	Codes        codesView
	Suppressions suppressionsView
	Delays       delaysView
	Typos        typosView
}

type tocEntry struct {
	ID, Label string
}

type field struct {
	Label, Value string
}

type alertView struct {
	Severity string // critical | warning | info
	Kind     string // domain-block | alert
	Domain   string
	Title    string
	Text     string
	Evidence []string
	Reply    *replyView
}

type cardView struct {
	Label    string
	Value    string
	Previous string // "" when there is no previous period
	Change   string
	Tone     string // good | watch | bad | neutral
	Hint     string
	Detail   string // the counts a rate is made of: "12 of 4,000"
}

// replyView is a remote reply: short ones inline, long or multi-line ones
// folded into <details> so that the table stays readable without JS.
type replyView struct {
	Short  string
	Full   string
	Folded bool
}

// chartView is a chart container and the text that stands in for it.
// Drawn is set when the chart has a spec; otherwise only the text shows.
type chartView struct {
	ID      string
	Summary string
	Height  int
	Drawn   bool
}

type more struct {
	Shown, Total int
}

// Rest is how many rows were left out.
func (m more) Rest() string { return formatInt(int64(m.Total - m.Shown)) }

// ShownText and TotalText are the counts for the page: "200 of 490".
func (m more) ShownText() string { return formatInt(int64(m.Shown)) }
func (m more) TotalText() string { return formatInt(int64(m.Total)) }

// Cut reports whether rows were left out.
func (m more) Cut() bool { return m.Total > m.Shown }

type volumeView struct {
	Empty bool
	Chart chartView
	Unit  string
	Rows  []volumeRow
	// MetricsNote says which buckets come from Mailgun's metrics; "" when
	// none do.
	MetricsNote string
}

type volumeRow struct {
	Label, Accepted, Delivered, Temporary, Permanent, Rate string
}

type failuresView struct {
	Empty bool
	Chart chartView
	Rows  []classRowView
	More  more
}

type classRowView struct {
	Class, Count, Share, Kind, Advice string
}

type domainsView struct {
	Empty      bool
	Chart      chartView
	Rows, Rest []domainRowView // the first visibleRows, and the others
	More       more
}

type domainRowView struct {
	Domain, Messages, Failures, Rate, Class, Gateway, Verdict, VerdictText string
}

type providersView struct {
	Empty bool
	Chart chartView
	Rows  []providerRowView
	More  more
}

type providerRowView struct {
	Provider, Messages, Delivered, Rate, Failures, Class, ClassCount string
	Deferrals, DeferralClass, DeferralClassCount                     string
}

type sendersView struct {
	Empty                       bool
	Domains, IPs, Tags          []splitRowView
	DomainsMore, More, TagsMore more
}

// splitTableView is one table of sendersView, with its first column's
// heading and what its rows are: the first visibleRows rows, then the
// Rest in a collapsed part.
type splitTableView struct {
	Head, Noun  string
	Rows        []splitRowView // all of them
	Shown, Rest []splitRowView
}

func splitTable(head, noun string, rows []splitRowView) splitTableView {
	n := min(len(rows), visibleRows)
	return splitTableView{head, noun, rows, rows[:n], rows[n:]}
}

// visibleRows is how many rows a long table shows; the others, up to
// --max-rows, are in a collapsed part (details) under it, which opens
// without JavaScript and stays closed on paper.
const visibleRows = 10

type splitRowView struct {
	Name, Messages, Delivered, Rate, Failures, Class, ClassCount string
	Deferrals, DeferralClass, DeferralClassCount                 string
}

type codesView struct {
	Codes, Enhanced         []codeRowView
	CodesMore, EnhancedMore more
}

type codeRowView struct {
	Code, Count, Share, Meaning string
	Reply                       *replyView
}

type suppressionsView struct {
	Printed, Shown string // rows printed and shown, when fewer are printed
	Empty          bool
	Chart          chartView
	Rows           []suppressedRowView
	More           more
}

type suppressedRowView struct {
	Rest                                     bool // not printed
	Address, List, SendingDomain, Date, Code string
	Reason                                   *replyView
}

type delaysView struct {
	Empty            bool
	Bucketed         bool // some percentiles are bucket bounds, not exact
	Chart            chartView
	Rows             []delayRowView
	More             more
	Deferrals        string
	DeferredMessages string
	StuckAfter       string
	StuckCount       string
	Stuck            []stuckRowView
	StuckMore        more
}

type delayRowView struct {
	Provider, Messages, P50, P90, P99, Deferrals string
}

type stuckRowView struct {
	Recipient, SendingDomain, Subject, Accepted, LastEvent string
}

type typosView struct {
	Typos      []typoRowView
	Lookalikes []lookalikeRowView
	TyposMore  more
	LooksMore  more
}

type typoRowView struct {
	Domain, Suggested, Addresses, Messages, Note string
}

type lookalikeRowView struct {
	Failing, Failures, Code, Receiving, Delivered string
}

// Chart container ids. Fixed, so that output is deterministic and tests can
// find each chart.
const (
	chartVolume       = "chart-volume"
	chartClasses      = "chart-classes"
	chartDomains      = "chart-domains"
	chartProviders    = "chart-providers"
	chartSuppressions = "chart-suppressions"
	chartDelays       = "chart-delays"
)

// Replies longer than this are folded: in the code tables, and in the
// long table of suppressed addresses, where rows must stay short.
const (
	replyChars  = 120
	reasonChars = 60
)

func buildView(d *analyze.HealthResult, o Options) view {
	c := newClock(o.Location, d.Period)
	v := view{
		Title:     cmp.Or(d.Title, "Delivery health report"),
		Period:    c.periodText(d.Period),
		Generated: c.stamp(d.Generated),
		Redacted:  d.Redacted,
	}
	if !d.Previous.IsZero() {
		v.Previous = c.periodText(d.Previous)
	}
	v.Filters = filterLines(d.Filters)
	v.Alerts = alerts(d, c)
	v.Cards = cards(d.Totals, d.PreviousTotals)
	v.Rates = rateCards(d.Rates)
	if d.PreviousFromMetrics && v.Previous != "" {
		// Mailgun's own counts stand in for an index that begins later.
		v.Previous += ", from Mailgun's metrics (sync --metrics): the index begins after it"
		for _, cs := range [][]cardView{v.Cards, v.Rates} {
			for i := range cs {
				if cs[i].Previous != "" {
					cs[i].Previous += " (Mailgun metrics)"
				}
			}
		}
	}
	v.NoEvents, v.Note = d.NoEvents, d.Note
	v.HasPrevious = d.PreviousTotals != nil
	v.Volume = volumeSection(d, c)
	v.Failures = failuresSection(d, c, o)
	v.Domains = domainsSection(d, o)
	v.Providers = providersSection(d, o)
	v.Senders = sendersSection(d, o)
	v.Codes = codesSection(d, o)
	v.Suppressions = suppressionsSection(d, c, o)
	v.Delays = delaysSection(d, c, o)
	v.Typos = typosSection(d, o)
	v.TOC = []tocEntry{
		{"alerts", fmt.Sprintf("Alerts (%d)", len(v.Alerts))},
		{"summary", "Summary"},
		{"volume", "Volume and delivery rate"},
		{"failures", "Failure classes"},
		{"domains", "Worst customer domains"},
		{"providers", "Providers and gateways"},
		{"senders", "Sending domains, IPs and tags"},
		{"codes", "SMTP codes"},
		{"suppressions", "New suppressions"},
		{"delays", "Delivery delay"},
		{"typos", "Typos and lookalikes"},
	}
	return v
}

func filterLines(f analyze.HealthFilters) []field {
	sending := "all"
	if len(f.SendingDomains) > 0 {
		sending = strings.Join(f.SendingDomains, ", ")
	}
	return []field{{"Sending domains", sending}, {"Recipients", cmp.Or(f.To, "all")}}
}

func fold(s string) *replyView { return foldAt(s, replyChars) }

// foldAt folds a reply longer than n runes or with several lines.
func foldAt(s string, n int) *replyView {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	first, _, multi := strings.Cut(s, "\n")
	if !multi && utf8.RuneCountInString(s) <= n {
		return &replyView{Short: s, Full: s}
	}
	short := clip(strings.TrimSpace(first), n)
	if multi && !strings.HasSuffix(short, "…") {
		short += " …"
	}
	return &replyView{Short: short, Full: s, Folded: true}
}
