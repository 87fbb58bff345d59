package idfy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers/idfy/sim"
)

const (
	testAccount  = "123-456-789/123"
	testAPIKey   = "0f0e0d0c-api-key"
	testConfigID = "8e16424a-58fc-4ba4-ab20-5bc8e7c3c41e"
	testReturn   = "https://desk.example.com/v/Zk3p9QxLtoken"
)

// received is one webhook the test receiver got.
type received struct {
	header http.Header
	body   []byte
}

// hookReceiver stands in for KYC Desk's /webhooks/idfy: it records every
// webhook and answers 200.
type hookReceiver struct {
	mu   sync.Mutex
	got  []received
	code int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.got = append(h.got, received{header: r.Header.Clone(), body: body})
	code := h.code
	h.mu.Unlock()
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
}

func (h *hookReceiver) all() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

// testEnv is the adapter wired to a simulator over real HTTP.
type testEnv struct {
	sim    *sim.Server
	srv    *httptest.Server
	client *Client
	clock  *fakeClock
	hooks  *hookReceiver
}

type envOptions struct {
	simKeyID, adapterKeyID string
	simKey, adapterKey     []byte
	secret                 string // shared webhook secret on both sides
	simAPIKey              string // defaults to testAPIKey
}

func newEnv(t *testing.T, o envOptions) *testEnv {
	t.Helper()
	e := &testEnv{clock: newClock(), hooks: &hookReceiver{}}
	hookSrv := httptest.NewServer(e.hooks)
	t.Cleanup(hookSrv.Close)
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	if o.simAPIKey == "" {
		o.simAPIKey = testAPIKey
	}
	e.sim = sim.New(sim.Config{
		PublicURL: e.srv.URL, AccountID: testAccount, APIKey: o.simAPIKey,
		KeyID: o.simKeyID, Key: o.simKey,
		WebhookURL: hookSrv.URL + WebhookPath, WebhookSecret: o.secret,
		Now: e.clock.Now,
	})
	h = e.sim
	c, err := New(Config{
		URL: e.srv.URL, AccountID: testAccount, APIKey: testAPIKey, ConfigID: testConfigID,
		KeyID: o.adapterKeyID, Key: o.adapterKey, WebhookSecret: o.secret, ReturnBaseURL: testReturn,
	}, e.srv.Client(), e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	c.api.Sleep = func(context.Context, time.Duration) error { return nil }
	e.client = c
	return e
}

// browser is an HTTP client that does not follow redirects, so tests see
// where the capture page sends the end user.
func browser() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
