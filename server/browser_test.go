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

// The search page in headless chromium: log in with a token, fill the
// filters, search, follow a recipient to the address page; no console
// error and no request leaving the server's origin. Screenshots go to
// $MAILDIAG_TEST_ARTIFACTS when set.
func TestBrowserSearch(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not installed: apt-get install -y chromium")
		}
		t.Skip("chromium not installed")
	}
	s := newStoryServer(t)
	tmp := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.Env("TMPDIR="+tmp), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	var mu sync.Mutex
	var problems, foreign []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(ev.Request.URL, s.URL+"/") {
				foreign = append(foreign, ev.Request.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console error")
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, ev.ExceptionDetails.Text)
		}
	}
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(listen))
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	dir := os.Getenv("MAILDIAG_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := func(name string) {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	enable := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
		return err
	})
	err := chromedp.Do(ctx, enable,
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
	shot("search.png")
	if err := chromedp.Do(ctx, chromedp.Click(`#results tr:nth-child(2) a`), chromedp.WaitVisible(`#verdict`)); err != nil {
		t.Fatalf("address page: %v", err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(`#verdict`))
	if err != nil {
		t.Fatal(err)
	}
	shot("address.png")
	time.Sleep(200 * time.Millisecond) // events may trail the last command
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
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console errors: %v", problems)
	}
	if len(foreign) > 0 {
		t.Errorf("requests leaving the origin: %v", foreign)
	}
}
