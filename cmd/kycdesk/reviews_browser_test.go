package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/web/browsertest"
)

// addStaff creates a staff member through the CLI, as an admin would, and
// returns the temporary password it prints.
func addStaff(t *testing.T, app *browsertest.App, email, role string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"user", "add", "--email", email, "--role", role}, browsertest.Getenv(app.Env), &stdout, &stderr)
	m := regexp.MustCompile(`temporary password \(shown once\): (\S+)`).FindStringSubmatch(stdout.String())
	if err != nil || m == nil {
		t.Fatalf("user add %s: %v\n%s", email, err, stdout.String())
	}
	return m[1]
}

// TestBrowserFourEyesReview: a maker takes the next case, proposes
// approval with the keyboard; a checker confirms it; the applicant shows
// approved with both people named in the timeline.
func TestBrowserFourEyesReview(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	makerPW := addStaff(t, app, "maker@kycdesk.test", "maker")
	checkerPW := addStaff(t, app, "checker@kycdesk.test", "checker")
	b := browsertest.New(t)

	// The maker claims the oldest case and proposes approval: "a" picks
	// approve and moves to the reason.
	b.SignIn(app.URL, "maker@kycdesk.test", makerPW)
	b.Navigate(app.URL + "/reviews?state=open")
	b.ClickAndLoad(`[data-testid="next-case"]`)
	b.WaitFor("the case page with the proposal form", `!!document.querySelector('[data-testid="propose-form"]') && !!document.querySelector('[data-testid="claim-mine"]')`)
	caseURL := b.Location()
	name := browsertest.Eval[string](b, `document.querySelector('[data-testid="case-name"]').textContent.trim()`)

	b.Do(chromedp.KeyEvent("?"))
	b.WaitFor("the shortcut legend", `!document.getElementById("shortcut-legend").hidden`)
	b.Do(chromedp.KeyEvent("?"))
	b.WaitFor("the legend to close", `document.getElementById("shortcut-legend").hidden`)

	b.Do(chromedp.KeyEvent("a"))
	b.WaitFor("approve chosen and the reason focused", `document.getElementById("decision-approve").checked && document.activeElement.id === "reason"`)
	if browsertest.Eval[bool](b, `Array.from(document.querySelectorAll('#reason option[data-decision="reject"]')).some(o => !o.disabled)`) {
		t.Error("reject reasons stay selectable after choosing approve")
	}
	reason := browsertest.Eval[string](b, `document.querySelector('#reason option[data-decision="approve"]').value`)
	b.SelectOption("#reason", reason)
	b.Do(chromedp.SetValue(chromedp.CSS("#comment"), "Passport and selfie match; data consistent."))
	b.ClickAndLoad(`[data-testid="propose"]`)
	b.WaitFor("the flash after proposing", `(document.querySelector('[data-testid="flash"]') || {}).textContent === "Proposal sent to a checker."`)

	// "n" focuses the note field on the case.
	b.Navigate(caseURL)
	b.Do(chromedp.KeyEvent("n"))
	b.WaitFor("the note field focused", `document.activeElement.id === "note-body"`)

	// A second person, the checker, confirms.
	b.ClickAndLoad(`form[action="/logout"] button`)
	b.SignIn(app.URL, "checker@kycdesk.test", checkerPW)
	b.Navigate(caseURL)
	b.WaitFor("the side-by-side decision panel", `!!document.querySelector('[data-testid="evidence-unchanged"]') && !!document.querySelector('[data-testid="confirm"]')`)
	b.ClickAndLoad(`[data-testid="confirm"]`)
	b.WaitFor("the applicant page", `!!document.querySelector('[data-testid="applicant-name"]')`)

	if got := browsertest.Eval[string](b, `document.querySelector('[data-testid="applicant-name"]').textContent.trim()`); got != name {
		t.Fatalf("landed on %q, want the reviewed applicant %q", got, name)
	}
	if s := browsertest.Eval[string](b, `document.querySelector('header [data-status]').dataset.status`); s != "approved" {
		t.Fatalf("applicant status %q, want approved", s)
	}
	entry := browsertest.Eval[string](b, `document.querySelector('[data-testid="timeline"] li').textContent`)
	if !strings.Contains(entry, "maker@kycdesk.test") || !strings.Contains(entry, "checker@kycdesk.test") {
		t.Fatalf("newest timeline entry %q does not name both people", entry)
	}
}
