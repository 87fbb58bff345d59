package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
)

func TestOverviewPage(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	if err := app.db.Seed(ctx, db.SeedOptions{N: 300, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	qc, _ := app.db.CountQueue(ctx)
	for _, r := range authz.Roles {
		t.Run(string(r), func(t *testing.T) {
			c := app.signedIn(r)
			resp := c.get("/")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("overview: status %d", resp.StatusCode)
			}
			doc := parse(t, resp)
			if got := strings.TrimSpace(doc.Find(`[data-testid="tile-total"] [data-testid="value"]`).Text()); got != "300" {
				t.Fatalf("total tile = %q, want 300", got)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="tile-queue-open"] [data-testid="value"]`).Text()); got != strconv.FormatInt(qc.Open, 10) {
				t.Fatalf("queue tile = %q, want %d", got, qc.Open)
			}
			for _, chart := range []string{"chart-status", "chart-provider", "chart-rate", "chart-median"} {
				svg := doc.Find(`[data-testid="` + chart + `"] svg[role="img"]`)
				if svg.Length() != 1 || svg.Find("rect").Length() == 0 {
					t.Fatalf("%s: no server-rendered SVG bars", chart)
				}
			}
			doc.Find("script").Each(func(_ int, s *goquery_Selection) {
				if src, _ := s.Attr("src"); src != "/static/js/htmx.min.js" && src != "/static/js/app.js" {
					t.Fatalf("the overview loads a script %q", src)
				}
			})
		})
	}
	c := app.signedIn(authz.Checker)
	doc := parse(t, c.get("/?period=7"))
	if !strings.Contains(doc.Find(`[data-testid="period-current"]`).Text(), "7 days") ||
		!strings.Contains(doc.Find(`[data-testid="chart-rate"] h2`).Text(), "last 7 days") {
		t.Fatal("the 7-day period is not the one shown")
	}
	if resp := c.get("/?period=5"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("period=5: status %d", resp.StatusCode)
	}
	if resp := app.client().get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed out: status %d", resp.StatusCode)
	}
}
