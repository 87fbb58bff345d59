package blockpass_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

const (
	testAPIKey = "bp-api-key-test"
	testSecret = "bp-webhook-secret-test"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sleeps records the waits the client asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// received is what the test webhook receiver saw, after verification with
// the adapter's own verifier.
type received struct {
	delivery providers.Delivery
	event    blockpass.Event
	err      error
}

type env struct {
	sim    *sim.Server
	srv    *httptest.Server
	clock  *clock
	sleeps *sleeps
	client *blockpass.Client
	cfg    blockpass.Config

	mu       sync.Mutex
	webhooks []received
}

func (e *env) hooks() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.webhooks...)
}

// newEnv starts a simulator and a webhook receiver that checks every
// webhook with the adapter, and a client pointed at the simulator.
func newEnv(t *testing.T, mutate func(*sim.Config), opts ...blockpass.Option) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}, sleeps: &sleeps{}}
	verifier := blockpass.NewVerifier(testSecret)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d, err := verifier.VerifyInbound(r.Header, body, e.clock.Now())
		rec := received{delivery: d, err: err}
		if err == nil {
			rec.event, rec.err = blockpass.ParseWebhook(body)
		}
		e.mu.Lock()
		e.webhooks = append(e.webhooks, rec)
		e.mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)

	var s *sim.Server
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	cfg := sim.Config{PublicURL: e.srv.URL, ClientID: "kyc_test_svc", APIKey: testAPIKey, WebhookURL: hook.URL, WebhookSecret: testSecret, Now: e.clock.Now}
	if mutate != nil {
		mutate(&cfg)
	}
	s = sim.New(cfg)
	e.sim = s
	e.cfg = blockpass.Config{URL: e.srv.URL, ClientID: "kyc_test_svc", APIKey: testAPIKey, WebhookSecret: testSecret, ConnectPattern: s.ConnectPattern()}
	c, err := blockpass.NewClient(e.cfg, e.srv.Client(), append([]blockpass.Option{blockpass.WithSleep(e.sleeps.Sleep)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

func TestListPagesAndTotals(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.Seed(50)
	ctx := context.Background()

	page, err := e.client.List(ctx, "", 45, 10)
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 50 || page.Skip != 45 || len(page.Records) != 5 || page.Records[0].RecordID != sim.SeedRecordID(45) {
		t.Fatalf("last page: total %d skip %d, %d records", page.Total, page.Skip, len(page.Records))
	}
	if len(page.Records[0].Identities) != 0 {
		t.Error("a listing returned identities")
	}

	approved, err := e.client.List(ctx, blockpass.StatusApproved, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if approved.Total != 7 || len(approved.Records) != 7 {
		t.Errorf("approved: total %d, %d records; want 7 of 50", approved.Total, len(approved.Records))
	}
	for _, c := range approved.Records {
		if c.Status != blockpass.StatusApproved {
			t.Errorf("status filter let %s through", c.Status)
		}
	}
}

func TestEachStreamsEveryPage(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.MaxLimit = 8 })
	e.sim.Seed(61)
	seen := map[string]bool{}
	calls := e.sim.APICalls()
	// Ask for 25 a page; the simulator caps pages at 8, so Each must follow
	// what came back, not what it asked for.
	err := e.client.Each(context.Background(), "", 25, func(c blockpass.Candidate) error {
		if seen[c.RecordID] {
			t.Errorf("record %s seen twice", c.RecordID)
		}
		seen[c.RecordID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 61 {
		t.Errorf("saw %d candidates, want 61", len(seen))
	}
	if pages := e.sim.APICalls() - calls; pages != 8 {
		t.Errorf("%d page requests, want 8 (61 in pages of 8)", pages)
	}

	var rejected int
	if err := e.client.Each(context.Background(), blockpass.StatusRejected, 3, func(c blockpass.Candidate) error {
		rejected++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if rejected != 9 {
		t.Errorf("rejected = %d, want 9", rejected)
	}

	stop := errors.New("stop")
	n := 0
	err = e.client.Each(context.Background(), "", 10, func(blockpass.Candidate) error {
		if n++; n == 12 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 12 {
		t.Errorf("callback error: err = %v after %d", err, n)
	}
}

func TestEachOverHundredThousand(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.MaxLimit = 1000 })
	e.sim.Seed(100_000)
	ctx := context.Background()

	// Every approved candidate among 100,000: 15 pages, each found by the
	// simulator scanning the whole population.
	count := 0
	if err := e.client.Each(ctx, blockpass.StatusApproved, 1000, func(c blockpass.Candidate) error {
		if c.Status != blockpass.StatusApproved {
			t.Fatalf("got %s", c.Status)
		}
		count++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if count != 14_286 {
		t.Errorf("streamed %d approved candidates, want 14286", count)
	}

	last, err := e.client.List(ctx, "", 99_995, 10)
	if err != nil {
		t.Fatal(err)
	}
	if last.Total != 100_000 || len(last.Records) != 5 || last.Records[4].RecordID != sim.SeedRecordID(99_999) {
		t.Errorf("deepest page: total %d, %d records", last.Total, len(last.Records))
	}
	deep, err := e.client.ByRecordID(ctx, sim.SeedRecordID(99_998))
	if err != nil || deep.Identities["given_name"].Value == "" {
		t.Errorf("candidate 99998 in full: %v", err)
	}
}

func TestEveryStatusFetchedAndExtracted(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.Seed(7)
	want := map[string]providers.Status{
		"incomplete": providers.StatusInvited, "waiting": providers.StatusInProgress, "inreview": providers.StatusNeedsReview,
		"approved": providers.StatusApproved, "rejected": providers.StatusRejected, "blocked": providers.StatusBlocked,
		"review_requested": providers.StatusRejected,
	}
	for i := 0; i < 7; i++ {
		c, err := e.client.ByRecordID(context.Background(), sim.SeedRecordID(i))
		if err != nil {
			t.Fatal(err)
		}
		u := blockpass.Extract(c)
		if u.ProviderStatus != sim.SeedStatus(i) || u.Status != want[c.Status] {
			t.Errorf("record %d: %s -> %s", i, u.ProviderStatus, u.Status)
		}
		names := map[string]bool{}
		for _, a := range u.Attributes {
			names[a.Meaning] = true
		}
		if !names[blockpass.MeaningFullName] || !names[blockpass.MeaningEmail] {
			t.Errorf("record %d (%s): attributes %v", i, c.Status, names)
		}
		if c.Status != blockpass.StatusIncomplete {
			if !names[blockpass.MeaningDateOfBirth] || !names[blockpass.MeaningPhone] || !names[blockpass.MeaningCity] {
				t.Errorf("record %d (%s): attributes %v", i, c.Status, names)
			}
			images := 0
			for _, d := range u.Documents {
				if strings.HasPrefix(d.ContentType, "image/") {
					images++
				}
			}
			if images != 3 {
				t.Errorf("record %d: %d images, want 3", i, images)
			}
		}
	}
}

func TestByRefIDAndRefresh(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.Seed(20)
	ctx := context.Background()
	c, err := e.client.ByRefID(ctx, sim.SeedRefID(3))
	if err != nil {
		t.Fatal(err)
	}
	if c.RecordID != sim.SeedRecordID(3) || c.Status != blockpass.StatusApproved {
		t.Errorf("by refId: %s %s", c.RecordID, c.Status)
	}
	byRef, err := e.client.Refresh(ctx, sim.SeedRefID(4), "")
	if err != nil || byRef.ProviderRef != sim.SeedRecordID(4) {
		t.Errorf("Refresh by reference: %+v %v", byRef.ProviderRef, err)
	}
	byRecord, err := e.client.Refresh(ctx, "ignored", sim.SeedRecordID(5))
	if err != nil || byRecord.Reference != sim.SeedRefID(5) || byRecord.Status != providers.StatusBlocked {
		t.Errorf("Refresh by providerRef: %+v %v", byRecord, err)
	}
}

func TestAPIErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.Seed(3)
	ctx := context.Background()

	_, err := e.client.ByRecordID(ctx, "000000000000000000000000")
	if !blockpass.IsNotFound(err) || !strings.Contains(err.Error(), "get by recordId") {
		t.Errorf("unknown recordId: %v", err)
	}
	_, err = e.client.ByRefID(ctx, "never-issued")
	if !blockpass.IsNotFound(err) || !strings.Contains(err.Error(), "get by refId") {
		t.Errorf("unknown refId: %v", err)
	}
	_, err = e.client.List(ctx, "bogus", 0, 10)
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 400 || apiErr.Call != "list applicants" || apiErr.Message != "Invalid status" {
		t.Errorf("bad status: %v", err)
	}
	if _, err := e.client.ByRefID(ctx, ""); err == nil {
		t.Error("empty refId accepted")
	}

	wrongKey := e.cfg
	wrongKey.APIKey = "nope"
	c, _ := blockpass.NewClient(wrongKey, e.srv.Client())
	_, err = c.List(ctx, "", 0, 1)
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 401 || apiErr.Code != "unauthorized" || strings.Contains(err.Error(), "nope") {
		t.Errorf("wrong key: %v", err)
	}
	wrongService := e.cfg
	wrongService.ClientID = "someone_else"
	c, _ = blockpass.NewClient(wrongService, e.srv.Client())
	if _, err = c.List(ctx, "", 0, 1); !blockpass.IsNotFound(err) {
		t.Errorf("wrong client id: %v", err)
	}
	if _, err := blockpass.NewClient(blockpass.Config{URL: e.srv.URL}, nil); err == nil {
		t.Error("NewClient accepted a config without credentials")
	}
}

func TestRateLimitRecovery(t *testing.T) {
	t.Run("every second call", func(t *testing.T) {
		e := newEnv(t, func(c *sim.Config) { c.RateLimitEvery = 2; c.MaxLimit = 5 })
		e.sim.Seed(23)
		n := 0
		if err := e.client.Each(context.Background(), "", 5, func(blockpass.Candidate) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 23 {
			t.Errorf("streamed %d, want 23", n)
		}
		if len(e.sleeps.all()) == 0 {
			t.Error("no backoff recorded")
		}
	})
	t.Run("longer than the shared client's retries", func(t *testing.T) {
		e := newEnv(t, func(c *sim.Config) { c.RetryAfter = 7 * time.Second })
		e.sim.Seed(5)
		e.sim.RateLimitNext(11)
		c, err := e.client.ByRecordID(context.Background(), sim.SeedRecordID(2))
		if err != nil || c.RecordID != sim.SeedRecordID(2) {
			t.Fatalf("after 11 429s: %v", err)
		}
		waits := e.sleeps.all()
		if len(waits) != 11 {
			t.Errorf("%d waits, want 11", len(waits))
		}
		for _, w := range waits {
			if w != 7*time.Second {
				t.Errorf("waited %v, want Retry-After 7s", w)
			}
		}
	})
	t.Run("gives up, saying so", func(t *testing.T) {
		e := newEnv(t, nil, blockpass.WithRateLimitRetries(2))
		e.sim.Seed(1)
		e.sim.SetRateLimited(true)
		_, err := e.client.List(context.Background(), "", 0, 10)
		if !blockpass.IsRateLimited(err) || !strings.Contains(err.Error(), "list applicants") {
			t.Errorf("err = %v", err)
		}
		e.sim.SetRateLimited(false)
		if _, err := e.client.List(context.Background(), "", 0, 10); err != nil {
			t.Errorf("after the limit lifted: %v", err)
		}
	})
}

func TestArchiveAfterExtract(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.ArchiveAfter = 10 * time.Second })
	e.sim.Seed(10)
	ctx := context.Background()
	id := sim.SeedRecordID(3)

	first, err := e.client.ByRecordID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if first.IsArchived || len(first.Identities) == 0 {
		t.Fatal("first fetch should carry identities")
	}
	if want := e.clock.Now().Add(10 * time.Second); !first.ArchiveAt().Equal(want) {
		t.Errorf("willArchiveAtDate = %v, want %v", first.ArchiveAt(), want)
	}
	e.clock.Advance(9 * time.Second)
	again, _ := e.client.ByRecordID(ctx, id)
	if again.IsArchived || !again.ArchiveAt().Equal(first.ArchiveAt()) {
		t.Error("archived early, or the archive date moved on a second fetch")
	}
	e.clock.Advance(time.Second)
	archived, err := e.client.ByRecordID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	u := blockpass.Extract(archived)
	if !archived.IsArchived || len(archived.Identities) != 0 || len(u.Attributes) != 0 || len(u.Documents) != 0 {
		t.Errorf("after the archive date: archived=%v identities=%d", archived.IsArchived, len(archived.Identities))
	}
	if archived.Status != blockpass.StatusApproved || len(u.Certificates) < 3 {
		t.Errorf("archiving kept status %q and %d certificates", archived.Status, len(u.Certificates))
	}
	page, _ := e.client.List(ctx, "", 3, 1)
	if !page.Records[0].IsArchived {
		t.Error("listing does not show the record archived")
	}
}

func TestScopes(t *testing.T) {
	for _, tt := range []struct {
		scope           sim.Scope
		attrs, pictures bool
	}{{sim.ScopeMetadata, false, false}, {sim.ScopeNoPictures, true, false}, {sim.ScopeAll, true, true}} {
		t.Run(string(tt.scope), func(t *testing.T) {
			e := newEnv(t, func(c *sim.Config) { c.Scope = tt.scope })
			e.sim.Seed(4)
			c, err := e.client.ByRecordID(context.Background(), sim.SeedRecordID(3))
			if err != nil {
				t.Fatal(err)
			}
			_, hasName := c.Identities["given_name"]
			_, hasSelfie := c.Identities["selfie"]
			if hasName != tt.attrs || hasSelfie != tt.pictures {
				t.Errorf("identities: name %v selfie %v", hasName, hasSelfie)
			}
			if tt.scope == sim.ScopeMetadata && !c.ArchiveAt().IsZero() {
				t.Error("a metadata-only fetch is not an extract and must not schedule archiving")
			}
		})
	}
}

func TestResponseEncryption(t *testing.T) {
	dashboard, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&dashboard.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	const header = "X-Blockpass-Encryption-Key"

	encrypted := func(simKey *rsa.PrivateKey) *env {
		e := newEnv(t, func(c *sim.Config) {
			c.ResponseEncryptionHeader = header
			c.ResponseEncryptionKey = simKey
		})
		e.sim.Seed(5)
		cfg := e.cfg
		cfg.ResponseEncryptionHeader = header
		cfg.ResponseEncryptionKeyPEM = pubPEM
		c, err := blockpass.NewClient(cfg, e.srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		e.client = c
		return e
	}
	t.Run("round trip", func(t *testing.T) {
		e := encrypted(dashboard)
		c, err := e.client.ByRecordID(context.Background(), sim.SeedRecordID(3))
		if err != nil || c.Identities["given_name"].Value == "" {
			t.Fatalf("encrypted fetch: %v", err)
		}
		page, err := e.client.List(context.Background(), "", 0, 5)
		if err != nil || page.Total != 5 {
			t.Fatalf("encrypted list: %v", err)
		}
	})
	t.Run("plain reply refused", func(t *testing.T) {
		e := encrypted(nil)
		_, err := e.client.List(context.Background(), "", 0, 5)
		if err == nil || !strings.Contains(err.Error(), "not encrypted") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("dashboard cannot unwrap", func(t *testing.T) {
		other, _ := rsa.GenerateKey(rand.Reader, 1024)
		e := encrypted(other)
		var apiErr *providers.APIError
		if _, err := e.client.List(context.Background(), "", 0, 5); !errors.As(err, &apiErr) || apiErr.HTTPStatus != 400 {
			t.Errorf("err = %v", err)
		}
	})
	if !strings.Contains(blockpass.ResponseEncryptionNote, "NOT publicly specified") {
		t.Error("the note must say the scheme is not public")
	}
}

func TestMalformedReplies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"data null", 200, `{"status":"success","data":null}`, "get by recordId: decode response: no data"},
		{"error in a 200", 200, `{"status":"error","message":"Service disabled"}`, "get by recordId: error: Service disabled"},
		{"no recordId", 200, `{"status":"success","data":{"status":"approved"}}`, "reply has no recordId"},
		{"not JSON", 200, `<html>`, "get by recordId: decode response"},
		{"server error", 502, `bad gateway`, "get by recordId: bad gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != testAPIKey || r.URL.Path != "/kyc/1.0/connect/svc/recordId/r1" {
					t.Errorf("request %s with auth %q", r.URL.Path, r.Header.Get("Authorization"))
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			s := &sleeps{}
			c, err := blockpass.NewClient(blockpass.Config{URL: srv.URL, ClientID: "svc", APIKey: testAPIKey}, srv.Client(), blockpass.WithSleep(s.Sleep))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ByRecordID(context.Background(), "r1")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(fmt.Sprint(err), testAPIKey) {
				t.Error("error shows the API key")
			}
		})
	}
}
