package saml_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

// alice is the IdP account most tests sign in as.
var alice = samltest.User{
	Username: "alice",
	Password: "correct horse",
	NameID:   "alice-7f3a",
	Email:    "alice@example.com",
	Groups:   []string{"staff", "kyc-checkers"},
}

// offsetClock is the SP's clock in these tests: wall time moved by an offset the test sets. crewjam
// checks times against its own wall clock, so the SP's clock can only be moved relative to it.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time        { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Set(off time.Duration) { c.off.Store(int64(off)) }

// acsResult is what the test app's ACS endpoint saw last.
type acsResult struct {
	identity saml.Identity
	relay    string
	err      error
}

// harness is a real IdP plus a tiny app that mounts the SP's endpoints the way the web package does.
type harness struct {
	idp      *samltest.IdP
	sp       *saml.SP
	app      *httptest.Server
	clock    *offsetClock
	requests *saml.MemoryRequestStore
	spCert   *x509.Certificate
	// preParse makes the ACS endpoint parse the form before HandleACS, as some middleware would.
	preParse atomic.Bool

	mu   sync.Mutex
	last *acsResult
}

type harnessOptions struct {
	allowIDPInitiated bool
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	h := &harness{clock: &offsetClock{}, requests: saml.NewMemoryRequestStore()}
	h.idp = samltest.StartIdP(t, samltest.Options{Users: []samltest.User{alice}, Logf: t.Logf})
	h.app = httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	baseURL := "http://" + h.app.Listener.Addr().String()

	cfg := saml.Config{
		IDPMetadata:       h.idp.MetadataURL,
		BaseURL:           baseURL,
		RoleAttribute:     saml.DefaultRoleAttribute,
		AllowIDPInitiated: opts.allowIDPInitiated,
	}
	md, err := saml.LoadIDPMetadata(context.Background(), nil, cfg.IDPMetadata)
	if err != nil {
		t.Fatalf("load IdP metadata: %v", err)
	}
	cert, key := samltest.KeyPair(t, "kycdesk test SP")
	h.spCert = cert
	h.sp, err = saml.New(cfg, saml.Certs{SPCert: cert, SPKey: key, IDPMetadata: md},
		saml.Stores{Requests: h.requests, Assertions: saml.NewMemoryAssertionStore(h.clock.Now)}, h.clock.Now)
	if err != nil {
		t.Fatalf("new SP: %v", err)
	}
	h.app.Start()
	t.Cleanup(h.app.Close)
	if h.app.URL != baseURL {
		t.Fatalf("app URL %s, want %s", h.app.URL, baseURL)
	}
	h.idp.TrustSP(h.sp.MetadataURL())
	return h
}

// serve mounts the SP endpoints: metadata, sign-in start (?next=, setting the binding cookie), the
// ACS (clearing the binding cookie; 303 to the RelayState on success, 403 with the user message on
// refusal), and a page for everything else.
func (h *harness) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case saml.MetadataPath:
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(h.sp.Metadata())
	case saml.LoginPath:
		login, err := h.sp.StartLogin(r.Context(), r.URL.Query().Get("next"))
		if err != nil {
			http.Error(w, "start login failed", http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, login.BindingCookie)
		http.Redirect(w, r, login.RedirectURL, http.StatusFound)
	case saml.ACSPath:
		if h.preParse.Load() {
			_ = r.ParseForm()
		}
		id, relay, err := h.sp.HandleACS(r.Context(), r)
		http.SetCookie(w, h.sp.ClearBindingCookie())
		h.mu.Lock()
		h.last = &acsResult{identity: id, relay: relay, err: err}
		h.mu.Unlock()
		if err != nil {
			http.Error(w, saml.UserMessage(err), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, relay, http.StatusSeeOther)
	default:
		_, _ = w.Write([]byte("app page " + r.URL.RequestURI()))
	}
}

// result returns what the ACS saw last and forgets it.
func (h *harness) result(t *testing.T) acsResult {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		t.Fatal("the ACS was not reached")
	}
	r := *h.last
	h.last = nil
	return r
}

// signIn runs an SP-initiated sign-in with a fresh browser (so the IdP shows its login form) and
// returns the ACS result and the final page.
func (h *harness) signIn(t *testing.T, next string, tamper func(action string, form url.Values)) (acsResult, *samltest.Page) {
	t.Helper()
	c := samltest.NewClient(alice.Username, alice.Password)
	if tamper != nil {
		c.Tamper = func(action *url.URL, form url.Values) { tamper(action.Path, form) }
	}
	page, err := c.Get(context.Background(), h.app.URL+saml.LoginPath+"?next="+url.QueryEscape(next))
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	return h.result(t), page
}

// wantKind fails unless err is an *saml.Error of kind want.
func wantKind(t *testing.T, err, want error) {
	t.Helper()
	var e *saml.Error
	if !errors.As(err, &e) || !errors.Is(err, want) {
		t.Fatalf("got error %v, want kind %v", err, want)
	}
}
