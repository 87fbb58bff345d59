package flow

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

// bpClock is a settable clock shared by the store, the service and the
// simulator.
type bpClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *bpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *bpClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bpEnv is a Blockpass simulator, a client for it, a real store and the
// flow service over them.
type bpEnv struct {
	clock  *bpClock
	db     *db.DB
	sim    *sim.Server
	client *blockpass.Client
	svc    *Service
	sleeps *[]time.Duration
}

// bpOptions vary newBPEnv.
type bpOptions struct {
	simCfg     sim.Config
	clientCfg  blockpass.Config
	clientOpts []blockpass.Option
}

const bpArchiveAfter = time.Hour

func newBPEnv(t testing.TB, o bpOptions) *bpEnv {
	t.Helper()
	clock := &bpClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "kycdesk.db"), db.Options{KEK: kek, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })

	cfg := o.simCfg
	cfg.Now = clock.Now
	if cfg.APIKey == "" {
		cfg.APIKey = "test-api-key"
	}
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = "test-webhook-secret"
	}
	if cfg.ArchiveAfter == 0 {
		cfg.ArchiveAfter = bpArchiveAfter
	}
	s := sim.New(cfg)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	var mu sync.Mutex
	sleeps := []time.Duration{}
	opts := append([]blockpass.Option{blockpass.WithSleep(func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		sleeps = append(sleeps, d)
		return ctx.Err()
	})}, o.clientOpts...)
	ccfg := o.clientCfg
	ccfg.URL, ccfg.ClientID, ccfg.APIKey, ccfg.WebhookSecret = srv.URL, s.ClientID(), cfg.APIKey, cfg.WebhookSecret
	c, err := blockpass.NewClient(ccfg, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	reg := providers.NewRegistry(&providers.Adapter{Name: providers.Blockpass, Mode: providers.Sandbox, BaseURL: srv.URL,
		Starter: c, Refresher: c, Verifier: c})
	svc := New(Service{DB: d, Registry: reg, Inbound: map[providers.Name]InboundHandler{providers.Blockpass: BlockpassInbound(c)},
		BaseURL: "http://kycdesk.test", Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &bpEnv{clock: clock, db: d, sim: s, client: c, svc: svc, sleeps: &sleeps}
}

// sync runs one sync to the end.
func (e *bpEnv) sync(t *testing.T) db.SyncCounts {
	t.Helper()
	counts, err := e.svc.SyncBlockpass(context.Background(), e.client, 0, nil)
	if err != nil {
		t.Fatalf("sync: %v (counts %+v)", err, counts)
	}
	return counts
}

// record is the stored state of a candidate.
func (e *bpEnv) record(t *testing.T, recordID string) db.BlockpassRecord {
	t.Helper()
	r, err := e.db.BlockpassRecord(context.Background(), recordID)
	if err != nil {
		t.Fatalf("record %s: %v", recordID, err)
	}
	return r
}

func (e *bpEnv) timeline(t *testing.T, applicantID int64) []db.Event {
	t.Helper()
	events, err := e.db.Timeline(context.Background(), applicantID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func (e *bpEnv) applicantCount(t *testing.T) int {
	t.Helper()
	n := 0
	var after db.Cursor
	for {
		page, err := e.db.ListApplicants(context.Background(), db.ApplicantFilter{After: after, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Rows)
		if page.Next.IsZero() {
			return n
		}
		after = page.Next
	}
}

// deliverAll passes every webhook the simulator queued (it sends none:
// no URL) through the real receive path: verify, store, process.
func (e *bpEnv) deliverAll(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, d := range e.sim.Deliveries() {
		del, err := e.client.VerifyInbound(d.Header, d.Body, e.clock.Now())
		if err != nil {
			t.Fatalf("webhook %s: %v", d.Event, err)
		}
		if _, _, err := e.svc.Accept(ctx, Inbound{Provider: providers.Blockpass, Endpoint: "webhooks/blockpass", Delivery: del,
			Header: d.Header, ContentType: "application/json", Body: d.Body}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	items, err := e.db.ListInbox(ctx, db.InboxFilter{FailedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		t.Errorf("webhook %s not processed: %s", it.Event, it.Error)
	}
}
