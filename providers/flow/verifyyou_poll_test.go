package flow

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/verifyyou"
	verifyyousim "github.com/kycdesk/kycdesk/providers/verifyyou/sim"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// verifyYouEnv is a flow service over a real database file and the
// VerifyYou simulator, which sends no webhooks: everything flow learns
// comes from the poll.
type verifyYouEnv struct {
	t      *testing.T
	dbPath string
	kek    *seal.KEK
	clock  *testClock
	sim    *verifyyousim.Server
	srvURL string
	svc    *Service
	db     *db.DB
	client *verifyyou.Client
}

func newVerifyYouEnv(t *testing.T) *verifyYouEnv {
	t.Helper()
	e := &verifyYouEnv{t: t, dbPath: filepath.Join(t.TempDir(), "kd.db"), clock: &testClock{now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}}
	e.kek, _ = seal.NewKEK(seal.NewKey())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.sim.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	e.srvURL = srv.URL
	e.sim = verifyyousim.New(verifyyousim.Config{PublicURL: srv.URL, APIKey: "test-key", Now: e.clock.Now})
	e.restart()
	return e
}

// restart opens the database again and builds a new service and client:
// what a process restart does. The previous ones are dropped.
func (e *verifyYouEnv) restart() {
	e.t.Helper()
	if e.db != nil {
		e.db.Close()
	}
	d, err := db.Open(context.Background(), e.dbPath, db.Options{KEK: e.kek, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close() })
	e.db = d
	e.client = verifyyou.New(verifyyou.Config{URL: e.srvURL, APIKey: "test-key", WebhookSecret: "s"}, nil, e.clock.Now)
	reg := providers.NewRegistry(&providers.Adapter{Name: providers.VerifyYou, Starter: e.client, Refresher: e.client, Verifier: e.client})
	e.svc = New(Service{DB: d, Registry: reg, BaseURL: "http://127.0.0.1:1", Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func (e *verifyYouEnv) start(name string) db.Verification {
	e.t.Helper()
	v, _, err := e.svc.Start(context.Background(), StartInput{Provider: providers.VerifyYou, New: &db.NewApplicant{Name: name}, Actor: Actor{Email: "staff@example.com"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *verifyYouEnv) poll() VerifyYouPollResult {
	e.t.Helper()
	res, err := e.svc.PollVerifyYou(context.Background(), e.client)
	if err != nil {
		e.t.Fatalf("poll: %v", err)
	}
	return res
}

func (e *verifyYouEnv) verification(id int64) db.Verification {
	e.t.Helper()
	v, err := e.db.Verification(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *verifyYouEnv) pollEvents(applicantID int64) []db.Event {
	e.t.Helper()
	all, err := e.db.Timeline(context.Background(), applicantID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []db.Event
	for _, ev := range all {
		if ev.Source == "poll" {
			out = append(out, ev)
		}
	}
	return out
}

func (e *verifyYouEnv) cursor() string {
	e.t.Helper()
	c, _, err := e.db.JobState(context.Background(), VerifyYouPollJob)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestVerifyYouPollAppliesChangesOnceAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	e := newVerifyYouEnv(t)
	v := e.start("Poll Person")

	// The user accepts; no webhook reaches us. A poll in the same second
	// does not see the change yet (half-open window), the next one does.
	if _, err := e.sim.Accept(ctx, v.ProviderRef); err != nil {
		t.Fatal(err)
	}
	if res := e.poll(); res.Listed != 0 {
		t.Fatalf("a poll in the second of the change listed %d connections", res.Listed)
	}
	e.clock.Advance(time.Second)
	before := e.cursor()
	res := e.poll()
	if res.Listed != 1 || res.Applied != 1 {
		t.Fatalf("poll after the change: %+v", res)
	}
	got := e.verification(v.ID)
	if got.Status != "approved" || got.ProviderStatus != verifyyou.EventConnectionVerified {
		t.Fatalf("after the poll: %s / %s", got.Status, got.ProviderStatus)
	}
	attrs, _ := e.db.Attributes(ctx, v.ApplicantID)
	if len(attrs) != 1 || attrs[0].Meaning != verifyyou.AttrDataRequestResponse {
		t.Fatalf("attributes after the poll: %+v", attrs)
	}
	if n := len(e.pollEvents(v.ApplicantID)); n != 1 {
		t.Fatalf("%d poll events, want 1", n)
	}

	// A crash after applying but before the cursor was stored: the
	// restarted process polls the same window again and records nothing
	// twice.
	if err := e.db.SetJobState(ctx, VerifyYouPollJob, before, nil); err != nil {
		t.Fatal(err)
	}
	e.restart()
	res = e.poll()
	if res.Listed != 1 || res.Applied != 0 || res.Unchanged != 1 {
		t.Fatalf("repeated window after a restart: %+v", res)
	}
	if n := len(e.pollEvents(v.ApplicantID)); n != 1 {
		t.Fatalf("the repeated window added events: %d poll events", n)
	}

	// While the app is down the user deletes the connection; the next
	// process picks it up from the stored cursor.
	e.db.Close()
	e.clock.Advance(30 * time.Second)
	if _, err := e.sim.Delete(ctx, v.ProviderRef); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	e.restart()
	res = e.poll()
	if res.Listed != 1 || res.Applied != 1 {
		t.Fatalf("poll after a deletion during downtime: %+v", res)
	}
	got = e.verification(v.ID)
	if got.Status != "withdrawn" || got.ProviderStatus != verifyyou.EventConnectionDeleted {
		t.Fatalf("after the deletion: %s / %s", got.Status, got.ProviderStatus)
	}
	// The retention policy heard about the withdrawal.
	entries, err := e.db.ListAudit(ctx, db.AuditFilter{Action: "retention.withdrawal", Limit: 10})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, "provider=verifyyou") {
		t.Fatalf("withdrawal audit: %+v %v", entries, err)
	}
	// Nothing new: the next poll lists nothing.
	e.clock.Advance(time.Minute)
	if res := e.poll(); res.Listed != 0 {
		t.Fatalf("a quiet poll listed %d", res.Listed)
	}
}

// maintenancePoller answers like VerifyYou in maintenance (after the
// adapter's own retries) while down is set, and like the real client
// otherwise.
type maintenancePoller struct {
	*verifyyou.Client
	down, refreshDown bool
}

func (p *maintenancePoller) Refresh(ctx context.Context, reference, providerRef string) (providers.Update, error) {
	if p.refreshDown {
		return providers.Update{}, &providers.APIError{Provider: providers.VerifyYou, Call: "check_connection_status", HTTPStatus: http.StatusBadGateway}
	}
	return p.Client.Refresh(ctx, reference, providerRef)
}

func (p *maintenancePoller) CheckForUpdates(ctx context.Context, since int64) (verifyyou.Updates, error) {
	if p.down {
		return verifyyou.Updates{}, &providers.APIError{Provider: providers.VerifyYou, Call: "check_for_updates",
			HTTPStatus: http.StatusServiceUnavailable, Code: "SERVICE_TEMPORARILY_UNAVAILABLE", Message: "maintenance"}
	}
	return p.Client.CheckForUpdates(ctx, since)
}

func TestVerifyYouPollKeepsCursorOnTransientFailure(t *testing.T) {
	ctx := context.Background()
	e := newVerifyYouEnv(t)
	v := e.start("Maintenance Person")
	e.clock.Advance(time.Second)
	e.poll()
	cur := e.cursor()
	if _, err := e.sim.Accept(ctx, v.ProviderRef); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	p := &maintenancePoller{Client: e.client, down: true}
	_, err := e.svc.PollVerifyYou(ctx, p)
	if err == nil || !strings.Contains(err.Error(), "SERVICE_TEMPORARILY_UNAVAILABLE") {
		t.Fatalf("poll during maintenance: %v", err)
	}
	if e.cursor() != cur {
		t.Fatal("a failed poll moved the cursor")
	}
	// Listed, but the re-read fails: the window is kept for the next try.
	p.down, p.refreshDown = false, true
	if _, err := e.svc.PollVerifyYou(ctx, p); err == nil {
		t.Fatal("a failed re-read did not fail the poll")
	}
	if e.cursor() != cur {
		t.Fatal("a poll whose re-read failed moved the cursor")
	}
	p.refreshDown = false
	e.clock.Advance(time.Second)
	res, err := e.svc.PollVerifyYou(ctx, p)
	if err != nil || res.Applied != 1 {
		t.Fatalf("the poll after maintenance missed the change: %+v %v", res, err)
	}
	if got := e.verification(v.ID); got.Status != "approved" {
		t.Fatalf("status %s", got.Status)
	}
}

func TestVerifyYouPollWithdrawalArchivesUnderZeroDayRule(t *testing.T) {
	ctx := context.Background()
	e := newVerifyYouEnv(t)
	if err := e.db.SetRetentionRules(ctx, []db.RetentionRule{{Provider: "verifyyou", Outcome: db.OutcomeProviderWithdrawal, Days: 0}},
		db.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	v := e.start("Withdrawing Person")
	_, _ = e.sim.Accept(ctx, v.ProviderRef)
	e.clock.Advance(time.Second)
	e.poll()
	if attrs, _ := e.db.Attributes(ctx, v.ApplicantID); len(attrs) == 0 {
		t.Fatal("no data before the withdrawal")
	}
	_, _ = e.sim.Delete(ctx, v.ProviderRef)
	e.clock.Advance(time.Second)
	e.poll()
	a, err := e.db.Applicant(ctx, v.ApplicantID)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Archived() {
		t.Fatal("a 0-day withdrawal rule did not archive the applicant")
	}
	if attrs, _ := e.db.Attributes(ctx, v.ApplicantID); len(attrs) != 0 {
		t.Fatalf("%d attributes kept after the withdrawal", len(attrs))
	}
}

// refusingPoller lists one connection and refuses to re-read it.
type refusingPoller struct{ name string }

func (p refusingPoller) CheckForUpdates(ctx context.Context, since int64) (verifyyou.Updates, error) {
	return verifyyou.Updates{Connections: []string{p.name, "someone-elses-reference"}, Cursor: since + 60}, nil
}

func (p refusingPoller) Refresh(ctx context.Context, reference, providerRef string) (providers.Update, error) {
	return providers.Update{}, &verifyyou.NotRegisteredError{API: &providers.APIError{Provider: providers.VerifyYou,
		Call: "check_connection_status", HTTPStatus: http.StatusOK, Code: verifyyou.CodeDoesNotExist, Message: "User does not exist"}}
}

func TestVerifyYouPollRecordsRefusalWithItsCode(t *testing.T) {
	ctx := context.Background()
	e := newVerifyYouEnv(t)
	v := e.start("Unknown There")
	res, err := e.svc.PollVerifyYou(ctx, refusingPoller{name: v.Reference})
	if err != nil {
		t.Fatal(err)
	}
	if res.Refused != 1 || res.Unknown != 1 {
		t.Fatalf("poll: %+v", res)
	}
	if e.cursor() != "60" {
		t.Fatalf("a documented refusal held the cursor back: %q", e.cursor())
	}
	evs := e.pollEvents(v.ApplicantID)
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "DOES_NOT_EXIST") || evs[0].Status != "invited" {
		t.Fatalf("timeline: %+v", evs)
	}
}

func TestParseVerifyYouPollInterval(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", time.Minute, true},
		{"30s", 30 * time.Second, true},
		{"120", 2 * time.Minute, true},
		{"5m", 5 * time.Minute, true},
		{"1s", 0, false},
		{"48h", 0, false},
		{"soon", 0, false},
		{"-5m", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseVerifyYouPollInterval(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %v, %v", tc.in, got, err)
		}
	}
}
