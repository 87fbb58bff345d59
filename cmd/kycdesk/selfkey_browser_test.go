package main

import (
	"os"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/web/browsertest"
)

// TestBrowserSelfKeySimulatedWallet: in sandbox mode a staff member presses
// "Simulate a SelfKey wallet" on the applicants list, runs the simulated
// wallet, and sees its application arrive: on the applicants list, and on
// the applicant's page as a SelfKey verification waiting for review.
func TestBrowserSelfKeySimulatedWallet(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	b := browsertest.New(t)
	b.SignIn(app.URL, app.AdminEmail, app.AdminPassword)

	b.Navigate(app.URL + "/applicants")
	b.ClickAndLoad(`[data-testid="simulate-selfkey"]`)
	if loc := b.Location(); !strings.HasPrefix(loc, app.URL+"/sandbox/selfkey/_sim/") {
		t.Fatalf("the button led to %s", loc)
	}
	b.WaitFor("the simulator's label", `document.body.innerText.includes("Simulator")`)
	b.ClickAndLoad(`button[name="kind"][value="walk"]`)
	b.WaitFor("the wallet's application to be accepted", `document.body.innerText.includes("POST /applications → 201")`)
	if os.Getenv("KYCDESK_SCREENSHOT_DIR") != "" {
		t.Logf("simulator: %s", b.Screenshot("selfkey-sim"))
	}

	b.Navigate(app.URL + "/applicants?provider=selfkey")
	b.WaitFor("the SelfKey applicant in the list", `[...document.querySelectorAll('[data-testid="applicant-row"]')].some(r => r.innerText.includes("Ada Lovelace"))`)
	b.ClickAndLoad(`[data-testid="applicant-row"] a[href^="/applicants/"]`)
	b.WaitFor("the SelfKey verification in review", `(document.querySelector('[data-testid="link-selfkey"] [data-status]') || {dataset: {}}).dataset.status === "needs_review"`)
	b.WaitFor("the shared attributes", `(document.querySelector('[data-testid="attributes"]') || {innerText: ""}).innerText.includes("Lovelace")`)
	if os.Getenv("KYCDESK_SCREENSHOT_DIR") != "" {
		t.Logf("applicant: %s", b.Screenshot("selfkey-applicant"))
	}

	// The template the wallet answered is the admin's to edit.
	b.Navigate(app.URL + "/admin/templates")
	b.WaitFor("the default template", `!!document.querySelector('[data-testid="template-row"][data-template="standard"]')`)
	b.ClickAndLoad(`[data-testid="template-row"][data-template="standard"] a`)
	b.WaitFor("the passport asked as required", `document.getElementById("ask-passport").value === "required"`)
	if os.Getenv("KYCDESK_SCREENSHOT_DIR") != "" {
		t.Logf("template form: %s", b.Screenshot("selfkey-template"))
	}
}
