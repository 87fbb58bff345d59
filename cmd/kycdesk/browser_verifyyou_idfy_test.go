package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/web/browsertest"
)

// waitVisible waits, up to limit, for an element matched by the CSS
// selector. A DOM query, unlike a JavaScript poll, survives the page being
// replaced by a navigation or a redirect while it waits.
func waitVisible(t *testing.T, b *browsertest.Browser, what, selector string, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), limit)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible(selector)); err != nil {
		t.Fatalf("browser: waiting for %s: %v (location %s)", what, err, b.Location())
	}
}

// pageWait bounds a wait for a page that has just loaded; statusWait a wait
// for a status that arrives through the inbox while the end-user page polls
// every 3 s (a loaded machine stretches both).
const (
	pageWait   = 10 * time.Second
	statusWait = 30 * time.Second
)

// startInBrowser starts a verification for a new applicant from the staff
// form, with the provider's own fields filled by fill, and returns the
// end-user page URL from the verification page.
func startInBrowser(t *testing.T, b *browsertest.Browser, app *browsertest.App, provider, name string, fill func()) string {
	t.Helper()
	b.Navigate(app.URL + "/verifications/new")
	b.SelectOption("#provider", provider)
	if fill != nil {
		fill()
	}
	b.Do(chromedp.SetValue(chromedp.CSS("#name"), name))
	if os.Getenv("KYCDESK_SCREENSHOT_DIR") != "" {
		t.Logf("%s start form: %s", provider, b.Screenshot(provider+"-start"))
	}
	b.ClickAndLoad(`[data-testid="start-submit"]`)
	waitVisible(t, b, "the verification page", `[data-testid="enduser-link"]`, pageWait)
	if os.Getenv("KYCDESK_SCREENSHOT_DIR") != "" {
		t.Logf("%s verification page: %s", provider, b.Screenshot(provider+"-started"))
	}
	endUser := browsertest.Run(b, chromedp.Value(`[data-testid="enduser-link"]`))
	if !strings.HasPrefix(endUser, app.URL+"/v/") {
		t.Fatalf("the end-user link is %q", endUser)
	}
	return endUser
}

// waitForEndUserStatus waits until the end-user page, which polls its
// status, shows want.
func waitForEndUserStatus(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	waitVisible(t, b, "the end-user page to show "+want, `[data-testid="enduser-status"][data-status="`+want+`"]`, statusWait)
}

// applicantShows opens the applicant's staff page (linked from the
// verification page) and waits for the provider card's status badge.
func applicantShows(t *testing.T, b *browsertest.Browser, verificationURL, provider, want string) {
	t.Helper()
	b.Navigate(verificationURL)
	b.ClickAndLoad(`main a[href^="/applicants/"]`)
	waitVisible(t, b, "the applicant page to show "+want, `[data-testid="link-`+provider+`"] [data-status="`+want+`"]`, pageWait)
}

// TestBrowserVerifyYouInviteToApproval: staff start a VerifyYou
// verification, the applicant opens the end-user page, follows the invite
// to the (simulated) VerifyYou page and accepts; the signed webhook
// arrives and the applicant's page says they are verified.
func TestBrowserVerifyYouInviteToApproval(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	b := browsertest.New(t)
	b.SignIn(app.URL, app.AdminEmail, app.AdminPassword)

	endUser := startInBrowser(t, b, app, "verifyyou", "Vera Browser", nil)
	verification := b.Location()
	b.Navigate(endUser)
	waitForEndUserStatus(t, b, "invited")
	b.ClickAndLoad(`[data-testid="enduser-open"]`)
	waitVisible(t, b, "the VerifyYou simulator's invite page", `[data-testid="sim-label"]`, pageWait)
	if loc := b.Location(); !strings.HasPrefix(loc, app.URL+"/sandbox/verifyyou/") {
		t.Fatalf("the invite button led to %s", loc)
	}
	b.ClickAndLoad(`[data-testid="accept"]`)

	b.Navigate(endUser)
	waitForEndUserStatus(t, b, "approved")
	applicantShows(t, b, verification, "verifyyou", "approved")
}

// TestBrowserIDfyCaptureToApproval: staff start an IDfy verification with
// two details, the applicant goes from the end-user page to the capture
// link, finishes the capture and is sent back to the end-user page; the
// IDfy agent approves on the simulator's operator page and the applicant's
// page says they are verified.
func TestBrowserIDfyCaptureToApproval(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	b := browsertest.New(t)
	b.SignIn(app.URL, app.AdminEmail, app.AdminPassword)

	endUser := startInBrowser(t, b, app, "idfy", "Ida Browser", func() {
		waitVisible(t, b, "the IDfy fields", `#idfy_first_name`, pageWait)
		b.Do(
			chromedp.SetValue(chromedp.CSS("#idfy_first_name"), "Ida"),
			chromedp.SetValue(chromedp.CSS("#idfy_dob"), "1991-05-17"),
		)
	})
	verification := b.Location()
	b.Navigate(endUser)
	b.ClickAndLoad(`[data-testid="enduser-open"]`)
	waitVisible(t, b, "the IDfy simulator's capture page", `[data-testid="sim-label"]`, pageWait)
	if loc := b.Location(); !strings.HasPrefix(loc, app.URL+"/sandbox/idfy/") || !strings.Contains(loc, "redirect_uri=") {
		t.Fatalf("the capture button led to %s", loc)
	}
	b.ClickAndLoad(`[data-testid="finish"]`)
	// IDfy sends the user back to redirect_uri: the end-user page.
	if loc := b.Location(); loc != endUser {
		t.Fatalf("after the capture the user is at %s, want the end-user page", loc)
	}
	waitForEndUserStatus(t, b, "needs_review")

	b.Navigate(app.URL + "/sandbox/idfy/_sim/idfy/")
	b.ClickAndLoad(`[data-testid="approve"]`)
	b.Navigate(endUser)
	waitForEndUserStatus(t, b, "approved")
	applicantShows(t, b, verification, "idfy", "approved")
}
