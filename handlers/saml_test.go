package handlers

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	crewsaml "github.com/crewjam/saml"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

// IdP accounts of the SSO tests.
var (
	ssoAlice = samltest.User{Username: "alice", Password: "alice-pw", NameID: "alice-7f3a", Email: "alice@corp.example",
		Groups: []string{"staff", "kyc-checkers"}}
	ssoMallory = samltest.User{Username: "mallory", Password: "mallory-pw", NameID: "mallory-01", Email: "mallory@corp.example",
		Groups: []string{"marketing"}}
	// ssoImpostor's email is the harness's local admin's.
	ssoImpostor = samltest.User{Username: "impostor", Password: "impostor-pw", NameID: "impostor-9", Email: "admin@example.com",
		Groups: []string{"kyc-admins"}}
)

// ssoApp is the handler test app with SAML configured against a real IdP
// in the test process, its stores in the app's database.
type ssoApp struct {
	*testApp
	idp *samltest.IdP
	sp  *saml.SP
}

func newSSOApp(t *testing.T) *ssoApp {
	t.Helper()
	ctx := context.Background()
	app := newTestApp(t)
	idp := samltest.StartIdP(t, samltest.Options{Users: []samltest.User{ssoAlice, ssoMallory, ssoImpostor}})
	cfg := saml.Config{IDPMetadata: idp.MetadataURL, BaseURL: app.srv.URL, RoleAttribute: saml.DefaultRoleAttribute}
	md, err := saml.LoadIDPMetadata(ctx, nil, cfg.IDPMetadata)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := samltest.KeyPair(t, "kycdesk handler test SP")
	// crewjam checks times against the wall clock, so the SP runs on it
	// (the app's own clock stays pinned for everything else).
	sp, err := saml.New(cfg, saml.Certs{SPCert: cert, SPKey: key, IDPMetadata: md},
		saml.Stores{Requests: app.db.SAMLRequests(), Assertions: app.db.SAMLAssertions(time.Now)}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	app.h.deps.SAML, app.h.deps.SAMLConfig, app.h.deps.SSO = sp, cfg, true
	idp.TrustSP(sp.MetadataURL())
	if _, err := app.db.SeedRoleRules(ctx, "kyc-checkers=checker,kyc-admins=admin",
		[]db.RoleRuleInput{{Value: "kyc-checkers", Role: "checker"}, {Value: "kyc-admins", Role: "admin"}}, db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	return &ssoApp{testApp: app, idp: idp, sp: sp}
}

// signIn runs a full SP-initiated sign-in from the app's sign-in page's SSO
// button, as a fresh browser that signs in at the IdP as u.
func (a *ssoApp) signIn(t *testing.T, u samltest.User, tamper func(action string, form url.Values)) (*samltest.Client, *samltest.Page) {
	t.Helper()
	c := samltest.NewClient(u.Username, u.Password)
	if tamper != nil {
		c.Tamper = func(action *url.URL, form url.Values) { tamper(action.Path, form) }
	}
	return c, a.signInWith(t, c, "/applicants?status=approved")
}

func (a *ssoApp) signInWith(t *testing.T, c *samltest.Client, next string) *samltest.Page {
	t.Helper()
	ctx := context.Background()
	login, err := c.Get(ctx, a.srv.URL+"/login?next="+url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	doc := parseBody(t, login.Body)
	href, ok := doc.Find(`[data-testid="sso-login"]`).Attr("href")
	if !ok {
		t.Fatalf("the sign-in page has no SSO button:\n%s", login.Body)
	}
	page, err := c.Get(ctx, a.srv.URL+href)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// refusals returns the auth.saml_refused audit entries, newest first.
func (a *ssoApp) refusals(t *testing.T) []db.AuditEntry {
	return a.auditActions(t, "auth.saml_refused")
}

func TestSSOSignInThroughTheRouter(t *testing.T) {
	app := newSSOApp(t)
	ctx := context.Background()

	var captured url.Values
	c, page := app.signIn(t, ssoAlice, func(action string, form url.Values) {
		if action == saml.ACSPath {
			captured = cloneForm(form)
		}
	})
	if page.Status != http.StatusOK || page.URL.RequestURI() != "/applicants?status=approved" {
		t.Fatalf("landed on %s (%d), want the requested list page", page.URL, page.Status)
	}
	if who := parseBody(t, page.Body).Find(`[data-testid="whoami"]`).Text(); who != "alice@corp.example · Checker" {
		t.Errorf("signed in as %q", who)
	}
	if v := bindingCookie(t, c, app.sp); v != "" {
		t.Error("the binding cookie outlived the sign-in it bound")
	}
	u, err := app.db.UserByEmail(ctx, ssoAlice.Email)
	if err != nil || u.Role != "checker" || u.PasswordHash != "" {
		t.Fatalf("provisioned user %+v, %v", u, err)
	}
	if es := app.auditActions(t, "user.provision"); len(es) != 1 || es[0].Object != "user:"+itoa(u.ID) {
		t.Errorf("provision audit entries %+v", es)
	}
	logins := app.auditActions(t, "auth.login")
	if len(logins) == 0 || logins[0].ActorID != u.ID || !strings.HasPrefix(logins[0].Detail, "method=saml session_not_after=") {
		t.Errorf("login audit entry %+v", logins)
	}
	all, _ := app.db.ListAudit(ctx, db.AuditFilter{Limit: 500})
	for _, e := range all {
		if strings.Contains(e.Actor+e.Object+e.Detail, ssoAlice.NameID) {
			t.Errorf("audit entry holds the NameID: %+v", e)
		}
	}

	t.Run("every sign-in gets a new session and ends the old one", func(t *testing.T) {
		appURL, _ := url.Parse(app.srv.URL)
		before := c.HTTP.Jar.Cookies(appURL)
		c.Credentials = nil // the IdP session is reused: no login form
		page, err := c.Get(ctx, app.srv.URL+saml.LoginPath+"?next=%2Fapplicants")
		if err != nil {
			t.Fatal(err)
		}
		if page.Status != http.StatusOK || page.URL.Path != "/applicants" {
			t.Fatalf("second sign-in landed on %s (%d)", page.URL, page.Status)
		}
		if after := c.HTTP.Jar.Cookies(appURL); sameCookies(before, after) {
			t.Error("the session cookie did not change")
		}
		replay := app.client()
		replay.http.Jar.SetCookies(appURL, before)
		if resp := replay.get("/applicants"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the session before the new sign-in still works: %d", resp.StatusCode)
		}
	})
	t.Run("a replayed response is refused with a page and an audit entry", func(t *testing.T) {
		n := len(app.refusals(t))
		page, err := samltest.NewClient("", "").PostForm(ctx, app.srv.URL+saml.ACSPath, captured)
		if err != nil {
			t.Fatal(err)
		}
		wantRefused(t, app, page, n, "replay", saml.UserMessage(saml.ErrReplay))
	})
	t.Run("the role follows the IdP group", func(t *testing.T) {
		admin := app.signedIn(authz.Admin)
		rules, _ := app.db.RoleRules(ctx)
		for _, r := range rules {
			if r.Value == "kyc-checkers" {
				admin.postForm("/admin/sso/rules/"+itoa(r.ID)+"/delete", nil)
			}
		}
		admin.postForm("/admin/sso/rules", url.Values{"value": {"staff"}, "role": {"auditor"}})
		_, page := app.signIn(t, ssoAlice, nil)
		if who := parseBody(t, page.Body).Find(`[data-testid="whoami"]`).Text(); who != "alice@corp.example · External auditor" {
			t.Errorf("after the rules changed, signed in as %q", who)
		}
	})
	t.Run("a disabled user is refused", func(t *testing.T) {
		admin := app.signedIn(authz.Admin)
		u, _ := app.db.UserByEmail(ctx, ssoAlice.Email)
		if resp := admin.postForm("/admin/users/"+itoa(u.ID)+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", resp.StatusCode)
		}
		n := len(app.refusals(t))
		_, page := app.signIn(t, ssoAlice, nil)
		wantRefused(t, app, page, n, "disabled", "disabled")
		if got := app.refusals(t)[0].Object; got != "user:"+itoa(u.ID) {
			t.Errorf("refusal names %q", got)
		}
	})
}

// wantRefused checks the page a refusal shows (403 with a message) and that
// exactly one new auth.saml_refused entry of kind was written.
func wantRefused(t *testing.T, app *ssoApp, page *samltest.Page, before int, kind, message string) {
	t.Helper()
	if page.Status != http.StatusForbidden {
		t.Errorf("status %d, want 403 (at %s)", page.Status, page.URL)
	}
	msg := parseBody(t, page.Body).Find(`[data-testid="sso-refused"]`).Text()
	if !strings.Contains(msg, message) {
		t.Errorf("refusal page says %q, want it to contain %q", msg, message)
	}
	wantOnlyBindingCleared(t, page.Header)
	es := app.refusals(t)
	if len(es) != before+1 {
		t.Fatalf("%d new refusal entries, want 1", len(es)-before)
	}
	if es[0].Detail != "kind="+kind || es[0].Actor != "anonymous" || es[0].IP == "" {
		t.Errorf("refusal entry %+v, want kind=%s", es[0], kind)
	}
}

func TestSSORefusals(t *testing.T) {
	app := newSSOApp(t)
	ctx := context.Background()
	atACS := func(f func(form url.Values)) func(string, url.Values) {
		return func(action string, form url.Values) {
			if action == saml.ACSPath {
				f(form)
			}
		}
	}
	editResponse := func(edit func(string) string) func(string, url.Values) {
		return atACS(func(form url.Values) {
			raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
			if err != nil {
				t.Errorf("decode SAMLResponse: %v", err)
				return
			}
			form.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(edit(string(raw)))))
		})
	}
	tests := []struct {
		name    string
		user    samltest.User
		setup   func()
		tamper  func(string, url.Values)
		kind    string
		message string
	}{
		{name: "tampered signature", tamper: editResponse(func(x string) string { return strings.ReplaceAll(x, "kyc-checkers", "kyc-admins") }),
			kind: "signature", message: saml.UserMessage(saml.ErrSignature)},
		{name: "signed by a certificate not in the IdP metadata", setup: func() { app.idp.SetSignWithUnlistedKey(true) },
			kind: "signature", message: saml.UserMessage(saml.ErrSignature)},
		{name: "wrong audience", kind: "audience", message: saml.UserMessage(saml.ErrAudience), setup: func() {
			app.idp.SetMutate(func(a *crewsaml.Assertion) {
				a.Conditions.AudienceRestrictions = []crewsaml.AudienceRestriction{{Audience: crewsaml.Audience{Value: "https://other.example/saml/metadata"}}}
			})
		}},
		{name: "missing audience", kind: "audience", message: saml.UserMessage(saml.ErrAudience), setup: func() {
			app.idp.SetMutate(func(a *crewsaml.Assertion) { a.Conditions.AudienceRestrictions = nil })
		}},
		{name: "expired", setup: func() { app.idp.SetTimeShift(-time.Hour) }, kind: "expired", message: saml.UserMessage(saml.ErrExpired)},
		{name: "not yet valid", setup: func() { app.idp.SetTimeShift(time.Hour) }, kind: "expired", message: saml.UserMessage(saml.ErrExpired)},
		{name: "wrong InResponseTo", tamper: forgeAuthnRequestID(t), kind: "in_response_to", message: saml.UserMessage(saml.ErrInResponseTo)},
		{name: "off-site RelayState", tamper: atACS(func(form url.Values) { form.Set("RelayState", "https://evil.example/") }),
			kind: "relay_state", message: saml.UserMessage(saml.ErrRelayState)},
		{name: "no role rule matches", user: ssoMallory, kind: "no_role", message: "no access"},
		{name: "email of a password account", user: ssoImpostor, kind: "identity_conflict", message: "already exists"},
		{name: "IdP session already ended", kind: "session_ended", message: "already ended", setup: func() {
			ended := app.now.Add(-time.Minute)
			app.idp.SetMutate(func(a *crewsaml.Assertion) { a.AuthnStatements[0].SessionNotOnOrAfter = &ended })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() {
				app.idp.SetSignWithUnlistedKey(false)
				app.idp.SetMutate(nil)
				app.idp.SetTimeShift(0)
			})
			if tt.setup != nil {
				tt.setup()
			}
			user := tt.user
			if user.Username == "" {
				user = ssoAlice
			}
			staff, _ := app.db.ListStaff(ctx)
			n := len(app.refusals(t))
			_, page := app.signIn(t, user, tt.tamper)
			wantRefused(t, app, page, n, tt.kind, tt.message)
			if after, _ := app.db.ListStaff(ctx); len(after) != len(staff) {
				t.Errorf("a refused sign-in provisioned a user")
			}
		})
	}
}

func TestSSOBadInput(t *testing.T) {
	app := newSSOApp(t)
	var bomb bytes.Buffer
	w, _ := flate.NewWriter(&bomb, flate.BestCompression)
	w.Write(bytes.Repeat([]byte("<a>"), 4<<20)) // 12 MiB inflated from a few KiB
	w.Close()
	deflated := base64.StdEncoding.EncodeToString(bomb.Bytes())
	huge := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("<x/>"), 1<<18)) // > 256 KiB encoded

	tests := []struct {
		name string
		do   func(c *client) *http.Response
	}{
		{"garbage", func(c *client) *http.Response {
			return c.postRaw(saml.ACSPath, url.Values{"SAMLResponse": {"%%% not base64 %%%"}})
		}},
		{"not XML", func(c *client) *http.Response {
			return c.postRaw(saml.ACSPath, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte("hello"))}})
		}},
		{"huge body", func(c *client) *http.Response {
			return c.postRaw(saml.ACSPath, url.Values{"SAMLResponse": {huge}})
		}},
		{"deflate bomb on the redirect binding", func(c *client) *http.Response {
			return c.get(saml.ACSPath + "?SAMLResponse=" + url.QueryEscape(deflated) + "&RelayState=%2F")
		}},
		{"deflate bomb posted", func(c *client) *http.Response {
			return c.postRaw(saml.ACSPath, url.Values{"SAMLResponse": {deflated}})
		}},
		{"empty", func(c *client) *http.Response { return c.postRaw(saml.ACSPath, url.Values{}) }},
		{"artifact binding", func(c *client) *http.Response {
			return c.postRaw(saml.ACSPath, url.Values{"SAMLart": {"AAQAAMh48/1oXIM+sDo7Dh2qMp1HM4IF5DaRNmDj6RdUmllwn9jJHyEgIi8="}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(app.refusals(t))
			resp := tt.do(app.client())
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
			if msg := parse(t, resp).Find(`[data-testid="sso-refused"]`).Text(); msg != saml.UserMessage(saml.ErrMalformed) {
				t.Errorf("page says %q", msg)
			}
			es := app.refusals(t)
			if len(es) != n+1 || es[0].Detail != "kind=malformed" {
				t.Errorf("refusal entries: %d new, newest %+v", len(es)-n, es[0])
			}
			wantOnlyBindingCleared(t, resp.Header)
		})
	}
}

