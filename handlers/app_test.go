package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/password"
)

// testApp is the real router over a real SQLite database, with one user
// per role.
type testApp struct {
	t     *testing.T
	db    *db.DB
	srv   *httptest.Server
	users map[authz.Role]db.User
	now   time.Time
	h     *Handlers
	sims  *testSims
	flow  *flow.Service
}

func (a *testApp) handlers() *Handlers { return a.h }

const testPassword = "correct horse battery staple"

// testOptions vary the harness for a test.
type testOptions struct {
	Now         time.Time       // the pinned clock (default 2026-11-20 12:00 UTC)
	CorePassKey []byte          // a pinned connector key instead of the simulator's
	IDfy        idfyTestOptions // IDfy webhook secret, allow-list, encrypted mode
	// SelfKeyOrigins restricts the Origins SelfKey wallets may send.
	SelfKeyOrigins []string
}

func newTestApp(t *testing.T) *testApp { return newTestAppWith(t, testOptions{}) }

func newTestAppWith(t *testing.T, opts testOptions) *testApp {
	t.Helper()
	ctx := context.Background()
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	if !opts.Now.IsZero() {
		now = opts.Now
	}
	clock := func() time.Time { return now }
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "kycdesk.db"), db.Options{KEK: kek, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	app := &testApp{t: t, db: d, users: map[authz.Role]db.User{}, now: now}
	hash, _ := password.Hash(testPassword)
	for _, r := range authz.Roles {
		u, err := d.CreateUser(ctx, string(r)+"@example.com", string(r), hash, db.AuditEntry{Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		app.users[r] = u
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The server starts first so the simulators know where to call back.
	var router http.Handler = http.NotFoundHandler()
	app.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { router.ServeHTTP(w, r) }))
	t.Cleanup(app.srv.Close)
	app.sims = newTestSims(t, app.srv.URL, clock, opts)
	app.flow = flow.New(flow.Service{DB: d, Registry: app.sims.registry, Inbound: app.sims.inbound, BaseURL: app.srv.URL, Now: clock, Logger: logger})
	h := New(Deps{DB: d, Logger: logger, Now: clock, Sandbox: true, LocalLogin: true,
		Registry: app.sims.registry, Flow: app.flow, SandboxMounts: app.sims.mounts, SelfKey: app.sims.selfKey.service(t, d)})
	limits := db.SessionLimits{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
	s, err := web.New(web.Config{
		BaseURL:       "http://127.0.0.1",
		SessionKeys:   [][]byte{seal.NewKey(), seal.NewKey()},
		Sandbox:       true,
		Limits:        web.SessionLimits{Idle: limits.Idle, Absolute: limits.Absolute},
		Logger:        logger,
		LookupSession: h.LookupSession(limits),
		ErrorPage:     h.ErrorPage,
		OnDenied:      h.OnDenied,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.SetWeb(s)
	h.Mount(s)
	app.h = h
	router = s.Echo
	return app
}

// client is a browser-like HTTP client with its own cookie jar that does
// not follow redirects (tests look at them).
type client struct {
	app  *testApp
	http *http.Client
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{app: a, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn returns a client signed in as the role's user.
func (a *testApp) signedIn(r authz.Role) *client {
	a.t.Helper()
	c := a.client()
	resp := c.postForm("/login", url.Values{"email": {a.users[r].Email}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: status %d", r, resp.StatusCode)
	}
	return c
}

func (c *client) get(path string, header ...string) *http.Response {
	c.app.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.app.t.Fatal(err)
	}
	c.app.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// csrf fetches a page to obtain the session's CSRF token.
func (c *client) csrf() string {
	c.app.t.Helper()
	resp := c.get("/login")
	doc := parse(c.app.t, resp)
	tok, _ := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if tok == "" {
		// Signed in: /login redirects; take the token from a staff page.
		doc = parse(c.app.t, c.get("/applicants"))
		tok, _ = doc.Find(`input[name="_csrf"]`).First().Attr("value")
	}
	return tok
}

// postForm posts with the session's CSRF token added.
func (c *client) postForm(path string, form url.Values) *http.Response {
	c.app.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf())
	}
	return c.postRaw(path, form)
}

func (c *client) postRaw(path string, form url.Values) *http.Response {
	c.app.t.Helper()
	resp, err := c.http.PostForm(c.app.srv.URL+path, form)
	if err != nil {
		c.app.t.Fatal(err)
	}
	c.app.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func parse(t *testing.T, resp *http.Response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func (a *testApp) auditActions(t *testing.T, action string) []db.AuditEntry {
	t.Helper()
	entries, err := a.db.ListAudit(context.Background(), db.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
