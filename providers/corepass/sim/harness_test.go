package sim_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
	"github.com/kycdesk/kycdesk/providers/corepass/sim"
)

// A Core ID the default profile serves, and one configured with nothing
// verified.
const (
	alice  = "ab148af5f9cdad10beddb05fbec4a3bef02577130e56"
	nobody = "ab22b1671b4f7ccc0b16a87514adde84513b6348232e"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// received is one callback as the test receiver saw it after verifying it
// with the adapter pinned to the simulator's key.
type received struct {
	path     string
	delivery providers.Delivery
	update   providers.Update
	err      error
}

type harness struct {
	sim     *sim.Server
	api     *httptest.Server
	adapter *corepass.Client

	rcv *httptest.Server
	mu  sync.Mutex
	got []received
	// dataCode decides the answer to the n-th data callback (1-based).
	dataCode  func(n int) int
	dataCalls int
	delivered chan struct{} // closed on the first data callback answered 200
}

func newHarness(t *testing.T, cfg sim.Config) *harness {
	t.Helper()
	h := &harness{dataCode: func(int) int { return http.StatusOK }, delivered: make(chan struct{})}
	var handler http.Handler
	h.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.api.Close)
	cfg.PublicURL = h.api.URL
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	if cfg.Users == nil {
		cfg.Users = map[string]sim.Profile{nobody: {}}
	}
	h.sim = sim.New(cfg)
	t.Cleanup(h.sim.Close)
	handler = h.sim
	h.adapter = corepass.New(corepass.Config{URL: h.api.URL, PubKey: h.sim.PublicKey()}, h.api.Client(), cfg.Now)

	h.rcv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d, u, err := h.adapter.ParseInbound(r.Header, body, cfg.Now())
		h.mu.Lock()
		h.got = append(h.got, received{r.URL.Path, d, u, err})
		code := http.StatusOK
		if r.URL.Path == "/callbacks/corepass/data" {
			h.dataCalls++
			code = h.dataCode(h.dataCalls)
			if code == http.StatusOK && err == nil {
				select {
				case <-h.delivered:
				default:
					close(h.delivered)
				}
			}
		}
		h.mu.Unlock()
		if err != nil {
			code = http.StatusUnauthorized
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(h.rcv.Close)
	return h
}

func (h *harness) callbacks() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

func (h *harness) qr(t *testing.T, user string, items ...string) (corepass.QR, string) {
	t.Helper()
	qr, err := h.adapter.RequestQR(context.Background(), corepass.QRRequest{
		CoreID: user, Items: items,
		Callback:       h.rcv.URL + "/callbacks/corepass/data",
		StatusCallback: h.rcv.URL + "/callbacks/corepass/status",
	})
	if err != nil {
		t.Fatalf("RequestQR: %v", err)
	}
	prefix := h.api.URL + "/_sim/corepass/transfer/"
	if !strings.HasPrefix(qr.Link, prefix) {
		t.Fatalf("link %q does not point at the simulator's transfer page", qr.Link)
	}
	return qr, strings.TrimPrefix(qr.Link, prefix)
}

// waitDelivered waits (bounded) for a data callback answered 200.
func (h *harness) waitDelivered(t *testing.T) {
	t.Helper()
	select {
	case <-h.delivered:
	case <-time.After(5 * time.Second):
		t.Fatal("the data callback was never delivered")
	}
}

// waitFor polls the simulator (bounded) until cond holds for the transfer.
func (h *harness) waitFor(t *testing.T, id string, cond func(sim.Transfer) bool) sim.Transfer {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr, _ := h.sim.Transfer(id)
		if cond(tr) {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("transfer never reached the expected state: %+v", tr)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