func TestSSOEndpointsWithoutSAML(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	for _, path := range []string{saml.MetadataPath, saml.LoginPath, saml.ACSPath} {
		if resp := c.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without SAML: %d, want 404", path, resp.StatusCode)
		}
	}
	if doc := parse(t, c.get("/login")); doc.Find(`[data-testid="sso-login"]`).Length() != 0 {
		t.Error("the sign-in page offers SSO that is not configured")
	}
}

func TestSSOMetadataAndLogin(t *testing.T) {
	app := newSSOApp(t)
	c := app.client()
	resp := c.get(saml.MetadataPath)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("metadata: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var ed crewsaml.EntityDescriptor
	if err := xml.NewDecoder(resp.Body).Decode(&ed); err != nil || ed.EntityID != app.srv.URL+saml.MetadataPath {
		t.Fatalf("metadata entity %q: %v", ed.EntityID, err)
	}
	resp = c.get(saml.LoginPath + "?next=" + url.QueryEscape("https://evil.example/"))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), app.idp.SSOURL) {
		t.Fatalf("login: %d to %q, want the IdP", resp.StatusCode, resp.Header.Get("Location"))
	}
	if rs := loc.Query().Get("RelayState"); rs != "/applicants" {
		t.Errorf("off-site next became RelayState %q, want /applicants", rs)
	}
	if sig := loc.Query().Get("SigAlg"); sig != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
		t.Errorf("SigAlg %q", sig)
	}

	// The login hands the browser the binding secret: only to the ACS,
	// never to scripts, for as long as the request is outstanding. The test
	// server is plain http, so SameSite=Lax without Secure (SameSite=None
	// would need Secure).
	var binding *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == saml.BindingCookieName {
			binding = ck
		}
	}
	if binding == nil {
		t.Fatalf("login set no %s cookie: %q", saml.BindingCookieName, resp.Header.Values("Set-Cookie"))
	}
	if !binding.HttpOnly || binding.Path != "/saml/acs" || binding.SameSite != http.SameSiteLaxMode || binding.Secure ||
		binding.MaxAge != 600 || binding.Domain != "" || len(binding.Value) != 43 {
		t.Errorf("binding cookie %q, want HttpOnly, Path=/saml/acs, SameSite=Lax, not Secure, Max-Age=600, 32 bytes base64url",
			resp.Header.Values("Set-Cookie"))
	}
	// The database holds the secret's SHA-256 with the request, not the secret.
	req := inflateAuthnRequest(t, loc.Query().Get("SAMLRequest"))
	_, stored, ok, err := app.db.SAMLRequests().Take(context.Background(), req.ID, time.Now())
	sum := sha256.Sum256([]byte(binding.Value))
	if err != nil || !ok || stored != hex.EncodeToString(sum[:]) {
		t.Errorf("stored binding %q (ok %v, err %v), want the hex SHA-256 of the cookie", stored, ok, err)
	}
}

