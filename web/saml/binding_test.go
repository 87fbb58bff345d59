package saml_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

// TestBrowserBinding checks that a response is accepted only from the browser that started its
// sign-in: the login CSRF defence.
func TestBrowserBinding(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	acsURL, err := url.Parse(h.sp.ACSURL())
	if err != nil {
		t.Fatal(err)
	}
	// atACS runs f with the browser's cookie jar just before it posts the response to the ACS.
	atACS := func(c *samltest.Client, f func(jar http.CookieJar)) {
		c.Tamper = func(action *url.URL, _ url.Values) {
			if action.Path == saml.ACSPath {
				f(c.HTTP.Jar)
			}
		}
	}
	setBinding := func(jar http.CookieJar, value string) {
		jar.SetCookies(acsURL, []*http.Cookie{{Name: saml.BindingCookieName, Value: value, Path: saml.ACSPath}})
	}
	dropBinding := func(jar http.CookieJar) {
		jar.SetCookies(acsURL, []*http.Cookie{{Name: saml.BindingCookieName, Path: saml.ACSPath, MaxAge: -1}})
	}
	bindingOf := func(jar http.CookieJar) string {
		for _, c := range jar.Cookies(acsURL) {
			if c.Name == saml.BindingCookieName {
				return c.Value
			}
		}
		return ""
	}

	t.Run("the browser that started the sign-in is accepted", func(t *testing.T) {
		c := samltest.NewClient(alice.Username, alice.Password)
		sent := ""
		atACS(c, func(jar http.CookieJar) { sent = bindingOf(jar) })
		page, err := c.Get(context.Background(), h.app.URL+saml.LoginPath+"?next=/reviews")
		if err != nil {
			t.Fatal(err)
		}
		if res := h.result(t); res.err != nil || page.URL.Path != "/reviews" {
			t.Fatalf("err %v, landed on %s", res.err, page.URL)
		}
		if sent == "" {
			t.Error("the browser posted the response without a binding cookie, and it was accepted")
		}
		if left := bindingOf(c.HTTP.Jar); left != "" {
			t.Error("the binding cookie outlived the sign-in it bound")
		}
	})

	refusals := []struct {
		name   string
		before func(t *testing.T, jar http.CookieJar)
	}{
		{"no binding cookie", func(_ *testing.T, jar http.CookieJar) { dropBinding(jar) }},
		{"binding cookie of another sign-in", func(t *testing.T, jar http.CookieJar) {
			// The attacker's case in reverse: a cookie this SP really issued, for another request.
			other, err := h.sp.StartLogin(context.Background(), "/")
			if err != nil {
				t.Fatal(err)
			}
			setBinding(jar, other.BindingCookie.Value)
		}},
		{"tampered binding cookie", func(t *testing.T, jar http.CookieJar) {
			v := []byte(bindingOf(jar))
			if len(v) == 0 {
				t.Fatal("no binding cookie to tamper with")
			}
			v[0] ^= 1
			setBinding(jar, string(v))
		}},
		{"empty binding cookie", func(_ *testing.T, jar http.CookieJar) { setBinding(jar, "") }},
	}
	for _, tt := range refusals {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			c := samltest.NewClient(alice.Username, alice.Password)
			atACS(c, func(jar http.CookieJar) { tt.before(t, jar) })
			page, err := c.Get(context.Background(), h.app.URL+saml.LoginPath+"?next=/reviews")
			if err != nil {
				t.Fatal(err)
			}
			res := h.result(t)
			wantKind(t, res.err, saml.ErrUnbound)
			if res.identity.NameID != "" {
				t.Errorf("a refusal returned identity %q", res.identity.NameID)
			}
			if page.Status != http.StatusForbidden || !strings.Contains(string(page.Body), saml.UserMessage(saml.ErrUnbound)) {
				t.Errorf("refusal page: status %d, body %q", page.Status, page.Body)
			}
		})
	}

	t.Run("a response refused for its binding cannot be retried with the right cookie", func(t *testing.T) {
		outstanding := h.requests.Len()
		c := samltest.NewClient(alice.Username, alice.Password)
		var form url.Values
		var cookie string
		c.Tamper = func(action *url.URL, f url.Values) {
			if action.Path == saml.ACSPath {
				form = cloneValues(f)
				cookie = bindingOf(c.HTTP.Jar)
				dropBinding(c.HTTP.Jar)
			}
		}
		if _, err := c.Get(context.Background(), h.app.URL+saml.LoginPath); err != nil {
			t.Fatal(err)
		}
		wantKind(t, h.result(t).err, saml.ErrUnbound)
		if cookie == "" || form == nil {
			t.Fatal("nothing captured at the ACS")
		}
		if n := h.requests.Len(); n != outstanding {
			t.Errorf("%d requests outstanding after the refusal, want %d: the refused one must be used up", n, outstanding)
		}

		setBinding(c.HTTP.Jar, cookie)
		page, err := c.PostForm(context.Background(), h.app.URL+saml.ACSPath, form)
		if err != nil {
			t.Fatal(err)
		}
		// The assertion was remembered on the first post, so the second is reported as a replay.
		wantKind(t, h.result(t).err, saml.ErrReplay)
		if page.Status != http.StatusForbidden {
			t.Errorf("retry answered %d, want 403", page.Status)
		}
	})
}

// TestBindingCookie pins the binding cookie's attributes over http and https.
func TestBindingCookie(t *testing.T) {
	t.Parallel()
	idp := samltest.StartIdP(t, samltest.Options{})
	md := loadMetadata(t, idp)
	cert, key := samltest.KeyPair(t, "sp")
	tests := []struct {
		base     string
		path     string
		secure   bool
		sameSite http.SameSite
	}{
		// Over https the IdP's cross-site POST must carry the cookie: SameSite=None needs Secure.
		{"https://kyc.example.com", "/saml/acs", true, http.SameSiteNoneMode},
		{"https://example.com/kyc/", "/kyc/saml/acs", true, http.SameSiteNoneMode},
		// Browsers refuse SameSite=None without Secure: plain http gets Lax (same-site IdP only).
		{"http://127.0.0.1:8080", "/saml/acs", false, http.SameSiteLaxMode},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			sp, err := saml.New(saml.Config{IDPMetadata: idp.MetadataURL, BaseURL: tt.base},
				saml.Certs{SPCert: cert, SPKey: key, IDPMetadata: md},
				saml.Stores{Requests: saml.NewMemoryRequestStore(), Assertions: saml.NewMemoryAssertionStore(time.Now)}, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			login, err := sp.StartLogin(context.Background(), "/")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []*http.Cookie{login.BindingCookie, sp.ClearBindingCookie()} {
				if c.Name != saml.BindingCookieName || c.Path != tt.path || !c.HttpOnly || c.Secure != tt.secure ||
					c.SameSite != tt.sameSite || c.Domain != "" {
					t.Errorf("cookie %s", c)
				}
			}
			if c := login.BindingCookie; c.MaxAge != 600 || len(c.Value) != 43 {
				t.Errorf("binding cookie Max-Age %d, value of %d characters; want 600 (the request's lifetime), 43", c.MaxAge, len(c.Value))
			}
			if c := sp.ClearBindingCookie(); c.MaxAge >= 0 || c.Value != "" {
				t.Errorf("clearing cookie %s does not delete it", c)
			}
			again, _ := sp.StartLogin(context.Background(), "/")
			if again.BindingCookie.Value == login.BindingCookie.Value {
				t.Error("two sign-ins got the same binding secret")
			}
		})
	}
}
