package server

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// chromium is headless chromium on a test server: every request it makes
// and every console error or exception it meets are kept for checks.
type chromium struct {
	ctx     context.Context
	dir     string // screenshots
	mu      sync.Mutex
	origin  string
	problem []string
	foreign []string
}

// newBrowser starts chromium for the test (skipped without it, except
// on CI) with network events on; screenshots go to
// $MAILDIAG_TEST_ARTIFACTS when set.
func newBrowser(t *testing.T, origin string) *chromium {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not installed: apt-get install -y chromium")
		}
		t.Skip("chromium not installed")
	}
	b := &chromium{origin: origin, dir: os.Getenv("MAILDIAG_TEST_ARTIFACTS")}
	if b.dir == "" {
		b.dir = t.TempDir()
	}
	listen := func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(ev.Request.URL, origin+"/") {
				b.foreign = append(b.foreign, ev.Request.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				b.problem = append(b.problem, "console error")
			}
		case *runtime.EventExceptionThrown:
			b.problem = append(b.problem, ev.ExceptionDetails.Text)
		}
	}
	enable := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
		return err
	})
	// Chromium now and then fails to start on a loaded machine (its
	// launcher exits before the DevTools line): a few tries, each with a
	// new profile, before the test fails.
	var err error
	for try := 0; try < 3; try++ {
		tmp := t.TempDir()
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true),
			chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), chromedp.UserDataDir(filepath.Join(tmp, "profile")),
			chromedp.Env("TMPDIR="+tmp), chromedp.WindowSize(1280, 900))
		ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(listen))
		ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute) // a loaded machine draws slowly
		if err = chromedp.Do(ctx, enable); err == nil {
			t.Cleanup(cancelAlloc)
			t.Cleanup(cancel)
			t.Cleanup(cancelT)
			b.ctx = ctx
			return b
		}
		cancelT()
		cancel()
		cancelAlloc()
		if !strings.Contains(err.Error(), "failed to start") {
			break
		}
	}
	t.Fatalf("browser: %v", err)
	return nil
}

// shot keeps a screenshot of the page as name.
func (b *chromium) shot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// text is the text of the first element sel selects.
func (b *chromium) text(t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// clean fails the test on a console error or a request that left the
// origin.
func (b *chromium) clean(t *testing.T) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // events may trail the last command
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problem) > 0 {
		t.Errorf("console errors: %v", b.problem)
	}
	if len(b.foreign) > 0 {
		t.Errorf("requests leaving the origin: %v", b.foreign)
	}
}

