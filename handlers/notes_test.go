package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/web/authz"
)

func TestNotesOnTheApplicantPage(t *testing.T) {
	app := newTestApp(t)
	v := app.reviewCase("Nora Notes", "verifyyou")
	page := fmt.Sprintf("/applicants/%d", v.ApplicantID)
	maker := app.signedIn(authz.Maker)

	doc := parse(t, maker.get(page))
	if doc.Find(`[data-testid="note-form"] textarea[data-shortcut="n"]`).Length() != 1 || doc.Find(`label[for="note-body"]`).Length() != 1 {
		t.Fatal("the applicant page has no labelled note field reachable with n")
	}
	resp := maker.postForm(page+"/notes", url.Values{"body": {"Spoke to the applicant: new passport on its way."}, "return": {page + "#notes"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"#notes" {
		t.Fatalf("add note: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	doc = parse(t, maker.get(page))
	note := doc.Find(`[data-testid="note"]`)
	if note.Length() != 1 || !strings.Contains(note.Text(), "new passport on its way") || !strings.Contains(note.Text(), "maker@example.com") {
		t.Fatalf("notes section = %q", note.Text())
	}
	// The clock is pinned, so the note shares its time with the events:
	// look for its line rather than its position.
	var line string
	doc.Find(`[data-testid="timeline"] li`).Each(func(_ int, s *goquery_Selection) {
		if strings.Contains(s.Text(), "new passport on its way") {
			line = s.Text()
		}
	})
	if !strings.Contains(line, "note") || !strings.Contains(line, "maker@example.com") || !strings.Contains(line, "just now") {
		t.Fatalf("the note is not in the timeline with its source, author and time: %q", line)
	}
	// The polled timeline partial carries notes too.
	if !strings.Contains(parse(t, maker.get(page+"/timeline")).Text(), "new passport on its way") {
		t.Fatal("the timeline partial drops notes")
	}
	if resp := maker.postForm(page+"/notes", url.Values{"body": {"   "}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty note: status %d", resp.StatusCode)
	}
	// A foreign return address is not followed.
	resp = maker.postForm(page+"/notes", url.Values{"body": {"second"}, "return": {"https://evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != page+"#notes" {
		t.Fatalf("return address followed to %q", loc)
	}
	if n := len(app.auditActions(t, "note.add")); n != 2 {
		t.Fatalf("%d note audit entries, want 2", n)
	}
}