// TestSSOLoginCSRF plays login CSRF through the router: a response that
// answers a real sign-in is refused when the browser posting it is not the
// one that started that sign-in.
func TestSSOLoginCSRF(t *testing.T) {
	app := newSSOApp(t)
	ctx := context.Background()
	wantSignedOut := func(t *testing.T, c *samltest.Client) {
		t.Helper()
		page, err := c.Get(ctx, app.srv.URL+"/applicants")
		if err != nil {
			t.Fatal(err)
		}
		if page.URL.Path != "/login" {
			t.Errorf("after the refusal the browser reached %s, want the sign-in page", page.URL)
		}
	}

	t.Run("the attacker's response posted from the victim's browser", func(t *testing.T) {
		// The attacker signs in at the IdP in their own browser and keeps
		// the response instead of posting it (an empty SAMLResponse is
		// refused before the request is looked at).
		var stolen url.Values
		app.signIn(t, ssoAlice, func(action string, form url.Values) {
			if action == saml.ACSPath && stolen == nil {
				stolen = cloneForm(form)
				form.Set("SAMLResponse", "")
			}
		})
		if stolen == nil {
			t.Fatal("no response captured")
		}
		// A page of the attacker's makes the victim's browser post it.
		victim := samltest.NewClient("", "")
		n := len(app.refusals(t))
		page, err := victim.PostForm(ctx, app.srv.URL+saml.ACSPath, stolen)
		if err != nil {
			t.Fatal(err)
		}
		wantRefused(t, app, page, n, "unbound_response", "This sign-in response was not started in this browser. Start the sign-in again from the KYC Desk sign-in page.")
		wantSignedOut(t, victim)
		if _, err := app.db.UserByEmail(ctx, ssoAlice.Email); err == nil {
			t.Error("the refused response provisioned the attacker's account")
		}
	})
	t.Run("a browser that lost the binding cookie", func(t *testing.T) {
		c := samltest.NewClient(ssoAlice.Username, ssoAlice.Password)
		c.Tamper = func(action *url.URL, _ url.Values) {
			if action.Path == saml.ACSPath {
				c.HTTP.Jar.SetCookies(action, []*http.Cookie{{Name: saml.BindingCookieName, Path: "/saml/acs", MaxAge: -1}})
			}
		}
		n := len(app.refusals(t))
		page := app.signInWith(t, c, "/applicants")
		wantRefused(t, app, page, n, "unbound_response", saml.UserMessage(saml.ErrUnbound))
		wantSignedOut(t, c)
	})
	t.Run("the browser that started the sign-in", func(t *testing.T) {
		c, page := app.signIn(t, ssoAlice, nil)
		if page.Status != http.StatusOK || page.URL.Path != "/applicants" {
			t.Fatalf("landed on %s (%d)", page.URL, page.Status)
		}
		if who := parseBody(t, page.Body).Find(`[data-testid="whoami"]`).Text(); who != "alice@corp.example · Checker" {
			t.Errorf("signed in as %q", who)
		}
		if v := bindingCookie(t, c, app.sp); v != "" {
			t.Error("the binding cookie outlived the sign-in it bound")
		}
	})
}