// The search page in headless chromium: log in with a token, fill the
// filters, search, follow a recipient to the address page; then the
// handbook's flow as an agent and a lead; no console error and no request
// leaving the server's origin.
func TestBrowserSearch(t *testing.T) {
	s := newStoryServer(t)
	b := newBrowser(t, s.URL)
	ctx := b.ctx
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/search"),
		chromedp.WaitVisible(`input[name=token]`),
		chromedp.SendKeys(`input[name=token]`, s.tokens["viewer"]),
		chromedp.Submit(`input[name=token]`),
		chromedp.WaitVisible(`#search`),
		chromedp.SendKeys(`input[name=to]`, "*@acme.com"),
		chromedp.SetValue(`select[name=event]`, "failed"),
		chromedp.Click(`#search`),
		chromedp.WaitVisible(`#results`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	count, err := chromedp.Run(ctx, chromedp.Text(`#count`))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	b.shot(t, "search.png")
	if err := chromedp.Do(ctx, chromedp.Click(`#results tr:nth-child(2) a`), chromedp.WaitVisible(`#verdict`)); err != nil {
		t.Fatalf("address page: %v", err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(`#verdict`))
	if err != nil {
		t.Fatal(err)
	}
	b.shot(t, "address.png")
	u, _ := url.Parse(loc)
	if q := u.Query(); q.Get("to") != "*@acme.com" || q.Get("event") != "failed" {
		t.Errorf("the search's URL %s does not hold its filters", loc)
	}
	if !strings.Contains(count, "event(s)") || strings.HasPrefix(count, "0 ") {
		t.Errorf("search found %q, want failed events at acme.com", count)
	}
	if verdict == "" {
		t.Error("the address page shows no verdict")
	}
	// A viewer is offered no resend.
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.resend").length`)); err != nil || n != 0 {
		t.Errorf("a viewer's address page has %v resend forms (%v)", n, err)
	}
	browserRemoveAndResend(t, s, b)
	b.clean(t)
}

// logIn logs the browser in with a token from a page that asks for it.
func (b *chromium) logIn(t *testing.T, path, token string) {
	t.Helper()
	if err := chromedp.Do(b.ctx,
		chromedp.Navigate(b.origin+path),
		chromedp.WaitVisible(`input[name=token]`),
		chromedp.SendKeys(`input[name=token]`, token),
		chromedp.Submit(`input[name=token]`),
		chromedp.WaitVisible(`header .who`),
	); err != nil {
		t.Fatalf("log in for %s: %v", path, err)
	}
}

// browserRemoveAndResend is the handbook's flow clicked through in chromium: an agent removes the
// bounces of a customer domain for real and asks for a resend to another
// address; a lead approves it on the resend requests page; the message
// goes out once, and the audit page names both.
// It runs in TestBrowserSearch's browser, after the viewer logs out: a
// second chromium started right after the first fails now and then.
func browserRemoveAndResend(t *testing.T, s *storyServer, b *chromium) {
	m := s.mg.FindMessage(t, 2*time.Hour, 48*time.Hour)
	other := "jane.doe@elsewhere.example"
	ctx := b.ctx
	if err := chromedp.Do(ctx, chromedp.Click(`header form button`), chromedp.WaitVisible(`input[name=token]`)); err != nil {
		t.Fatalf("log out: %v", err)
	}
	bouncesAtAcme := func() int {
		n := 0
		for _, d := range s.mg.Acct.Domains() {
			for _, e := range s.mg.Acct.Bounces(d) {
				if strings.HasSuffix(e.Address, "@acme.com") {
					n++
				}
			}
		}
		return n
	}
	before := bouncesAtAcme()
	if before == 0 {
		t.Fatal("the story account has no bounce at acme.com")
	}

	b.logIn(t, "/domain/"+url.PathEscape("*@acme.com"), s.tokens["agent"])
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`#suppressed`),
		chromedp.SetValue(`select[name=list]`, "bounces"),
		chromedp.Click(`input[name=yes]`),
		chromedp.Click(`#remove`),
		chromedp.WaitVisible(`#removal`),
	); err != nil {
		t.Fatalf("remove: %v", err)
	}
	b.shot(t, "remove.png")
	if notice := b.text(t, `p.ok`); !strings.HasPrefix(notice, "Removed ") || strings.HasPrefix(notice, "Removed 0,") {
		t.Errorf("after the removal the page says %q", notice)
	}
	if after := bouncesAtAcme(); after >= before {
		t.Errorf("bounces at acme.com on Mailgun: %d before, %d after the removal", before, after)
	}

	form := `form.resend:has(input[name=query][value="` + m.ID + `"])`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/address/"+url.PathEscape(m.Recipient)),
		chromedp.WaitVisible(form),
		chromedp.SendKeys(form+` input[name=to]`, other),
		chromedp.SendKeys(form+` input[name=reason]`, "the customer asked by phone"),
		chromedp.Click(form+` input[name=yes]`),
		chromedp.Click(form+` button`),
		chromedp.WaitVisible(`p.ok`),
	); err != nil {
		t.Fatalf("resend request: %v", err)
	}
	b.shot(t, "resend-request.png")
	if notice := b.text(t, `p.ok`); !strings.Contains(notice, "filed as request") {
		t.Errorf("the resend to another address says %q, want a request", notice)
	}
	if n := len(s.mg.Acct.Sends()); n != 0 {
		t.Fatalf("%d messages sent before a lead approved", n)
	}

	if err := chromedp.Do(ctx, chromedp.Click(`header form button`), chromedp.WaitVisible(`input[name=token]`)); err != nil {
		t.Fatalf("log out: %v", err)
	}
	b.logIn(t, "/resends", s.tokens["lead"])
	if err := chromedp.Do(ctx,
		chromedp.Click(`form[action$="/approve"] button`),
		chromedp.WaitVisible(`p.ok`),
	); err != nil {
		t.Fatalf("approve: %v", err)
	}
	b.shot(t, "resend-approved.png")
	if notice := b.text(t, `p.ok`); !strings.Contains(notice, "sent") {
		t.Errorf("the approval says %q", notice)
	}
	sends := s.mg.Acct.Sends()
	if len(sends) != 1 || len(sends[0].To) != 1 || sends[0].To[0] != other {
		t.Fatalf("sends %+v, want one to %s", sends, other)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/audit"), chromedp.WaitVisible(`#audit`)); err != nil {
		t.Fatalf("audit page: %v", err)
	}
	b.shot(t, "audit.png")
	audit := b.text(t, `#audit`)
	for _, want := range []string{"agent", "lead at ", other, "removed"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
}
