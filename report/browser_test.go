package report

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/maildiag/maildiag/analyze"
)

// The browser test opens rendered reports in Debian's headless chromium,
// offline, and checks what a person would see: charts drawn, no errors, no
// network request, alerts present, payloads inert, and the page still
// useful on a phone and without JavaScript.

const (
	chromiumPath    = "/usr/bin/chromium"
	chromiumMissing = "chromium not installed: run `make test` (it installs it) or apt-get install -y chromium"
)

// newBrowser starts chromium with no way out: a proxy on a closed port, no
// DNS, and background services off. Every tab gets offline emulation too.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(chromiumMissing)
		}
		t.Skip(chromiumMissing)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	profile := t.TempDir()
	// chromium keeps its singleton socket in a directory of its own under
	// TMPDIR, which it removes only when it exits cleanly; the test kills
	// it, so give it a TMPDIR that the test removes.
	tmp := t.TempDir()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("allow-file-access-from-files", false),
		chromedp.ProxyServer("http://"+closed),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.UserDataDir(profile),
		chromedp.Env("TMPDIR="+tmp),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		// On a loaded machine chromium now and then dies while starting
		// (crashpad); that says nothing about the report, so try once more.
		t.Logf("start chromium: %v; retrying", err)
		cancel()
		ctx, cancel = chromedp.NewContext(allocCtx)
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	}
	return ctx
}

// tab is one opened report and what the browser reported while it loaded.
type tab struct {
	ctx context.Context
	mu  sync.Mutex
	// requests are network requests other than the file itself and data: URLs.
	requests []string
	// problems are console errors, uncaught exceptions and error log entries.
	problems []string
	dialogs  []string
}

func (tb *tab) listen(fileURL string) func(ev any) {
	return func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			if u != fileURL && !strings.HasPrefix(u, "data:") {
				tb.requests = append(tb.requests, u)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				tb.problems = append(tb.problems, "console.error: "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			tb.problems = append(tb.problems, "exception: "+msg)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				tb.problems = append(tb.problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *page.EventJavascriptDialogOpening:
			tb.dialogs = append(tb.dialogs, ev.Message)
		}
	}
}

// tripwire replaces the dialogs before any page script runs, so that a
// payload that got to call one is counted and does not block the page.
const tripwire = `window.__alerts = 0;
window.alert = window.confirm = window.prompt = function () { window.__alerts++; };`

// goOffline emulates a machine with no network. The typed command follows
// the newest protocol; Debian's chromium may speak an older one, so the
// classic command is tried with raw parameters when the typed one is
// refused.
func goOffline(ctx context.Context, tg *chromedp.Target) error {
	_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
	})
	if err == nil {
		return nil
	}
	classic := map[string]any{"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
	if err2 := tg.Call(ctx, "Network.emulateNetworkConditions", classic, nil); err2 != nil {
		return fmt.Errorf("emulate offline: %v; classic: %w", err, err2)
	}
	return nil
}

type tabOption struct {
	width, height int64
	noJS          bool
	bypassCSP     bool
	dark          bool // prefers-color-scheme: dark, from before the page loads
}

// open renders nothing itself: it loads the file at path in a new tab.
func open(t *testing.T, browser context.Context, path string, o tabOption) *tab {
	t.Helper()
	fileURL := "file://" + path
	tb := &tab{}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithListener(tb.listen(fileURL)))
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(cancelT)
	tb.ctx = ctx
	setup := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return fmt.Errorf("network.enable: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{}); err != nil {
			return fmt.Errorf("log.enable: %w", err)
		}
		if err := goOffline(ctx, tg); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: tripwire}); err != nil {
			return fmt.Errorf("add tripwire: %w", err)
		}
		if o.bypassCSP {
			// Test the escaping alone: with the content policy off, only
			// escaping stands between a payload and execution.
			if _, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
				return fmt.Errorf("bypass CSP: %w", err)
			}
		}
		if o.dark {
			if _, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
				return fmt.Errorf("emulate dark: %w", err)
			}
		}
		if o.noJS {
			if _, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				return fmt.Errorf("disable scripts: %w", err)
			}
		}
		return nil
	})
	steps := []chromedp.Action[chromedp.Void]{setup}
	if o.width > 0 {
		steps = append(steps, chromedp.EmulateViewport(o.width, o.height))
	}
	steps = append(steps, chromedp.Navigate(fileURL))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if o.noJS {
		// Let DevTools evaluate again; the page's own scripts have had
		// their chance and did not run.
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
			t.Fatal(err)
		}
	} else if _, err := chromedp.Run(ctx, chromedp.Poll[string](`document.documentElement.dataset.charts`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("charts never drawn: %v", err)
	}
	return tb
}

