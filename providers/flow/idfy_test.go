package flow

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/idfy"
	idfysim "github.com/kycdesk/kycdesk/providers/idfy/sim"
)

// idfyEnv is a flow service over a real database and the IDfy simulator,
// whose webhooks go nowhere: flow learns only from reconciliation.
type idfyEnv struct {
	svc    *Service
	sim    *idfysim.Server
	db     *db.DB
	clock  *testClock
	client *idfy.Client
	// downloads counts the resource downloads the simulator served.
	downloads atomic.Int64
}

func newIDfyEnv(t *testing.T, baseURL string) *idfyEnv {
	t.Helper()
	ctx := context.Background()
	e := &idfyEnv{clock: &testClock{now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}}
	kek, _ := seal.NewKEK(seal.NewKey())
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "kd.db"), db.Options{KEK: kek, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	e.db = d
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/resources/") {
			e.downloads.Add(1)
		}
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.sim = idfysim.New(idfysim.Config{PublicURL: srv.URL, AccountID: "acct", APIKey: "key", Now: e.clock.Now})
	e.client, err = idfy.New(idfy.Config{URL: srv.URL, AccountID: "acct", APIKey: "key", ConfigID: "cfg"}, nil, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	reg := providers.NewRegistry(&providers.Adapter{Name: providers.IDfy, Starter: e.client, Refresher: e.client, Verifier: e.client})
	e.svc = New(Service{DB: d, Registry: reg, BaseURL: baseURL, Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return e
}

func (e *idfyEnv) start(t *testing.T, params map[string]string) (db.Verification, providers.Started) {
	t.Helper()
	v, st, err := e.svc.Start(context.Background(), StartInput{Provider: providers.IDfy, New: &db.NewApplicant{Name: "Capture Person"},
		Params: params, Actor: Actor{Email: "staff@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return v, st
}

// TestIDfyStartLinkHonoursTheRules checks the link flow.Start stores: the
// capture link with redirect_uri and exit_url URI-encoded and pointing at
// this verification's own end-user page (session-specific, expiring, no
// PII), no fragment, and an expiry.
func TestIDfyStartLinkHonoursTheRules(t *testing.T) {
	e := newIDfyEnv(t, "https://desk.example.org")
	v, st := e.start(t, map[string]string{"text.name": `{"first_name":"Capture","last_name":"Person"}`})
	if v.Link != st.Link || v.Link == "" {
		t.Fatal("the stored link is not the one IDfy's start returned")
	}
	if strings.Contains(v.Link, "#") {
		t.Fatal("the capture link carries a fragment")
	}
	u, err := url.Parse(v.Link)
	if err != nil {
		t.Fatal(err)
	}
	want := e.svc.EndUserURL(v.Token)
	q := u.Query()
	if q.Get("redirect_uri") != want || q.Get("exit_url") != want {
		t.Fatalf("redirect_uri %q, exit_url %q; want both %q", q.Get("redirect_uri"), q.Get("exit_url"), want)
	}
	if !strings.Contains(u.RawQuery, "redirect_uri="+url.QueryEscape(want)) {
		t.Fatal("redirect_uri is not URI-encoded in the link")
	}
	if q.Get("t") == "" {
		t.Fatal("IDfy's own token was dropped from the capture link")
	}
	for _, pii := range []string{"Capture", "Person"} {
		if strings.Contains(v.Link, pii) {
			t.Fatalf("the link carries personal data (%s)", pii)
		}
	}
	if v.ExpiresAt.IsZero() || !v.ExpiresAt.After(e.clock.Now()) || v.ExpiresAt.After(e.clock.Now().Add(idfy.DefaultLinkTTL)) {
		t.Fatalf("link expiry %v", v.ExpiresAt)
	}
	p, ok := e.sim.Profile(v.ProviderRef)
	if !ok || p.ReferenceID != v.Reference || p.Async {
		t.Fatalf("profile at IDfy: %+v", p)
	}
}

// TestIDfyStartRefusesBadReturnURL: a plain-http public base URL would
// send users back over http; the adapter refuses before creating anything
// and the refusal names the rule.
func TestIDfyStartRefusesBadReturnURL(t *testing.T) {
	e := newIDfyEnv(t, "http://desk.example.org")
	_, _, err := e.svc.Start(context.Background(), StartInput{Provider: providers.IDfy, New: &db.NewApplicant{Name: "X"}, Actor: Actor{Email: "s@example.com"}})
	var le *idfy.LinkError
	if !asLinkError(err, &le) || le.Rule != idfy.RuleHTTPS || le.Field != "redirect_uri" {
		t.Fatalf("start with an http base URL: %v", err)
	}
	if len(e.sim.Profiles()) != 0 {
		t.Fatal("a profile was created at IDfy although the link was refused")
	}
	page, _ := e.db.ListApplicants(context.Background(), db.ApplicantFilter{Limit: 10})
	if len(page.Rows) != 0 {
		t.Fatal("an applicant was stored for a refused start")
	}
}

func TestIDfyStartAsyncAboveTwoResources(t *testing.T) {
	e := newIDfyEnv(t, "https://desk.example.org")
	v, st := e.start(t, map[string]string{"text.name": "A B", "text.dob": "1990-01-02", "text.address": "1 Road"})
	p, _ := e.sim.Profile(v.ProviderRef)
	if !p.Async || p.Resources != 3 {
		t.Fatalf("profile %+v, want the async create with 3 resources", p)
	}
	if len(st.Notes) == 0 || !strings.Contains(st.Notes[0], "asynchronous") {
		t.Fatalf("notes %v", st.Notes)
	}
}

// TestIDfyReconcileCatchesUpLostWebhooks: the capture finishes and the
// checker approves, and no webhook reaches us. Reconciliation fetches the
// profile, downloads its files into the encrypted store, and a pass with
// nothing new records nothing and downloads nothing.
func TestIDfyReconcileCatchesUpLostWebhooks(t *testing.T) {
	ctx := context.Background()
	e := newIDfyEnv(t, "https://desk.example.org")
	v, _ := e.start(t, nil)
	if err := e.sim.FinishCapture(ctx, v.ProviderRef); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reconcile(ctx, providers.IDfy); err != nil {
		t.Fatal(err)
	}
	got, _ := e.db.Verification(ctx, v.ID)
	if got.Status != "needs_review" || got.ProviderStatus != "completed" {
		t.Fatalf("after the capture: %s / %s", got.Status, got.ProviderStatus)
	}
	docs, _ := e.db.Documents(ctx, v.ApplicantID)
	if len(docs) != 2 {
		t.Fatalf("%d documents stored, want the report and the selfie", len(docs))
	}
	if e.downloads.Load() == 0 {
		t.Fatal("the documents were stored without a download from the simulator")
	}
	before, _ := e.db.Timeline(ctx, v.ApplicantID, 100)
	downloadsBefore := e.downloads.Load()
	for range 3 {
		if _, err := e.svc.Reconcile(ctx, providers.IDfy); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := e.db.Timeline(ctx, v.ApplicantID, 100)
	if len(after) != len(before) {
		t.Errorf("a reconciliation with nothing new added %d timeline events", len(after)-len(before))
	}
	if n := e.downloads.Load() - downloadsBefore; n != 0 {
		t.Errorf("reconciliations with nothing new downloaded %d resources again", n)
	}
	if err := e.sim.Review(ctx, v.ProviderRef, idfysim.ReviewerApproved); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reconcile(ctx, providers.IDfy); err != nil {
		t.Fatal(err)
	}
	got, _ = e.db.Verification(ctx, v.ID)
	if got.Status != "approved" || got.ProviderStatus != "completed/approved" {
		t.Fatalf("after the review: %s / %s", got.Status, got.ProviderStatus)
	}
}

func asLinkError(err error, target **idfy.LinkError) bool { return errors.As(err, target) }
