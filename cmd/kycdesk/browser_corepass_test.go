package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/web/browsertest"
)

// TestBrowserCorePassTransfer is what a new user does after `make run`:
// start a CorePass transfer for a Core ID, see the QR and links, open the
// end-user page, follow it to the (simulated) CorePass app, accept, and
// watch the signed callbacks bring the data in: the end-user page says
// "received", and the applicant page shows the status and the attributes.
func TestBrowserCorePassTransfer(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	b := browsertest.New(t)
	b.SignIn(app.URL, app.AdminEmail, app.AdminPassword)

	endUser := startInBrowser(t, b, app, "corepass", "Cora Browser", func() {
		waitVisible(t, b, "the CorePass fields", `[data-testid="core-id"]`, pageWait)
		b.Do(chromedp.SetValue(chromedp.CSS(`[data-testid="core-id"]`), "ab22b1671b4f7ccc0b16a87514adde84513b6348232e"))
	})
	verification := b.Location()
	waitVisible(t, b, "the QR code", `[data-testid="qr"]`, pageWait)
	if got := browsertest.Eval[bool](b, `document.querySelector('[data-testid="qr"]').naturalWidth > 100`); !got {
		t.Fatal("the QR image did not load")
	}
	waitVisible(t, b, "the expiry", `[data-testid="expiry"]`, pageWait)

	b.Navigate(endUser)
	waitForEndUserStatus(t, b, "invited")
	b.ClickAndLoad(`[data-testid="enduser-open"]`)
	if loc := b.Location(); !strings.HasPrefix(loc, app.URL+"/sandbox/corepass/") {
		t.Fatalf("the CorePass button led to %s", loc)
	}
	b.ClickAndLoad(`[data-testid="accept"]`)

	b.Navigate(endUser)
	waitForEndUserStatus(t, b, "needs_review")
	applicantShows(t, b, verification, "corepass", "needs_review")
	attrs := browsertest.Run(b, chromedp.Text(`[data-testid="attributes"]`))
	if !strings.Contains(attrs, "Date of birth") || !strings.Contains(attrs, "Full name") {
		t.Fatalf("the applicant page does not show the transferred data: %q", attrs)
	}
	timeline := browsertest.Run(b, chromedp.Text(`[data-testid="timeline"]`))
	for _, st := range []string{"ACCEPTED", "FINISH_SUCCESS"} {
		if !strings.Contains(timeline, st) {
			t.Errorf("the timeline lacks %s", st)
		}
	}
}