func (tb *tab) eval(t *testing.T, js string, v any) {
	t.Helper()
	raw, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

// checkQuiet fails on any request, console error, exception or dialog.
func (tb *tab) checkQuiet(t *testing.T) {
	t.Helper()
	// Events may trail the last command a little.
	time.Sleep(200 * time.Millisecond)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, r := range tb.requests {
		t.Errorf("network request: %s", r)
	}
	for _, p := range tb.problems {
		t.Errorf("%s", p)
	}
	for _, d := range tb.dialogs {
		t.Errorf("dialog opened: %q", d)
	}
}

// screenshot saves a full-page PNG of the tab.
func (tb *tab) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	save(t, name, png)
}

// save writes an artifact in the test's temporary directory and logs its
// path; with $REPORT_SCREENSHOT_DIR set, it keeps a copy there.
func save(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
	if dir := os.Getenv("REPORT_SCREENSHOT_DIR"); dir != "" {
		keep := filepath.Join(dir, name)
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("kept %s", keep)
	}
}

type chartState struct {
	ID      string `json:"id"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Painted bool   `json:"painted"`
}

type pageState struct {
	Charts   []chartState `json:"charts"`
	Block    string       `json:"block"`
	Pwned    string       `json:"pwned"`
	Alerts   int          `json:"alerts"`
	Scripts  int          `json:"scripts"`
	Foreign  int          `json:"foreign"`
	Handlers int          `json:"handlers"`
	Text     string       `json:"text"`
	Tips     []string     `json:"tips"`
	Overflow int          `json:"overflow"`
	Rows     int          `json:"rows"`
	NoScript bool         `json:"noscript"`
	Visible  int          `json:"visibleCharts"`
}

// stateJS reads the page: each chart container's canvas and whether
// anything is drawn on it, the block alert, the tripwires, elements a
// payload could have made, and how far the page overflows sideways.
const stateJS = `(() => {
  const charts = [...document.querySelectorAll('.chart')].map(el => {
    const c = el.querySelector('canvas');
    let painted = false;
    if (c && c.width && c.height) {
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4 * 97) { if (px[i] !== 0) { painted = true; break; } }
    }
    return {id: el.id, width: c ? c.getBoundingClientRect().width : 0, height: c ? c.getBoundingClientRect().height : 0, painted};
  });
  const block = document.querySelector('[data-kind="domain-block"]');
  const tips = [...document.querySelectorAll('.chart > div:not(:first-child)')].map(d => d.textContent).filter(Boolean);
  return {
    charts,
    block: block ? block.innerText : '',
    pwned: String(window.__pwned === undefined ? '' : window.__pwned),
    alerts: window.__alerts || 0,
    scripts: document.scripts.length,
    foreign: document.querySelectorAll('img, svg, iframe, object, embed, form, base, link:not([rel=icon])').length,
    handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
    text: document.body.innerText,
    tips,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    rows: document.querySelectorAll('tbody tr').length,
    noscript: document.body.innerText.includes('JavaScript is off'),
    visibleCharts: [...document.querySelectorAll('.chart')].filter(e => e.offsetHeight > 0).length,
  };
})()`

// showTips opens the tooltip of every chart on its first data point: the
// tooltip is HTML, the one place where ECharts writes markup.
const showTips = `(() => {
  (window.maildiagCharts || []).forEach(c => c.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0}));
  return true;
})()`

func writeReport(t *testing.T, d *analyze.HealthResult) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	if err := WriteFile(path, d, Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

var wantCharts = []string{chartVolume, chartClasses, chartDomains, chartProviders, chartSuppressions, chartDelays}

func checkCharts(t *testing.T, st pageState, maxWidth float64) {
	t.Helper()
	if len(st.Charts) != len(wantCharts) {
		t.Fatalf("got %d chart containers, want %d", len(st.Charts), len(wantCharts))
	}
	for i, c := range st.Charts {
		if c.ID != wantCharts[i] {
			t.Errorf("chart %d is %s, want %s", i, c.ID, wantCharts[i])
		}
		if c.Width <= 0 || c.Height <= 0 || !c.Painted {
			t.Errorf("%s not drawn: canvas %dx%d painted %v", c.ID, c.Width, c.Height, c.Painted)
		}
		if maxWidth > 0 && float64(c.Width) > maxWidth {
			t.Errorf("%s is %dpx wide on a %vpx screen", c.ID, c.Width, maxWidth)
		}
	}
}

// pdfPage matches a page object of a PDF (not the /Pages tree).
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

func TestBrowser(t *testing.T) {
	requireECharts(t)
	browser := newBrowser(t)
	sample := writeReport(t, sampleData())

	t.Run("sample", func(t *testing.T) {
		tb := open(t, browser, sample, tabOption{width: 1400, height: 900})
		var st pageState
		tb.eval(t, stateJS, &st)
		checkCharts(t, st, 0)
		if !strings.Contains(st.Block, "acme.com: 42 addresses bounced with 550 5.7.1 from one Mimecast gateway within 2 hours: a domain-wide block at the recipient, not bad addresses.") {
			t.Errorf("domain-wide block alert missing; got %q", st.Block)
		}
		if st.Overflow > 0 {
			t.Errorf("page overflows sideways by %dpx", st.Overflow)
		}
		var ok bool
		tb.eval(t, showTips, &ok)
		if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`[...document.querySelectorAll('.chart > div:not(:first-child)')].filter(d => d.textContent).length === 6`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			t.Errorf("not every chart shows a tooltip: %v", err)
		}
		tb.checkQuiet(t)
		tb.screenshot(t, "report.png")
	})

	t.Run("dark", func(t *testing.T) {
		tb := open(t, browser, sample, tabOption{width: 1400, height: 900, dark: true})
		var st pageState
		tb.eval(t, stateJS, &st)
		checkCharts(t, st, 0)
		// Every text on its own background, and the charts' text on the
		// page's, reads at WCAG AA contrast (4.5) at least.
		var low []string
		tb.eval(t, `(() => {
  const rgb = c => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = c => { const v = rgb(c).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const bgOf = e => { for (; e; e = e.parentElement) { const b = getComputedStyle(e).backgroundColor; if (b && !b.endsWith(', 0)') && b !== 'transparent') return b; } return 'rgb(255, 255, 255)'; };
  const page = getComputedStyle(document.body).backgroundColor;
  const low = [];
  if (lum(page) > 0.05) low.push('page background ' + page + ' is not dark');
  for (const sel of ['body', 'h2', '.card .value', '.card .label', '.note', 'td', 'th', '.alert']) {
    const e = document.querySelector(sel);
    if (!e) continue;
    const r = ratio(getComputedStyle(e).color, bgOf(e));
    if (r < 4.5) low.push(sel + ' contrast ' + r.toFixed(2));
  }
  for (const c of document.querySelectorAll('.chart')) {
    const inst = echarts.getInstanceByDom(c);
    const o = inst && inst.getOption();
    const colors = [];
    if (o) {
      (o.legend || []).forEach(l => colors.push(l.textStyle && l.textStyle.color));
      [].concat(o.xAxis || [], o.yAxis || []).forEach(a => colors.push(a.axisLabel && a.axisLabel.color));
    }
    for (const col of colors) {
      if (!col || typeof col !== 'string') { low.push(c.id + ': chart text has no colour of the theme'); break; }
      const r = ratio(col.startsWith('#') ? 'rgb(' + [1, 3, 5].map(i => parseInt(col.substr(i, 2), 16)).join(', ') + ')' : col, page);
      if (r < 4.5) { low.push(c.id + ' text contrast ' + r.toFixed(2)); break; }
    }
  }
  return low;
})()`, &low)
		for _, l := range low {
			t.Errorf("dark theme: %s", l)
		}
		tb.checkQuiet(t)
		tb.screenshot(t, "report-dark.png")
	})

	t.Run("print", func(t *testing.T) {
		tb := open(t, browser, sample, tabOption{})
		if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		var st struct {
			Breaks    []string `json:"breaks"`
			Summaries int      `json:"summaries"`
			Overflow  []string `json:"overflow"`
			Charts    int      `json:"charts"`
		}
		tb.eval(t, `(() => ({
  breaks: [...document.querySelectorAll('main > section:not(#alerts)')].map(s => getComputedStyle(s).breakBefore),
  summaries: [...document.querySelectorAll('.summary')].filter(e => e.offsetHeight > 0).length,
  overflow: [...new Set([...document.querySelectorAll('.table-wrap')].map(e => getComputedStyle(e).overflowX))],
  charts: [...document.querySelectorAll('.chart')].filter(e => e.offsetHeight > 0).length,
}))()`, &st)
		if st.Summaries != 6 || st.Charts != 6 {
			t.Errorf("printed: %d summaries and %d charts visible, want 6 and 6", st.Summaries, st.Charts)
		}
		if len(st.Overflow) != 1 || st.Overflow[0] != "visible" {
			t.Errorf("printed tables overflow %v, want visible (all columns on paper)", st.Overflow)
		}
		pdf, err := chromedp.Run(tb.ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
		if err != nil || !strings.HasPrefix(string(pdf), "%PDF") {
			t.Fatalf("print to PDF: %v", err)
		}
		save(t, "report.pdf", pdf)
		// A week's report is read on paper too: at most 8 A4 pages.
		if n := len(pdfPage.FindAll(pdf, -1)); n == 0 || n > 8 {
			t.Errorf("printed on %d A4 pages, want 1 to 8", n)
		}
		tb.checkQuiet(t)
	})

	t.Run("payloads", func(t *testing.T) {
		path := writeReport(t, payloadData())
		for _, csp := range []bool{true, false} {
			tb := open(t, browser, path, tabOption{bypassCSP: !csp})
			var ok bool
			tb.eval(t, showTips, &ok)
			// Wait for the tooltips to be written before reading them.
			if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`[...document.querySelectorAll('.chart > div:not(:first-child)')].some(d => d.textContent)`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
				t.Fatalf("no tooltip shown: %v", err)
			}
			var st pageState
			tb.eval(t, stateJS, &st)
			checkCharts(t, st, 0)
			if st.Pwned != "" || st.Alerts != 0 {
				t.Errorf("csp %v: a payload ran: __pwned=%q, %d alert calls", csp, st.Pwned, st.Alerts)
			}
			if st.Scripts != 4 || st.Foreign != 0 || st.Handlers != 0 {
				t.Errorf("csp %v: injected elements: %d scripts (want 4), %d foreign elements, %d with handlers", csp, st.Scripts, st.Foreign, st.Handlers)
			}
			for _, p := range []string{payloads[0], payloads[1], payloads[2], payloads[3]} {
				if !strings.Contains(st.Text, p) {
					t.Errorf("csp %v: payload %q does not show as text", csp, p)
				}
			}
			if !strings.Contains(strings.Join(st.Tips, "\n"), "<") {
				t.Errorf("csp %v: tooltips %q do not show payload markup as text", csp, st.Tips)
			}
			tb.checkQuiet(t)
		}
	})

	t.Run("narrow", func(t *testing.T) {
		tb := open(t, browser, sample, tabOption{width: 390, height: 844})
		var st pageState
		tb.eval(t, stateJS, &st)
		checkCharts(t, st, 390)
		if st.Overflow > 0 {
			t.Errorf("page overflows a 390px screen by %dpx (tables must scroll inside their box)", st.Overflow)
		}
		// No element but those inside a table's scrolling box reaches
		// past the screen.
		var wide []string
		tb.eval(t, `[...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap') && e.getClientRects().length &&
  (e.getBoundingClientRect().right > innerWidth + 1 || e.getBoundingClientRect().width > innerWidth)).map(e => e.tagName + '.' + e.className).slice(0, 10)`, &wide)
		if len(wide) > 0 {
			t.Errorf("wider than a 390px screen: %v", wide)
		}
		tb.checkQuiet(t)
		tb.screenshot(t, "report-narrow.png")
	})

	t.Run("sort and filter", func(t *testing.T) {
		tb := open(t, browser, sample, tabOption{width: 1400, height: 900})
		// Sort the domains by their messages, then the other way.
		sorted := `(() => { const t = document.querySelector('#domains table');
  return [...t.tBodies[0].rows].map(r => parseInt(r.cells[1].textContent.replace(/,/g, ''), 10)); })()`
		var before, desc, asc []int
		tb.eval(t, sorted, &before)
		if _, err := chromedp.Run(tb.ctx, chromedp.Click(`#domains table thead th:nth-child(2)`)); err != nil {
			t.Fatal(err)
		}
		tb.eval(t, sorted, &desc)
		if _, err := chromedp.Run(tb.ctx, chromedp.Click(`#domains table thead th:nth-child(2)`)); err != nil {
			t.Fatal(err)
		}
		tb.eval(t, sorted, &asc)
		if len(desc) < 3 || !slices.IsSortedFunc(desc, func(a, b int) int { return b - a }) || !slices.IsSorted(asc) || slices.IsSorted(before) && slices.IsSortedFunc(before, func(a, b int) int { return b - a }) {
			t.Errorf("messages column: before %v, one click %v, two %v: want descending then ascending", before, desc, asc)
		}
		// Every table's headers sort.
		var unsortable int
		tb.eval(t, `[...document.querySelectorAll('main table thead th')].filter(th => !th.classList.contains('sortable')).length`, &unsortable)
		if unsortable != 0 {
			t.Errorf("%d headers cannot sort", unsortable)
		}
		// The filter box of the suppressed addresses keeps matching rows.
		var shown int
		tb.eval(t, `(() => { const box = document.querySelector('#suppressions input.filter'); box.value = 'acme.com';
  box.dispatchEvent(new Event('input')); return [...document.querySelectorAll('#suppressions tbody tr')].filter(r => !r.hidden).length; })()`, &shown)
		var total int
		tb.eval(t, `document.querySelectorAll('#suppressions tbody tr').length`, &total)
		if shown == 0 || shown >= total {
			t.Errorf("filter acme.com shows %d of %d suppressed rows", shown, total)
		}
		tb.checkQuiet(t)
	})

	t.Run("no-javascript", func(t *testing.T) {
		tb := open(t, browser, sample, tabOption{noJS: true})
		var st pageState
		tb.eval(t, stateJS, &st)
		if !st.NoScript {
			t.Error("no note that JavaScript is off")
		}
		if st.Visible != 0 {
			t.Errorf("%d empty chart boxes shown without JavaScript", st.Visible)
		}
		if !strings.Contains(st.Block, "domain-wide block") || st.Rows < 50 {
			t.Errorf("without JavaScript: block alert %q, %d table rows", st.Block, st.Rows)
		}
		for _, s := range []string{"Over 7 days, 42,880 messages were accepted", "2,085 failures in 8 classes", "Slowest p90"} {
			if !strings.Contains(st.Text, s) {
				t.Errorf("without JavaScript the summary %q is missing", s)
			}
		}
		tb.checkQuiet(t)
	})
}
