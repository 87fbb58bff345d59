package flow

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
	corepasssim "github.com/kycdesk/kycdesk/providers/corepass/sim"
)

// corepassEnv is a flow service over a real database and the CorePass
// simulator, whose callbacks go nowhere: everything flow learns comes from
// reconciliation.
type corepassEnv struct {
	svc   *Service
	sim   *corepasssim.Server
	db    *db.DB
	clock *time.Time
}

func newCorePassEnv(t *testing.T) *corepassEnv {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	kek, _ := seal.NewKEK(seal.NewKey())
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "kd.db"), db.Options{KEK: kek, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(dead.Close)
	var sim *corepasssim.Server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sim.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	sim = corepasssim.New(corepasssim.Config{PublicURL: srv.URL, Now: clock, RetryInterval: time.Hour, MaxAttempts: 1})
	t.Cleanup(sim.Close)
	client := corepass.New(corepass.Config{URL: srv.URL, PubKey: sim.PublicKey()}, nil, clock)
	reg := providers.NewRegistry(&providers.Adapter{Name: providers.CorePass, Starter: client, Refresher: client, Verifier: client,
		CallbackPath: "/callbacks/corepass/data", StatusCallbackPath: "/callbacks/corepass/status", StartTTL: 10 * time.Minute})
	svc := New(Service{DB: d, Registry: reg, BaseURL: dead.URL, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &corepassEnv{svc: svc, sim: sim, db: d, clock: &now}
}

const testCoreID = "ab22b1671b4f7ccc0b16a87514adde84513b6348232e"

func (e *corepassEnv) start(t *testing.T, name string) db.Verification {
	t.Helper()
	v, _, err := e.svc.Start(context.Background(), StartInput{
		Provider: providers.CorePass, New: &db.NewApplicant{Name: name},
		Params: map[string]string{"core_id": testCoreID, "meanings": "full_name,date_of_birth"},
		Actor:  Actor{Email: "test@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReconcileCatchesUpLostCallbacks(t *testing.T) {
	ctx := context.Background()
	e := newCorePassEnv(t)
	v := e.start(t, "Lost Callbacks")
	tr := e.sim.Transfers()
	if len(tr) != 1 {
		t.Fatalf("%d transfers", len(tr))
	}
	// The user accepts; every callback to us fails.
	_ = e.sim.Accept(ctx, tr[0].ID)
	res, err := e.svc.Reconcile(ctx, providers.CorePass)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 1 || res.Changed != 1 {
		t.Fatalf("reconcile %+v", res)
	}
	got, _ := e.db.Verification(ctx, v.ID)
	if got.ProviderStatus == "PENDING" || got.Status == "invited" {
		t.Fatalf("reconciliation did not move the verification: %s / %s", got.Status, got.ProviderStatus)
	}
	// A second pass with nothing new writes nothing.
	before, _ := e.db.Timeline(ctx, v.ApplicantID, 100)
	if _, err := e.svc.Reconcile(ctx, providers.CorePass); err != nil {
		t.Fatal(err)
	}
	after, _ := e.db.Timeline(ctx, v.ApplicantID, 100)
	if len(after) != len(before) {
		t.Fatalf("an unchanged reconciliation added %d events", len(after)-len(before))
	}
}

func TestReconcileExpiresUnstartedLinks(t *testing.T) {
	ctx := context.Background()
	e := newCorePassEnv(t)
	v := e.start(t, "Never Scanned")
	if v.ExpiresAt.IsZero() {
		t.Fatal("a CorePass verification has no expiry")
	}
	*e.clock = v.ExpiresAt.Add(-time.Second)
	if res, _ := e.svc.Reconcile(ctx, providers.CorePass); res.Expired != 0 {
		t.Fatal("expired a link before its time")
	}
	*e.clock = v.ExpiresAt.Add(time.Second)
	if res, _ := e.svc.Reconcile(ctx, providers.CorePass); res.Expired != 1 {
		t.Fatalf("did not expire the link: %+v", res)
	}
	got, _ := e.db.Verification(ctx, v.ID)
	if got.Status != "expired" {
		t.Fatalf("status %s", got.Status)
	}
}

// movedRefresher reports every verification as moved on, in an update
// that names a reference nobody has: recording it fails.
type movedRefresher struct{}

func (movedRefresher) Refresh(context.Context, string, string) (providers.Update, error) {
	return providers.Update{Reference: "no-such-reference", ProviderStatus: "ACCEPTED", Status: providers.StatusInProgress}, nil
}

// TestReconcileNeverExpiresWhatMoved: when the provider reports that a
// verification moved on but recording it fails, the pass counts a failure
// and leaves the verification for the next pass; it does not expire it
// because its link ran out meanwhile (a later report would then be
// dropped as going backwards).
func TestReconcileNeverExpiresWhatMoved(t *testing.T) {
	ctx := context.Background()
	e := newCorePassEnv(t)
	v := e.start(t, "Scanned Late")
	a, _ := e.svc.Registry.Get(providers.CorePass)
	a.Refresher = movedRefresher{}
	*e.clock = v.ExpiresAt.Add(time.Second)
	res, err := e.svc.Reconcile(ctx, providers.CorePass)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 1 || res.Expired != 0 || res.Changed != 0 {
		t.Fatalf("reconcile = %+v, want one failure and nothing expired", res)
	}
	if got, _ := e.db.Verification(ctx, v.ID); got.Status != string(providers.StatusInvited) {
		t.Fatalf("status %s, want still invited", got.Status)
	}
}

// TestUpdateForArchivedApplicantKeepsStatusNotData: a late delivery for an
// archived applicant is recorded (status, timeline) without its personal
// data, and does not fail (it would be retried until parked). It is matched
// by our reference: archiving blanks CorePass transfer refs (they hold the
// Core ID), so a late CorePass callback stays unmatched in the inbox.
func TestUpdateForArchivedApplicantKeepsStatusNotData(t *testing.T) {
	ctx := context.Background()
	e := newCorePassEnv(t)
	v := e.start(t, "Archived Later")
	if _, err := e.db.Archive(ctx, v.ApplicantID, db.ArchiveRequest{Rule: db.RuleManual, Reason: "test", Audit: db.AuditEntry{Actor: "test"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.ApplyUpdate(ctx, providers.CorePass, "callback", providers.Update{
		Reference: v.Reference, ProviderStatus: "FINISH_SUCCESS", Status: providers.StatusNeedsReview,
		Attributes: []providers.Attribute{{Meaning: "full_name", Name: "SH_IDCard_FULLNAME", Value: "Late Data", Pepper: "p"}},
	}, "test")
	if err != nil {
		t.Fatalf("a late delivery for an archived applicant failed: %v", err)
	}
	got, _ := e.db.Verification(ctx, v.ID)
	if got.ProviderStatus != "FINISH_SUCCESS" {
		t.Fatalf("provider status %q", got.ProviderStatus)
	}
	if attrs, _ := e.db.Attributes(ctx, v.ApplicantID); len(attrs) != 0 {
		t.Fatalf("%d attributes stored for an archived applicant", len(attrs))
	}
}

// TestLateCallbackAfterArchiveFindsItsVerification: a CorePass callback
// names its verification only by the transfer reference, which holds the
// Core ID and is blanked by the archive. A late one still finds its
// verification (by the reference's keyed MAC), records the status, stores
// no personal data and writes no Core ID back.
func TestLateCallbackAfterArchiveFindsItsVerification(t *testing.T) {
	ctx := context.Background()
	e := newCorePassEnv(t)
	v := e.start(t, "Archived Before The Callback")
	if v.ProviderRef == "" || !strings.Contains(v.ProviderRef, testCoreID) {
		t.Fatalf("the started verification's provider ref %q does not hold the Core ID; the test proves nothing", v.ProviderRef)
	}
	// The same Core ID asked for other items: another transfer, not to be
	// confused with the archived one.
	other, _, err := e.svc.Start(ctx, StartInput{Provider: providers.CorePass, New: &db.NewApplicant{Name: "Same Wallet, Other Items"},
		Params: map[string]string{"core_id": testCoreID, "meanings": "email"}, Actor: Actor{Email: "test@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Archive(ctx, v.ApplicantID, db.ArchiveRequest{Rule: db.RuleManual, Reason: "test", Audit: db.AuditEntry{Actor: "test"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.Verification(ctx, v.ID); got.ProviderRef != "" {
		t.Fatalf("the archive kept the provider ref %q", got.ProviderRef)
	}
	late := providers.Update{ProviderRef: v.ProviderRef, ProviderStatus: "FINISH_SUCCESS", Status: providers.StatusNeedsReview,
		Attributes: []providers.Attribute{{Meaning: "full_name", Name: "SH_IDCard_FULLNAME", Value: "Late Data", Pepper: "p"}}}
	got, err := e.svc.ApplyUpdate(ctx, providers.CorePass, "callback", late, "test")
	if err != nil {
		t.Fatalf("the late callback found no verification: %v", err)
	}
	if got.ID != v.ID {
		t.Fatalf("the late callback matched verification %d, want %d", got.ID, v.ID)
	}
	after, _ := e.db.Verification(ctx, v.ID)
	if after.ProviderStatus != "FINISH_SUCCESS" || after.ProviderRef != "" {
		t.Errorf("after the late callback: provider status %q, provider ref %q (want FINISH_SUCCESS and blank)", after.ProviderStatus, after.ProviderRef)
	}
	if attrs, _ := e.db.Attributes(ctx, v.ApplicantID); len(attrs) != 0 {
		t.Errorf("%d attributes stored for an archived applicant", len(attrs))
	}
	if o, _ := e.db.Verification(ctx, other.ID); o.ProviderStatus == "FINISH_SUCCESS" {
		t.Error("the other verification of the same Core ID took the late status")
	}
	// Nor does the store write one back, whoever asks (an archive may
	// commit between flow's check and the write).
	if err := e.db.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "callback", ProviderRef: v.ProviderRef}); err != nil {
		t.Fatal(err)
	}
	if after, _ := e.db.Verification(ctx, v.ID); after.ProviderRef != "" {
		t.Errorf("the store wrote the provider ref %q back into an archived verification", after.ProviderRef)
	}
	// After the window, the retention job forgets the reference.
	if _, err := e.db.RunRetention(ctx, db.RetentionRun{Now: e.clock.Add(91 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ApplyUpdate(ctx, providers.CorePass, "callback", late, "test"); !errors.Is(err, ErrNoVerification) {
		t.Errorf("91 days after the archive the late callback still matched: %v", err)
	}
	// A reference nobody archived still matches nothing, and the error
	// does not carry it (it is logged and kept in the inbox).
	_, err = e.svc.ApplyUpdate(ctx, providers.CorePass, "callback", providers.Update{ProviderRef: testCoreID + ":SH_NOTHING", ProviderStatus: "PENDING"}, "test")
	if !errors.Is(err, ErrNoVerification) || strings.Contains(err.Error(), testCoreID) {
		t.Errorf("unknown ref: err = %v; want ErrNoVerification without the Core ID", err)
	}
}

// TestCorePassLinkShowsTheCoreID: the link card and the search index know
// a CorePass user by the Core ID the connector was asked about (normalised),
// not by the transfer reference.
func TestCorePassLinkShowsTheCoreID(t *testing.T) {
	ctx := context.Background()
	e := newCorePassEnv(t)
	v, _, err := e.svc.Start(ctx, StartInput{Provider: providers.CorePass, New: &db.NewApplicant{Name: "Typed In Capitals"},
		Params: map[string]string{"core_id": " 0x" + strings.ToUpper(testCoreID) + " ", "meanings": "email"}, Actor: Actor{Email: "test@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	links, err := e.db.ProviderLinks(ctx, v.ApplicantID)
	if err != nil || len(links) != 1 {
		t.Fatalf("links %+v, %v", links, err)
	}
	if links[0].ExternalID != testCoreID {
		t.Errorf("external id %q, want the Core ID %q", links[0].ExternalID, testCoreID)
	}
}
