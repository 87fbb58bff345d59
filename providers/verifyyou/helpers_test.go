package verifyyou

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers/verifyyou/sim"
)

const (
	testAPIKey = "test-api-key"
	testSecret = "test-webhook-secret"
)

// clock is a settable clock shared by the adapter and the simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func noSleep(context.Context, time.Duration) error { return nil }

// env is a simulator served over HTTP and a client pointed at it.
type env struct {
	clock  *clock
	sim    *sim.Server
	srv    *httptest.Server
	client *Client
}

// newEnv starts a simulator (cfg's defaults: test key and secret, the
// shared clock, instant retries) and a client for it.
func newEnv(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	clk := newClock()
	if cfg.APIKey == "" {
		cfg.APIKey = testAPIKey
	}
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = testSecret
	}
	cfg.Now = clk.Now
	cfg.Sleep = noSleep
	// The listener exists before the server starts, so the simulator can
	// know its own public URL.
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	s := sim.New(cfg)
	srv.Config.Handler = s
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(srv.URL, testAPIKey, clk)
	return &env{clock: clk, sim: s, srv: srv, client: c}
}

func newClient(url, key string, clk *clock) *Client {
	c := New(Config{URL: url, APIKey: key, WebhookSecret: testSecret}, nil, clk.Now)
	c.api.Sleep = noSleep
	return c
}