// bindingCookie returns the binding cookie c would send to the ACS.
func bindingCookie(t *testing.T, c *samltest.Client, sp *saml.SP) string {
	t.Helper()
	acs, err := url.Parse(sp.ACSURL())
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.HTTP.Jar.Cookies(acs) {
		if ck.Name == saml.BindingCookieName {
			return ck.Value
		}
	}
	return ""
}

// wantOnlyBindingCleared fails if a refusal set any cookie but the one
// deleting the binding cookie: a refused sign-in must not start a session.
func wantOnlyBindingCleared(t *testing.T, h http.Header) {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil || ck.Name != saml.BindingCookieName || ck.MaxAge >= 0 || ck.Path != "/saml/acs" {
			t.Errorf("a refusal set cookie %q", line)
		}
	}
}

func inflateAuthnRequest(t *testing.T, encoded string) crewsaml.AuthnRequest {
	t.Helper()
	compressed, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
	if err != nil {
		t.Fatal(err)
	}
	var req crewsaml.AuthnRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

// forgeAuthnRequestID changes the ID of the AuthnRequest the IdP's login
// form carries, so the IdP answers a request the SP never sent.
func forgeAuthnRequestID(t *testing.T) func(string, url.Values) {
	return func(_ string, form url.Values) {
		if !form.Has("SAMLRequest") {
			return
		}
		raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLRequest"))
		if err != nil {
			t.Errorf("decode SAMLRequest: %v", err)
			return
		}
		var req crewsaml.AuthnRequest
		if err := xml.Unmarshal(raw, &req); err != nil {
			t.Errorf("parse SAMLRequest: %v", err)
			return
		}
		forged := strings.Replace(string(raw), `ID="`+req.ID+`"`, `ID="id-forged0123456789"`, 1)
		form.Set("SAMLRequest", base64.StdEncoding.EncodeToString([]byte(forged)))
	}
}

func cloneForm(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

func sameCookies(a, b []*http.Cookie) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

// parseBody parses an HTML page the SAML test client fetched.
func parseBody(t *testing.T, body []byte) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestSSORefusalFloodIsNotAudited: junk posted to the ACS in a loop is
// audited up to the per-minute budget, then answered 429 and only counted,
// so it can neither fill the audit log nor hold its write connection.
func TestSSORefusalFloodIsNotAudited(t *testing.T) {
	app := newSSOApp(t)
	junk := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte("junk"))}}
	before := len(app.refusals(t))
	for i := range acsRefusalsAudited {
		if resp := app.client().postRaw(saml.ACSPath, junk); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("refusal %d: status %d, want 403", i+1, resp.StatusCode)
		}
	}
	for range 5 {
		resp := app.client().postRaw(saml.ACSPath, junk)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("over the budget: status %d, want 429", resp.StatusCode)
		}
		if !strings.Contains(parse(t, resp).Text(), "Too many failed sign-ins") {
			t.Error("the 429 page does not say why")
		}
	}
	if n := len(app.refusals(t)) - before; n != acsRefusalsAudited {
		t.Errorf("%d refusals audited, want %d", n, acsRefusalsAudited)
	}
}

func TestRefusalBudgetWindow(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	b := newRefusalBudget(2, time.Minute, func() time.Time { return now })
	steps := []struct {
		addr            string
		advance         time.Duration
		within, firstOv bool
	}{
		{"a", 0, true, false},
		{"a", 0, true, false},
		{"b", 0, true, false}, // another address has its own budget
		{"a", 0, false, true},
		{"a", 0, false, false},
		{"a", time.Minute, true, false}, // a new window forgets
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		within, firstOver := b.take(s.addr)
		if within != s.within || firstOver != s.firstOv {
			t.Errorf("step %d (%s): within=%v firstOver=%v, want %v %v", i, s.addr, within, firstOver, s.within, s.firstOv)
		}
	}
}
