package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
)

func TestApplicantsList(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	if err := app.db.Seed(ctx, db.SeedOptions{N: 180, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	c := app.signedIn(authz.Checker)

	t.Run("first page has 50 rows and a next link; paging covers everything once", func(t *testing.T) {
		seen := map[string]bool{}
		path := "/applicants"
		for pages := 0; path != ""; pages++ {
			doc := parse(t, c.get(path))
			doc.Find(`[data-testid="applicant-row"] td:nth-child(2)`).Each(func(_ int, s *goquery_Selection) {
				ref := strings.TrimSpace(s.Text())
				if seen[ref] {
					t.Fatalf("%s shown twice", ref)
				}
				seen[ref] = true
			})
			next, _ := doc.Find(`[data-testid="next-page"]`).Attr("href")
			path = next
			if pages > 10 {
				t.Fatal("paging does not end")
			}
		}
		if len(seen) != 180 {
			t.Fatalf("paged through %d applicants, want 180", len(seen))
		}
	})

	t.Run("filters narrow the rows and htmx gets only the results", func(t *testing.T) {
		resp := c.get("/applicants?provider=corepass&status=needs_review", "HX-Request", "true")
		doc := parse(t, resp)
		if doc.Find("html").Length() != 0 && doc.Find("header nav").Length() != 0 {
			t.Fatal("htmx request got the full page")
		}
		if doc.Find(`#applicant-results`).Length() != 1 {
			t.Fatal("htmx response is not the results fragment")
		}
		rows := doc.Find(`[data-testid="applicant-row"]`)
		if rows.Length() == 0 {
			t.Fatal("no corepass applicant needs review in the fixture")
		}
		rows.Each(func(_ int, s *goquery_Selection) {
			if !strings.Contains(s.Text(), "CorePass") || s.Find(`[data-status="needs_review"]`).Length() != 1 {
				t.Fatalf("row does not match the filter: %s", s.Text())
			}
		})
	})

	t.Run("search finds by name and by reference", func(t *testing.T) {
		page, _ := app.db.ListApplicants(ctx, db.ApplicantFilter{Limit: 1})
		a := page.Rows[0]
		family := strings.Fields(a.Name)[1]
		for _, q := range []string{family, a.Ref, strings.ToLower(a.Ref[:6])} {
			doc := parse(t, c.get("/applicants?q="+urlQuery(q)))
			if !strings.Contains(doc.Find(`[data-testid="applicant-table"]`).Text(), a.Ref) {
				t.Errorf("search %q did not find %s", q, a.Ref)
			}
		}
		doc := parse(t, c.get("/applicants?q=zzzznotaname"))
		if doc.Find(`[data-testid="empty"]`).Length() != 1 {
			t.Error("no empty state for a search without results")
		}
		if doc.Find(`#applicant-results [role="status"]`).Length() != 0 {
			t.Error("a notice on a search of a whole word")
		}
		// The first keystroke of a search as one types.
		doc = parse(t, c.get("/applicants?q="+urlQuery(strings.ToLower(family[:1])), "HX-Request", "true"))
		if !strings.Contains(doc.Find(`#applicant-results [role="status"]`).Text(), "One character finds that word whole") {
			t.Error("no notice that one character matches whole words")
		}
		// The beginning of a ref, too short to find it.
		short := a.Ref[:db.RefPrefixMin-1]
		doc = parse(t, c.get("/applicants?q="+urlQuery(short), "HX-Request", "true"))
		if doc.Find(`[data-testid="empty"]`).Length() != 1 {
			t.Fatalf("search %q found applicants; the case proves nothing", short)
		}
		if !strings.Contains(doc.Find(`#applicant-results [role="status"]`).Text(), fmt.Sprintf("from their first %d characters", db.RefPrefixMin)) {
			t.Errorf("no notice that %q is too short to find a reference", short)
		}
	})

	t.Run("bad input gets a clear 400", func(t *testing.T) {
		for path, want := range map[string]string{
			"/applicants?provider=acme":                  "Unknown provider",
			"/applicants?status=done":                    "Unknown status",
			"/applicants?after=notacursor":               "page link is broken",
			"/applicants?q=" + strings.Repeat("a", 201):  "limited to 200",
			"/applicants?x=" + strings.Repeat("a", 2000): "too long",
		} {
			resp := c.get(path)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d", path[:min(len(path), 40)], resp.StatusCode)
				continue
			}
			if msg := parse(t, resp).Find(`[data-testid="error-message"]`).Text(); !strings.Contains(msg, want) {
				t.Errorf("%s: message %q", path[:min(len(path), 40)], msg)
			}
		}
	})
}

func TestApplicantPageAuditsPII(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	a, err := app.db.CreateApplicant(ctx, db.NewApplicant{Name: "Ines Canary", CreatedBy: app.users[authz.LinkCreator].ID}, db.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.db.PutPII(ctx, a.ID, []db.AttributeInput{{Provider: "corepass", Meaning: "date_of_birth", Name: "SH_IDCard_DOB", Value: "1980-04-05"}}, nil); err != nil {
		t.Fatal(err)
	}
	other, _ := app.db.CreateApplicant(ctx, db.NewApplicant{Name: "Not Yours"}, db.AuditEntry{})

	c := app.signedIn(authz.Maker)
	doc := parse(t, c.get(fmt.Sprintf("/applicants/%d", a.ID)))
	if got := doc.Find(`[data-testid="attributes"]`).Text(); !strings.Contains(got, "1980-04-05") {
		t.Fatalf("attributes not shown: %q", got)
	}
	views := app.auditActions(t, "applicant.view_pii")
	if len(views) != 1 || views[0].Object != fmt.Sprintf("applicant:%d", a.ID) || views[0].Actor != app.users[authz.Maker].Email {
		t.Fatalf("PII view audit = %+v", views)
	}

	lc := app.signedIn(authz.LinkCreator)
	if resp := lc.get(fmt.Sprintf("/applicants/%d", a.ID)); resp.StatusCode != http.StatusOK {
		t.Fatalf("link creator cannot see their own applicant: %d", resp.StatusCode)
	}
	if resp := lc.get(fmt.Sprintf("/applicants/%d", other.ID)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("link creator sees another's applicant: %d", resp.StatusCode)
	}
	list := parse(t, lc.get("/applicants")).Find(`[data-testid="applicant-table"]`).Text()
	if !strings.Contains(list, a.Ref) || strings.Contains(list, other.Ref) {
		t.Fatal("link creator's list is not limited to their own applicants")
	}
	if resp := c.get("/applicants/999999"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing applicant: %d", resp.StatusCode)
	}
}
