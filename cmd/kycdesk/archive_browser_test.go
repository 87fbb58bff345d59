package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/web/browsertest"
)

// TestBrowserArchiveAndRetention: an admin sets a retention policy and runs
// it, archives one applicant by hand (the page then shows the receipt and no
// personal data), and archives two ticked rows from the list.
func TestBrowserArchiveAndRetention(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	b := browsertest.New(t)
	b.SignIn(app.URL, app.AdminEmail, app.AdminPassword)

	// The policy: keep approved applicants' data 120 days after the last
	// event. Part of the demo data set (spread over a year) is due.
	b.Navigate(app.URL + "/admin/retention")
	b.Do(chromedp.SetValue(chromedp.CSS(`input[name="days.any.approved"]`), "120"))
	b.ClickAndLoad(`[data-testid="retention-form"] button[type="submit"]`)
	b.WaitFor("the saved policy", `document.querySelector('[data-testid="flash"]')?.textContent.includes("Retention policy saved")`)
	due := browsertest.Eval[string](b, `document.querySelector('[data-testid="retention-due"]').textContent`)
	if !strings.Contains(due, "applicants are due") {
		t.Fatalf("nothing due under a 120-day rule: %q", due)
	}
	b.ClickAndLoad(`[data-testid="retention-run"] button[type="submit"]`)
	b.WaitFor("the run's result", `document.querySelector('[data-testid="flash"]')?.textContent.includes("applicants archived")`)
	b.WaitFor("nothing left due", `document.querySelector('[data-testid="retention-due"]').textContent.includes("Nothing is due")`)

	// The list shows a retention badge on every row, some archived.
	b.Navigate(app.URL + "/applicants")
	if !browsertest.Eval[bool](b, `Array.from(document.querySelectorAll('[data-testid="applicant-row"]')).every(r => !!r.querySelector('[data-testid="retention-badge"]'))`) {
		t.Error("a row has no retention badge")
	}

	// Archive by hand a live applicant whose data is kept (not approved).
	b.Navigate(app.URL + "/applicants?status=rejected")
	name := browsertest.Eval[string](b, `document.querySelector('[data-testid="applicant-row"] a[href^="/applicants/"]').textContent.trim()`)
	b.ClickAndLoad(`[data-testid="applicant-row"] a[href^="/applicants/"]`)
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="archive-now"] summary`)))
	b.Do(chromedp.SendKeys(chromedp.CSS("#archive-reason"), "the person asked for erasure"))
	b.ClickAndLoad(`[data-testid="archive-form"] button[type="submit"]`)
	b.WaitFor("the receipt", `!!document.querySelector('[data-testid="receipt-verified"]')`)
	if page := browsertest.Eval[string](b, `document.body.innerText`); strings.Contains(page, name) {
		t.Errorf("the archived applicant's page still shows %q", name)
	}
	if got := browsertest.Eval[string](b, `document.querySelector('[data-testid="receipt-deleted"]').textContent`); !strings.Contains(got, "the data key (destroyed)") {
		t.Errorf("receipt lists %q", got)
	}

	// Bulk: tick the first two rejected rows still live and archive them.
	b.Navigate(app.URL + "/applicants?status=rejected")
	ticked := browsertest.Eval[int](b, `(() => {
		const live = Array.from(document.querySelectorAll('[data-testid="applicant-row"]'))
			.filter(r => r.querySelector('[data-testid="retention-badge"]')?.dataset.kind !== "archived").slice(0, 2);
		live.forEach(r => r.querySelector('[data-testid="row-select"]').click());
		return live.length;
	})()`)
	if ticked != 2 {
		t.Fatalf("found %d live rejected rows to tick", ticked)
	}
	b.Do(chromedp.SendKeys(chromedp.CSS("#bulk-archive-reason"), "end of the business relationship"))
	b.ClickAndLoad(`form#bulk-archive button[type="submit"]`)
	b.WaitFor("the bulk result", `document.querySelector('[data-testid="flash"]')?.textContent.includes("Archived 2 of 2")`)
	if !strings.Contains(b.Location(), "status=rejected") {
		t.Errorf("after the bulk archive the browser is at %s, want the same list view", b.Location())
	}
}
