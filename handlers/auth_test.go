package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/kycdesk/kycdesk/web/authz"
)

func TestLocalSignIn(t *testing.T) {
	app := newTestApp(t)
	admin := app.users[authz.Admin]

	t.Run("right password signs in with a new session", func(t *testing.T) {
		c := app.client()
		before := c.csrf()
		resp := c.postForm("/login", url.Values{"email": {admin.Email}, "password": {testPassword}, "next": {"/applicants?status=approved"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/applicants?status=approved" {
			t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if after := c.csrf(); after == before || after == "" {
			t.Fatal("the CSRF token was not rotated at sign-in")
		}
		if got := c.get("/applicants"); got.StatusCode != http.StatusOK {
			t.Fatalf("after sign-in /applicants = %d", got.StatusCode)
		}
	})

	t.Run("off-site next is ignored", func(t *testing.T) {
		c := app.client()
		for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example"} {
			resp := c.postForm("/login", url.Values{"email": {admin.Email}, "password": {testPassword}, "next": {next}})
			if loc := resp.Header.Get("Location"); loc != "/applicants" {
				t.Errorf("next %q redirected to %q", next, loc)
			}
		}
	})

	t.Run("wrong password and unknown account look the same and are audited", func(t *testing.T) {
		c := app.client()
		r1 := c.postForm("/login", url.Values{"email": {app.users[authz.Maker].Email}, "password": {"wrong"}})
		r2 := c.postForm("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong"}})
		for _, r := range []*http.Response{r1, r2} {
			if r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d", r.StatusCode)
			}
			if msg := parse(t, r).Find(`[data-testid="login-error"]`).Text(); msg != genericLoginError {
				t.Fatalf("error %q", msg)
			}
		}
		if n := len(app.auditActions(t, "auth.login_failed")); n < 2 {
			t.Fatalf("%d failed sign-ins audited", n)
		}
	})

	t.Run("repeated failures lock the account", func(t *testing.T) {
		c := app.client()
		email := app.users[authz.Auditor].Email
		for i := 0; i < 5; i++ {
			c.postForm("/login", url.Values{"email": {email}, "password": {"wrong"}})
		}
		resp := c.postForm("/login", url.Values{"email": {email}, "password": {testPassword}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("locked account signed in: %d", resp.StatusCode)
		}
	})

	t.Run("wrong or missing CSRF token changes nothing", func(t *testing.T) {
		c := app.client()
		c.csrf()
		for _, tok := range []string{"", "forged"} {
			resp := c.postRaw("/login", url.Values{"_csrf": {tok}, "email": {admin.Email}, "password": {testPassword}})
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("token %q: status %d", tok, resp.StatusCode)
			}
		}
		if got := c.get("/applicants"); got.StatusCode != http.StatusSeeOther {
			t.Fatal("a sign-in without a valid CSRF token signed in")
		}
	})

	t.Run("tampered cookie is treated as signed out", func(t *testing.T) {
		c := app.signedIn(authz.Admin)
		u, _ := url.Parse(app.srv.URL)
		cookies := c.http.Jar.Cookies(u)
		for _, ck := range cookies {
			ck.Value = ck.Value[:len(ck.Value)-3] + "AAA"
		}
		c.http.Jar.SetCookies(u, cookies)
		resp := c.get("/applicants")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fapplicants" {
			t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("logout ends the session: a replayed cookie gets the sign-in page", func(t *testing.T) {
		c := app.signedIn(authz.Checker)
		u, _ := url.Parse(app.srv.URL)
		old := c.http.Jar.Cookies(u)
		if resp := c.postForm("/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout status %d", resp.StatusCode)
		}
		replay := app.client()
		replay.http.Jar.SetCookies(u, old)
		if resp := replay.get("/applicants"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("replayed cookie after logout: status %d", resp.StatusCode)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(authz.Admin)
	for _, path := range []string{"/login", "/applicants", "/healthz", "/nope"} {
		resp := c.get(path)
		h := resp.Header
		if !contains(h.Get("Content-Security-Policy"), "script-src 'self'") || !contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	// The jar hides cookie attributes: check the raw Set-Cookie.
	resp := app.client().get("/login")
	sc := resp.Header.Get("Set-Cookie")
	if !contains(sc, "HttpOnly") || !contains(sc, "SameSite=Lax") {
		t.Fatalf("session cookie attributes: %q", sc)
	}
}
