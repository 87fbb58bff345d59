package verifyyou

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/verifyyou/sim"
)

// receipt is one webhook as our endpoint saw it.
type receipt struct {
	pathEvent string
	delivery  providers.Delivery
	update    providers.Update
	err       error
}

// receiver plays our POST /webhooks/verifyyou/{event}: it verifies with the
// adapter, answers 401/400 on failure, and otherwise fails the first
// failFirst requests with a 500.
type receiver struct {
	mu        sync.Mutex
	verifier  *Verifier
	failFirst int
	got       []receipt
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := receipt{pathEvent: r.PathValue("event")}
	rec.delivery, rec.err = rc.verifier.VerifyInbound(r.Header, body, newClock().Now())
	if rec.err == nil {
		rec.update, rec.err = ParseWebhook(rec.pathEvent, body)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, rec)
	fail := rc.failFirst > 0
	if fail {
		rc.failFirst--
	}
	rc.mu.Unlock()
	switch {
	case errors.Is(rec.err, providers.ErrBadSignature):
		w.WriteHeader(http.StatusUnauthorized)
	case rec.err != nil:
		w.WriteHeader(http.StatusBadRequest)
	case fail:
		w.WriteHeader(http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (rc *receiver) receipts() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.got...)
}

// newWebhookEnv is a simulator whose webhooks go to a receiver verifying
// with receiverSecret.
func newWebhookEnv(t *testing.T, cfg sim.Config, receiverSecret string) (*env, *receiver) {
	t.Helper()
	rc := &receiver{verifier: NewVerifier(receiverSecret)}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/verifyyou/{event}", rc)
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	cfg.WebhookBaseURL = app.URL + "/webhooks/verifyyou"
	return newEnv(t, cfg), rc
}

func TestSimWebhooksVerifyAndParse(t *testing.T) {
	e, rc := newWebhookEnv(t, sim.Config{}, testSecret)
	ctx := context.Background()
	reg, err := e.client.Register(ctx, "ref-0001")
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		event  string
		act    func(context.Context, string) (sim.Delivery, error)
		status providers.Status
	}{
		{"connection_verified", e.sim.Accept, providers.StatusApproved},
		{"connection_deleted", e.sim.Delete, providers.StatusWithdrawn},
		{"connection_verified", e.sim.Accept, providers.StatusApproved},
		{"deverification", e.sim.Deverify, providers.StatusBlocked},
	}
	keys := map[string]bool{}
	for i, st := range steps {
		d, err := st.act(ctx, reg.UniqueID)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !d.Delivered || d.Attempts != 1 || d.Status != http.StatusOK {
			t.Fatalf("step %d: delivery %+v", i, d)
		}
		got := rc.receipts()
		if len(got) != i+1 {
			t.Fatalf("step %d: %d receipts", i, len(got))
		}
		r := got[i]
		if r.err != nil || r.pathEvent != st.event || r.delivery.Event != st.event || !r.delivery.Verified {
			t.Fatalf("step %d: receipt %+v", i, r)
		}
		if r.update.Status != st.status || r.update.Reference != "ref-0001" || r.update.ProviderRef != reg.UniqueID {
			t.Errorf("step %d: update %+v", i, r.update)
		}
		if keys[r.delivery.DeliveryKey] {
			t.Errorf("step %d: delivery key %q reused by a distinct event", i, r.delivery.DeliveryKey)
		}
		keys[r.delivery.DeliveryKey] = true
	}

	// Deverified users cannot reconnect.
	if _, err := e.sim.Accept(ctx, reg.UniqueID); !errors.Is(err, sim.ErrInvalidState) {
		t.Errorf("accept after deverification: err = %v", err)
	}
}

func TestSimWebhookRetries(t *testing.T) {
	tests := []struct {
		name           string
		failFirst      int
		receiverSecret string
		wantDelivered  bool
		wantAttempts   int
		wantStatus     int
	}{
		{name: "first try", failFirst: 0, receiverSecret: testSecret, wantDelivered: true, wantAttempts: 1, wantStatus: 200},
		{name: "two failures then 200", failFirst: 2, receiverSecret: testSecret, wantDelivered: true, wantAttempts: 3, wantStatus: 200},
		{name: "receiver keeps failing", failFirst: 10, receiverSecret: testSecret, wantDelivered: false, wantAttempts: 3, wantStatus: 500},
		{name: "receiver has another secret", receiverSecret: "not-the-secret", wantDelivered: false, wantAttempts: 3, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rc := newWebhookEnv(t, sim.Config{}, tt.receiverSecret)
			rc.failFirst = tt.failFirst
			reg, err := e.client.Register(context.Background(), "ref-0001")
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.sim.Accept(context.Background(), reg.UniqueID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Delivered != tt.wantDelivered || d.Attempts != tt.wantAttempts || d.Status != tt.wantStatus {
				t.Errorf("delivery = %+v", d)
			}
			got := rc.receipts()
			if len(got) != tt.wantAttempts {
				t.Fatalf("%d receipts, want %d", len(got), tt.wantAttempts)
			}
			for _, r := range got {
				if tt.receiverSecret != testSecret {
					if !errors.Is(r.err, providers.ErrBadSignature) {
						t.Errorf("receipt err = %v, want ErrBadSignature", r.err)
					}
					continue
				}
				// Every retry is the same delivery: the inbox stores it once.
				if r.err != nil || r.delivery.DeliveryKey != got[0].delivery.DeliveryKey {
					t.Errorf("receipt %+v differs from the first %+v", r, got[0])
				}
			}
			if u, _ := e.sim.User(reg.UniqueID); !u.Connected {
				t.Error("the connection must stand whatever happened to the webhook")
			}
		})
	}
}

func TestSimReproducesVector(t *testing.T) {
	v := loadVector(t)
	// The simulator draws the unique_id first: these bytes make the
	// vector's uuid (its version and variant bits are already right).
	uuid := []byte{0x7c, 0x4e, 0x2f, 0x8a, 0x1b, 0x3d, 0x4e, 0x5f, 0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x5b}
	e, rc := newWebhookEnv(t, sim.Config{WebhookSecret: v.Secret, OmitTransactionID: true, Rand: io.MultiReader(bytes.NewReader(uuid), zeros{})}, v.Secret)
	reg, err := e.client.Register(context.Background(), "ref-0001")
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.sim.Accept(context.Background(), reg.UniqueID)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Body) != v.Body || d.Signature != v.Signature {
		t.Fatalf("simulator sent %s / %s, want the vector %s / %s", d.Body, d.Signature, v.Body, v.Signature)
	}
	if got := rc.receipts(); len(got) != 1 || got[0].err != nil {
		t.Fatalf("receipts %+v", got)
	}

	// Without a transaction_id, a second acceptance sends the very same
	// bytes and so the same delivery key: the reason to Refresh after
	// webhooks rather than trust their order alone.
	if _, err := e.sim.Delete(context.Background(), reg.UniqueID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Accept(context.Background(), reg.UniqueID); err != nil {
		t.Fatal(err)
	}
	got := rc.receipts()
	if len(got) != 3 || got[2].delivery.DeliveryKey != got[0].delivery.DeliveryKey {
		t.Errorf("seed-only bodies: keys %q and %q", got[0].delivery.DeliveryKey, got[len(got)-1].delivery.DeliveryKey)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
