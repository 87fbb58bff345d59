package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
)

func TestAuditPage(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	// 120 entries spread over three days before the pinned clock, so the
	// filters and the pager have something to do.
	for i := range 120 {
		e := db.AuditEntry{
			At:     app.now.Add(-time.Duration(120-i) * 30 * time.Minute),
			Actor:  []string{"ann@example.com", "bob@example.com"}[i%2],
			Action: []string{"applicant.view_pii", "auth.login", "access.denied"}[i%3],
			Object: fmt.Sprintf("applicant:%d", i%7),
			IP:     "198.51.100.7",
		}
		if err := app.db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	auditor := app.signedIn(authz.Auditor)
	ids := func(doc *goquery.Document) []string {
		var out []string
		doc.Find(`[data-testid="audit-row"] td:first-child`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
		return out
	}

	t.Run("readable by admin and auditor only", func(t *testing.T) {
		for _, r := range authz.Roles {
			want := http.StatusForbidden
			if r == authz.Admin || r == authz.Auditor {
				want = http.StatusOK
			}
			if resp := app.signedIn(r).get("/audit"); resp.StatusCode != want {
				t.Errorf("%s: %d, want %d", r, resp.StatusCode, want)
			}
		}
		nav := parse(t, auditor.get("/audit")).Find(`nav[aria-label="Main"] a[href="/audit"]`)
		if nav.Length() != 1 {
			t.Error("the auditor's navigation has no audit log entry")
		}
		if parse(t, app.signedIn(authz.Maker).get("/applicants")).Find(`a[href="/audit"]`).Length() != 0 {
			t.Error("a maker is offered the audit log")
		}
	})
	t.Run("keyset pages, newest first, without gaps or repeats", func(t *testing.T) {
		seen := map[string]bool{}
		path, pages, last := "/audit?action=auth.login", 0, int64(0)
		for path != "" {
			doc := parse(t, auditor.get(path))
			rows := ids(doc)
			for _, id := range rows {
				if seen[id] {
					t.Fatalf("entry %s shown twice", id)
				}
				seen[id] = true
				n, _ := strconv.ParseInt(id, 10, 64)
				if last != 0 && n >= last {
					t.Fatalf("entry %d after %d: not newest first", n, last)
				}
				last = n
			}
			doc.Find(`[data-testid="audit-action"]`).Each(func(_ int, s *goquery.Selection) {
				if s.Text() != "auth.login" {
					t.Errorf("filtered page shows %s", s.Text())
				}
			})
			pages++
			path, _ = doc.Find(`[data-testid="next-page"]`).Attr("href")
		}
		// 40 seeded logins plus the sign-ins of this test.
		if want := len(app.auditActions(t, "auth.login")); len(seen) != want || pages != (want+auditPageSize-1)/auditPageSize {
			t.Errorf("saw %d entries on %d pages, want %d", len(seen), pages, want)
		}
	})
	t.Run("filters by actor, object and time", func(t *testing.T) {
		q := url.Values{"actor": {"ann@example.com"}, "object": {"applicant:3"},
			"since": {app.now.Add(-36 * time.Hour).Format("2006-01-02T15:04")}, "until": {app.now.Format("2006-01-02T15:04")}}
		doc := parse(t, auditor.get("/audit?"+q.Encode()))
		rows := doc.Find(`[data-testid="audit-row"]`)
		if rows.Length() == 0 {
			t.Fatal("no rows")
		}
		rows.Each(func(_ int, s *goquery.Selection) {
			if s.Find(`[data-testid="audit-actor"]`).Text() != "ann@example.com" || s.Find(`[data-testid="audit-object"]`).Text() != "applicant:3" {
				t.Errorf("row does not match the filter: %s", s.Text())
			}
		})
		want := 0
		for i := range 120 {
			at := app.now.Add(-time.Duration(120-i) * 30 * time.Minute)
			if i%2 == 0 && i%7 == 3 && !at.Before(app.now.Add(-36*time.Hour)) {
				want++
			}
		}
		if rows.Length() != want {
			t.Errorf("%d rows, want %d", rows.Length(), want)
		}
		if v, _ := doc.Find(`[data-testid="audit-filter-actor"]`).Attr("value"); v != "ann@example.com" {
			t.Errorf("the form forgot the actor filter: %q", v)
		}
	})
	t.Run("htmx gets only the results", func(t *testing.T) {
		resp := auditor.get("/audit?actor=bob%40example.com", "HX-Request", "true")
		doc := parse(t, resp)
		if doc.Find(`[data-testid="audit-results"]`).Length() != 1 || doc.Find("header").Length() != 0 {
			t.Error("htmx response is not the results fragment")
		}
	})
	t.Run("bad input is refused with a message", func(t *testing.T) {
		for _, q := range []string{"since=yesterday", "before=-1", "before=abc", "actor=" + strings.Repeat("a", 300)} {
			resp := auditor.get("/audit?" + q)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d", q, resp.StatusCode)
			}
		}
	})
	t.Run("empty result explains itself", func(t *testing.T) {
		doc := parse(t, auditor.get("/audit?actor=nobody%40example.com"))
		if !strings.Contains(doc.Find(`[data-testid="empty"]`).Text(), "No entry matches") {
			t.Error("no empty-state message")
		}
	})
}
