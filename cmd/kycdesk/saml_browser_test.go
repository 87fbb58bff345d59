package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/web/browsertest"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

// ssoUser is the IdP account the end-to-end SSO tests sign in as.
var ssoUser = samltest.User{Username: "carol", Password: "carol-pw", NameID: "carol-e2e", Email: "carol@corp.example",
	Groups: []string{"kyc-checkers"}}

// startSSOApp runs the real program in sandbox mode with SSO against a test
// IdP, without an SP key pair (sandbox makes a throwaway one).
func startSSOApp(t *testing.T) (*browsertest.App, *samltest.IdP) {
	t.Helper()
	idp := samltest.StartIdP(t, samltest.Options{Users: []samltest.User{ssoUser}})
	app := browsertest.StartApp(t, run, map[string]string{
		"KYCDESK_SAML_IDP_METADATA": idp.MetadataURL,
		"KYCDESK_SAML_ROLE_MAP":     "kyc-checkers=checker,kyc-admins=admin",
	})
	idp.TrustSP(app.URL + "/saml/metadata")
	if !strings.Contains(app.Stderr(), "throwaway key pair") {
		t.Errorf("sandbox did not say its SP key pair is throwaway:\n%s", app.Stderr())
	}
	return app, idp
}

func TestServeSSOEndToEnd(t *testing.T) {
	app, _ := startSSOApp(t)
	c := samltest.NewClient(ssoUser.Username, ssoUser.Password)
	page, err := c.Get(context.Background(), app.URL+"/saml/login?next=%2Fapplicants%3Fstatus%3Dapproved")
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK || page.URL.RequestURI() != "/applicants?status=approved" {
		t.Fatalf("landed on %s (%d)\n%s", page.URL, page.Status, app.Output())
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page.Body))
	if err != nil {
		t.Fatal(err)
	}
	if who := doc.Find(`[data-testid="whoami"]`).Text(); who != "carol@corp.example · Checker" {
		t.Errorf("signed in as %q", who)
	}
	if strings.Contains(app.Stdout()+app.Stderr(), ssoUser.NameID) {
		t.Error("the NameID was logged")
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify"}, browsertest.Getenv(app.Env), &out, &out); err != nil || !strings.Contains(out.String(), "intact") {
		t.Errorf("audit verify after an SSO sign-in: %v\n%s", err, out.String())
	}
}

// TestBrowserSSOSignIn signs in with SSO in headless Chromium: the sign-in
// page's SSO button, the IdP's login form, its auto-submitting POST to our
// ACS (cross-site, no CSRF token), and the staff page.
func TestBrowserSSOSignIn(t *testing.T) {
	app, _ := startSSOApp(t)
	b := browsertest.New(t)
	b.Navigate(app.URL + "/login")
	b.ClickAndLoad(`[data-testid="sso-login"]`)
	b.WaitFor("the IdP's login form", `!!document.querySelector('#username')`)
	b.Do(
		chromedp.SetValue(chromedp.CSS("#username"), ssoUser.Username),
		chromedp.SetValue(chromedp.CSS("#password"), ssoUser.Password),
	)
	b.ClickAndLoad("#signin")
	b.WaitFor("the signed-in page", `!!document.querySelector('[data-testid="whoami"]')`)
	if who := browsertest.Eval[string](b, `document.querySelector('[data-testid="whoami"]').textContent`); who != "carol@corp.example · Checker" {
		t.Errorf("signed in as %q", who)
	}
	if loc := b.Location(); loc != app.URL+"/applicants" {
		t.Errorf("landed on %s, want %s/applicants", loc, app.URL)
	}
	// The session works for the next page too, and signing out ends it.
	b.Navigate(app.URL + "/applicants?status=approved")
	b.WaitFor("the list", `!!document.querySelector('[data-testid="applicant-results"]')`)
	b.ClickAndLoad(`form[action="/logout"] button`)
	b.WaitFor("the sign-in page", `!!document.querySelector('[data-testid="sso-login"]')`)
}
