package handlers

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/web/authz"
)

// TestProvidersPageShowsModesURLsAndJobs: the page operators configure
// providers from shows each provider's mode and the exact URLs to
// register, never a credential's value, and the state of background jobs.
func TestProvidersPageShowsModesURLsAndJobs(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	if err := app.db.SetJobState(ctx, "verifyyou/check_for_updates", "17", errors.New("verifyyou: check_for_updates: SERVICE_TEMPORARILY_UNAVAILABLE")); err != nil {
		t.Fatal(err)
	}
	if err := app.db.SetJobState(ctx, "reconcile/corepass", "", nil); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, app.signedIn(authz.Admin).get("/admin/providers"))
	cp := doc.Find(`[data-testid="provider-corepass"]`)
	if !strings.Contains(cp.Find(`[data-testid="mode"]`).Text(), "Sandbox") {
		t.Fatalf("mode: %q", cp.Find(`[data-testid="mode"]`).Text())
	}
	if got := cp.Find(`[data-testid="endpoint"]`).First().Text(); got != app.srv.URL+"/callbacks/corepass/status" {
		t.Fatalf("status callback URL to register: %q", got)
	}
	jobs := doc.Find(`[data-testid="job-row"]`)
	if jobs.Length() != 2 || !strings.Contains(jobs.Text(), "SERVICE_TEMPORARILY_UNAVAILABLE") || !strings.Contains(jobs.Text(), "ok") {
		t.Fatalf("jobs: %d rows: %q", jobs.Length(), jobs.Text())
	}
	html, _ := doc.Html()
	pub := app.sims.corepass.PublicKey()
	if strings.Contains(strings.ToLower(html), hex.EncodeToString(pub)) {
		t.Fatal("the providers page shows the pinned key's value")
	}
}
