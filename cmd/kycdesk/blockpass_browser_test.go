package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	blockpasssim "github.com/kycdesk/kycdesk/providers/blockpass/sim"
	"github.com/kycdesk/kycdesk/web/browsertest"
)

// TestBrowserBlockpassSync: in sandbox mode an admin syncs the Blockpass
// simulator's candidates from the admin page, watches the progress, and
// opens one of the new applicants: its attributes and the date after which
// Blockpass will have deleted its copy are on the page.
func TestBrowserBlockpassSync(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	b := browsertest.New(t)
	b.SignIn(app.URL, app.AdminEmail, app.AdminPassword)

	b.Navigate(app.URL + "/admin")
	b.ClickAndLoad(`a[href="/admin/blockpass"]`)
	b.WaitFor("the sync page", `!!document.querySelector('[data-testid="bp-sync-now"]')`)
	// htmx posts the request; the answer sends the browser back to the page.
	b.ClickAndLoad(`[data-testid="bp-sync-now"]`)
	b.WaitFor("the sync to be requested", `document.querySelector('[data-testid="flash"]') !== null`)

	// The progress polls itself until the Blockpass job has taken every
	// candidate in (the job looks for requests every 2 s).
	ctx, cancel := context.WithTimeout(b.Context(), 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="bp-progress"]').dataset.state === "done"`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the sync did not finish: %v\nprogress: %s", err,
			browsertest.Eval[string](b, `document.querySelector('[data-testid="bp-progress"]').innerText`))
	}
	// A fresh install's first scheduled sync may have taken them in before
	// the click; either way every candidate was seen.
	if seen := browsertest.Eval[string](b, `document.querySelector('[data-testid="bp-seen"]').textContent`); seen != strconv.Itoa(sandboxBlockpassCandidates) {
		t.Fatalf("the sync saw %s candidates, want %d", seen, sandboxBlockpassCandidates)
	}

	t.Logf("sync page: %s", b.Screenshot("blockpass-sync"))

	// Find a synced candidate by its Blockpass refId and open it.
	b.Navigate(app.URL + "/applicants?q=" + blockpasssim.SeedRefID(1))
	b.WaitFor("the search result", `document.querySelectorAll('[data-testid="applicant-row"] a').length === 1`)
	b.ClickAndLoad(`[data-testid="applicant-row"] a`)
	b.WaitFor("the Blockpass panel", `!!document.querySelector('[data-testid="bp-panel"]')`)

	person := blockpasssim.FakePerson(1)
	attrs := browsertest.Eval[string](b, `document.querySelector('[data-testid="attributes"]').innerText`)
	for _, want := range []string{person.Email, person.Address.City} {
		if !strings.Contains(attrs, want) {
			t.Errorf("attributes %q lack %q", attrs, want)
		}
	}
	archive := browsertest.Eval[string](b, `document.querySelector('[data-testid="bp-archive-date"]').innerText`)
	if !regexp.MustCompile(`delete[sd] its copy .* after \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`).MatchString(archive) {
		t.Errorf("archive date line %q", archive)
	}
	if status := browsertest.Eval[string](b, `document.querySelector('[data-testid="bp-status"]').innerText`); strings.TrimSpace(status) != blockpasssim.SeedStatus(1) {
		t.Errorf("status at Blockpass %q, want %q", status, blockpasssim.SeedStatus(1))
	}
	t.Logf("applicant page: %s", b.Screenshot("blockpass-applicant"))
}
