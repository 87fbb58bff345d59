package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/web/browsertest"
)

// JavaScript over the list page the browser test reads.
const (
	jsRows = `Array.from(document.querySelectorAll('[data-testid="applicant-row"]'))`
	// jsLink is a row's link to the applicant page.
	jsLink = `.querySelector('a[href^="/applicants/"]')`
	// jsMark and jsMarked tell an htmx swap from a page load: a full load
	// forgets the mark.
	jsMark   = `window.kycdeskNoReload = true`
	jsMarked = `window.kycdeskNoReload === true`
)

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestBrowserApplicantsList(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	b := browsertest.New(t)

	b.SignIn(app.URL, app.AdminEmail, app.AdminPassword)
	if loc := b.Location(); loc != app.URL+"/applicants" {
		t.Fatalf("after sign-in the browser is at %s, want the applicants list", loc)
	}
	if n := browsertest.Eval[int](b, jsRows+`.length`); n != 50 {
		t.Fatalf("the list shows %d rows, want a page of 50", n)
	}
	if os.Getenv("KYCDESK_SCREENSHOT_DIR") != "" {
		t.Logf("list page at %dpx: %s", browsertest.ViewportWidth, b.Screenshot("applicants-list"))
	}

	// Filter by status: htmx swaps the rows in place and pushes the
	// filter into the address bar, so the view can be bookmarked.
	browsertest.Eval[bool](b, jsMark)
	b.SelectOption("#status", "approved")
	b.WaitFor("rows filtered to approved", `location.search.includes("status=approved") && `+jsRows+`.length > 0 && `+
		jsRows+`.every(r => r.querySelector("[data-status]").dataset.status === "approved")`)
	if !browsertest.Eval[bool](b, jsMarked) {
		t.Error("filtering reloaded the page instead of swapping the rows with htmx")
	}
	approved := browsertest.Eval[int](b, jsRows+`.length`)

	// Search: typing in #q narrows the filtered rows to the name.
	name := browsertest.Eval[string](b, jsRows+`[0]`+jsLink+`.textContent.trim()`)
	family := name[strings.LastIndex(name, " ")+1:]
	contains := fmt.Sprintf(`r => r.textContent.toLowerCase().includes(%s)`, jsString(strings.ToLower(family)))
	if browsertest.Eval[bool](b, jsRows+`.every(`+contains+`)`) {
		t.Fatalf("every approved row mentions %q: the search would narrow nothing", family)
	}
	b.Do(chromedp.Focus(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), family))
	b.WaitFor("rows narrowed to "+family, fmt.Sprintf(`location.search.includes("q=" + encodeURIComponent(%s)) && `,
		jsString(family))+jsRows+`.length > 0 && `+jsRows+`.every(`+contains+`)`)
	if n := browsertest.Eval[int](b, jsRows+`.length`); n >= approved {
		t.Errorf("search for %q shows %d rows, want fewer than the %d approved ones", family, n, approved)
	}
	if !browsertest.Eval[bool](b, jsRows+`.every(r => r.querySelector("[data-status]").dataset.status === "approved")`) {
		t.Error("the search dropped the status filter")
	}
	if !browsertest.Eval[bool](b, jsMarked) {
		t.Error("searching reloaded the page instead of swapping the rows with htmx")
	}

	// Page forward: the next page comes by htmx, with its cursor in the URL.
	b.Navigate(app.URL + "/applicants")
	browsertest.Eval[bool](b, jsMark)
	first := browsertest.Eval[string](b, jsRows+`[0]`+jsLink+`.getAttribute("href")`)
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="next-page"]`)))
	b.WaitFor("the second page", fmt.Sprintf(`location.search.includes("after=") && %s.length > 0 && %s[0]%s.getAttribute("href") !== %s`,
		jsRows, jsRows, jsLink, jsString(first)))
	if !browsertest.Eval[bool](b, jsMarked) {
		t.Error("paging reloaded the page instead of swapping the rows with htmx")
	}
	if !browsertest.Eval[bool](b, `Array.from(document.querySelectorAll("nav[aria-label=Pages] a")).some(a => a.textContent.includes("First page"))`) {
		t.Error("the second page has no link back to the first")
	}

	// Open an applicant from the second page: its page shows the name.
	name = browsertest.Eval[string](b, jsRows+`[0]`+jsLink+`.textContent.trim()`)
	b.ClickAndLoad(`[data-testid="applicant-row"] a[href^="/applicants/"]`)
	b.WaitFor("the applicant page", `!!document.querySelector('[data-testid="applicant-name"]')`)
	if got := browsertest.Eval[string](b, `document.querySelector('[data-testid="applicant-name"]').textContent.trim()`); got != name {
		t.Errorf("applicant page shows %q, want %q", got, name)
	}
	if !strings.Contains(b.Location(), "/applicants/") {
		t.Errorf("the applicant page is at %s", b.Location())
	}
}
