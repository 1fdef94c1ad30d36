package report

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"sync"
	"time"

	"github.com/maildiag/maildiag/analyze"
)

// Options tune the page. The zero value gives the defaults.
type Options struct {
	// MaxRows caps every table but the suppressed addresses; 0 means 25.
	MaxRows int
	// MaxAddresses caps the list of suppressed addresses; 0 means 200.
	MaxAddresses int
	// MaxBars caps the bars of the top-N charts (domains, providers,
	// delays); 0 means 10.
	MaxBars int
	// Location is the time zone of every date on the page; nil means UTC.
	Location *time.Location
}

var (
	//go:embed template/page.html.tmpl
	pageTmpl string
	//go:embed template/style.css
	styleCSS string
	//go:embed template/charts.js
	chartsJS string
	//go:embed template/tables.js
	tablesJS string
)

// pageTemplate is parsed when first needed, not at every start of the
// binary.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{"split": splitTable}).Parse(pageTmpl))
})

// pageData is the view plus the page's own trusted parts: the stylesheet and
// scripts embedded in the binary, and the chart options, which are JSON
// escaped by encoding/json (no "<", ">" or "&" left in them).
type pageData struct {
	view
	CSP            string
	CSS            template.CSS
	Charts         template.JS
	ECharts        template.JS
	Init           template.JS
	Tables         template.JS
	HasCharts      bool
	HasTables      bool
	EChartsVersion string
}

// Render writes the report for d as one self-contained HTML page. It fails
// when the embedded ECharts script is not the pinned release (run
// `make build`).
func Render(w io.Writer, d *analyze.HealthResult, opts Options) error {
	js, err := echartsOnce()
	if err != nil {
		return err
	}
	return render(w, d, opts, js)
}

// render is Render with the ECharts script given, so that tests can render
// golden pages with a short placeholder in its place.
func render(w io.Writer, d *analyze.HealthResult, opts Options, echartsJS []byte) error {
	if d == nil {
		return errors.New("render report: no data")
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	v := buildView(d, opts)
	specs, err := buildCharts(d, &v, opts)
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	drawn := map[string]bool{}
	for _, s := range specs {
		drawn[s.ID] = true
	}
	for _, c := range []*chartView{&v.Volume.Chart, &v.Failures.Chart, &v.Domains.Chart, &v.Providers.Chart, &v.Suppressions.Chart, &v.Delays.Chart} {
		c.Drawn = drawn[c.ID]
	}
	specJSON, err := json.Marshal(specs)
	if err != nil {
		return fmt.Errorf("render report: marshal charts: %w", err)
	}
	p := pageData{
		view:           v,
		CSS:            template.CSS(styleCSS),
		Charts:         template.JS(specJSON),
		ECharts:        template.JS(echartsJS),
		Init:           template.JS(chartsJS),
		HasCharts:      len(specs) > 0,
		EChartsVersion: EChartsVersion,
	}
	var scripts [][]byte
	if p.HasCharts {
		scripts = append(scripts, echartsJS, []byte(chartsJS))
	}
	if p.HasTables = hasTables(v); p.HasTables {
		p.Tables = template.JS(tablesJS)
		scripts = append(scripts, []byte(tablesJS))
	}
	p.CSP = contentPolicy(scripts...)
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTemplate().Execute(bw, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// hasTables reports whether the page shows a table row to sort.
func hasTables(v view) bool {
	return len(v.Volume.Rows)+len(v.Failures.Rows)+len(v.Domains.Rows)+len(v.Providers.Rows)+len(v.Senders.Domains)+len(v.Senders.IPs)+
		len(v.Codes.Codes)+len(v.Suppressions.Rows)+len(v.Delays.Rows)+len(v.Delays.Stuck)+len(v.Typos.Typos)+len(v.Typos.Lookalikes) > 0
}

// contentPolicy forbids every fetch and allows only our own two scripts, by
// hash. Escaping is the defence; this is the second line: an injected
// script or event handler would not run, and an injected image or link
// could not reach the network.
func contentPolicy(js ...[]byte) string {
	src := "'none'"
	if len(js) > 0 {
		src = ""
		for _, b := range js {
			sum := sha256.Sum256(b)
			if src != "" {
				src += " "
			}
			src += "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		}
	}
	return "default-src 'none'; script-src " + src +
		"; style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none';" +
		" media-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none';" +
		" base-uri 'none'; form-action 'none'"
}
