package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultChromium is the Debian package's Chromium, which `make test`
// installs when missing. KYCDESK_CHROMIUM overrides it.
const DefaultChromium = "/usr/bin/chromium"

// Viewport is the browser window: the desktop width the layout is checked at.
const (
	ViewportWidth  = 1280
	ViewportHeight = 900
)

// ActionTimeout bounds each Do, Run and WaitFor call, so a broken page
// fails a test instead of hanging it. It is generous because CI machines
// run many test binaries at once; a healthy page answers in milliseconds.
const ActionTimeout = 20 * time.Second

// Browser is one headless Chromium with one tab, for one test.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab; it has run once, so it holds the browser
	log *SyncBuffer     // chromedp's own error log, shown when a test fails
}

// ChromiumPath returns the Chromium to run and whether it exists.
func ChromiumPath() (string, bool) {
	if path := os.Getenv("KYCDESK_CHROMIUM"); path != "" {
		if found, err := exec.LookPath(path); err == nil {
			return found, true
		}
		return path, false
	}
	for _, path := range []string{DefaultChromium, "chromium"} {
		if found, err := exec.LookPath(path); err == nil {
			return found, true
		}
	}
	return DefaultChromium, false
}

// RequireBrowser reports whether a missing Chromium fails tests instead of
// skipping them (KYCDESK_REQUIRE_BROWSER=1, which `make test` sets).
func RequireBrowser() bool { return os.Getenv("KYCDESK_REQUIRE_BROWSER") == "1" }

// New starts a fresh headless Chromium (its own profile directory) with one
// tab at 1280x900. Without Chromium the test is skipped, or fails when
// RequireBrowser is set. When the test fails, a screenshot of the tab is
// saved (see ScreenshotDir) and its path logged.
func New(t testing.TB) *Browser {
	t.Helper()
	path, ok := ChromiumPath()
	if !ok {
		if RequireBrowser() {
			t.Fatalf("browser test: Chromium not found at %s (install the Debian package chromium, or set KYCDESK_CHROMIUM)", path)
		}
		t.Skipf("browser test skipped: Chromium not found at %s (set KYCDESK_REQUIRE_BROWSER=1 to make this a failure)", path)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{t: t, log: NewSyncBuffer()}
	logf := func(format string, args ...any) { fmt.Fprintf(b.log, format+"\n", args...) }
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	b.ctx = ctx
	// Cleanups run last-in first-out: the failure screenshot below is taken
	// before the browser closes, and the profile directory (t.TempDir above)
	// is removed after it.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first run starts the browser; it must not carry a timeout, or the
	// timeout would end the browser (see chromedp.Run).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser test: start Chromium %s: %v", path, err)
	}
	if _, err := run(b, chromedp.EmulateViewport(ViewportWidth, ViewportHeight)); err != nil {
		t.Fatalf("browser test: set the viewport: %v", err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if path, err := b.saveScreenshot("FAILED"); err == nil {
			t.Logf("screenshot of the page at the failure: %s", path)
		} else {
			t.Logf("no screenshot at the failure: %v", err)
		}
		if log := b.log.String(); log != "" {
			t.Logf("chromedp log:\n%s", log)
		}
	})
	return b
}

// Context is the tab's context, for chromedp calls the helpers do not
// cover. Derive a timeout from it with context.WithTimeout for each call.
func (b *Browser) Context() context.Context { return b.ctx }

// run runs one action on the tab with ActionTimeout.
func run[T any](b *Browser, action chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, ActionTimeout)
	defer cancel()
	return chromedp.Run(ctx, action)
}

// Do runs the actions in order and fails the test at the first error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := run(b, chromedp.Steps(actions...)); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// Run runs one action that returns a value, failing the test on error.
func Run[T any](b *Browser, action chromedp.Action[T]) T {
	b.t.Helper()
	v, err := run(b, action)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and decodes its value.
func Eval[T any](b *Browser, expression string) T {
	b.t.Helper()
	return Run(b, chromedp.Evaluate[T](expression))
}

// WaitFor waits until the JavaScript expression is truthy in the page, and
// fails the test with what (a description for the failure message) if it
// does not become so within ActionTimeout. It watches one page: for a click
// that loads another page, use ClickAndLoad.
func (b *Browser) WaitFor(what, expression string) {
	b.t.Helper()
	_, err := run(b, chromedp.Poll[chromedp.Void](expression,
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(ActionTimeout)))
	if err != nil {
		b.t.Fatalf("browser: waiting for %s: %v (location %s)", what, err, b.Location())
	}
}

// Location is the tab's current URL.
func (b *Browser) Location() string {
	loc, err := run(b, chromedp.Location())
	if err != nil {
		return "unknown: " + err.Error()
	}
	return loc
}

// Navigate opens url, waits for it to load, and fails the test unless its
// status is 2xx (after redirects).
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	resp := Run(b, chromedp.NavigateResponse(url))
	if resp.Status < 200 || resp.Status > 299 {
		b.t.Fatalf("browser: %s answered %d", url, resp.Status)
	}
}

// ClickAndLoad clicks the element matched by the CSS selector, waits for
// the page it loads, and fails the test unless that page's status is 2xx.
// Redirects are followed; the status is the final page's.
func (b *Browser) ClickAndLoad(selector string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, ActionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browser: click %s and wait for the page: %v", selector, err)
	}
	if resp.Status < 200 || resp.Status > 299 {
		b.t.Fatalf("browser: click %s loaded %s with status %d", selector, resp.URL, resp.Status)
	}
}

// SelectOption chooses value in the <select> matched by the CSS selector
// and fires the change event a user's choice fires.
func (b *Browser) SelectOption(selector, value string) {
	b.t.Helper()
	sel, _ := json.Marshal(selector)
	val, _ := json.Marshal(value)
	ok := Eval[bool](b, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el || !Array.from(el.options).some(o => o.value === %s)) return false;
		el.value = %s;
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, sel, val, val))
	if !ok {
		b.t.Fatalf("browser: no <select> %s with an option %q", selector, value)
	}
}

// SignIn signs in on baseURL's password form and waits for a staff page.
func (b *Browser) SignIn(baseURL, email, password string) {
	b.t.Helper()
	b.Navigate(baseURL + "/login")
	b.Do(
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SetValue(chromedp.CSS("#password"), password),
	)
	b.ClickAndLoad(`form[action="/login"] button[type="submit"]`)
	b.WaitFor("the signed-in page after sign-in as "+email, `!!document.querySelector('[data-testid="whoami"]')`)
}

// ScreenshotDir is where screenshots go: KYCDESK_SCREENSHOT_DIR, or
// kycdesk-screenshots in the system's temporary directory (they must
// outlive the test's own temporary directory to be looked at).
func ScreenshotDir() string {
	if dir := os.Getenv("KYCDESK_SCREENSHOT_DIR"); dir != "" {
		return dir
	}
	return filepath.Join(os.TempDir(), "kycdesk-screenshots")
}

// Screenshot saves a full-page PNG of the tab as <test>-<name>.png in
// ScreenshotDir and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	path, err := b.saveScreenshot(name)
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	return path
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (b *Browser) saveScreenshot(name string) (string, error) {
	png, err := run(b, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	dir := ScreenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	file := unsafeFileChars.ReplaceAllString(strings.ReplaceAll(b.t.Name(), "/", "_")+"-"+name, "_") + ".png"
	path := filepath.Join(dir, file)
	return path, os.WriteFile(path, png, 0o644)
}
