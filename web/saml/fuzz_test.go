package saml_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

// FuzzACS feeds HandleACS arbitrary response XML and RelayState. It must never panic, must refuse
// with a typed *saml.Error (the in-memory stores cannot fail), and may only accept a response that
// names alice and continues to a same-origin path. The seeds include a genuine signed response
// whose request is still outstanding, posted with that request's binding cookie.
func FuzzACS(f *testing.F) {
	h := newHarness(f, harnessOptions{})
	var genuine []byte
	var binding []*http.Cookie
	c := samltest.NewClient(alice.Username, alice.Password)
	c.Tamper = func(action *url.URL, form url.Values) {
		if action.Path == saml.ACSPath {
			genuine, _ = base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
			binding = c.HTTP.Jar.Cookies(action)
			form.Set("SAMLResponse", "") // refused before the request is taken, so the seed stays valid
		}
	}
	if _, err := c.Get(context.Background(), h.app.URL+saml.LoginPath); err != nil {
		f.Fatal(err)
	}
	if len(genuine) == 0 || len(binding) == 0 {
		f.Fatal("no response or binding cookie captured")
	}
	f.Add(genuine, "/applicants")
	f.Add(genuine, "https://evil.example/")
	f.Add([]byte(strings.Replace(string(genuine), "alice", "mallory", 1)), "/")
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="x"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></samlp:Response>`), "/")
	f.Add([]byte("not xml"), "")
	f.Add([]byte{}, "//evil")

	f.Fuzz(func(t *testing.T, responseXML []byte, relayState string) {
		body := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(responseXML)}}
		if relayState != "" {
			body.Set("RelayState", relayState)
		}
		r := httptest.NewRequest(http.MethodPost, saml.ACSPath, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range binding {
			r.AddCookie(c)
		}
		id, relay, err := h.sp.HandleACS(context.Background(), r)
		if err != nil {
			var e *saml.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error: %v", err)
			}
			if saml.UserMessage(err) == "" {
				t.Fatal("empty user message")
			}
			return
		}
		if id.NameID != alice.NameID || !saml.ValidRelayState(relay) {
			t.Fatalf("accepted NameID %q with relay %q", id.NameID, relay)
		}
	})
}
