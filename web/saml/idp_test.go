package saml_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	crewsaml "github.com/crewjam/saml"

	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

func TestSignInSPInitiated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	var responseXML []byte
	res, page := h.signIn(t, "/applicants?status=open&page=2", func(action string, form url.Values) {
		if action == saml.ACSPath {
			responseXML, _ = base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
		}
	})
	if res.err != nil {
		t.Fatalf("HandleACS: %v", res.err)
	}
	if page.Status != http.StatusOK || page.URL.RequestURI() != "/applicants?status=open&page=2" {
		t.Fatalf("landed on %s (status %d), want /applicants?status=open&page=2", page.URL, page.Status)
	}
	id := res.identity
	if id.NameID != alice.NameID || id.Email != alice.Email || id.Issuer != h.idp.MetadataURL {
		t.Errorf("identity = %q %q %q, want %q %q %q", id.NameID, id.Email, id.Issuer, alice.NameID, alice.Email, h.idp.MetadataURL)
	}
	if got := id.AttributeValues(saml.DefaultRoleAttribute); !slices.Equal(got, alice.Groups) {
		t.Errorf("groups = %v, want %v", got, alice.Groups)
	}
	if until := time.Until(id.SessionNotOnOrAfter); until < 7*time.Hour || until > 9*time.Hour {
		t.Errorf("SessionNotOnOrAfter %v is not about 8 h away", id.SessionNotOnOrAfter)
	}
	rules, err := saml.ParseRoleMap("kyc-admins=admin,kyc-checkers=checker")
	if err != nil {
		t.Fatal(err)
	}
	if role, ok := saml.RoleFor(id, saml.RoleMapping{Attribute: saml.DefaultRoleAttribute, Rules: rules}); !ok || role != "checker" {
		t.Errorf("RoleFor = %q, %v; want checker", role, ok)
	}
	if n := h.requests.Len(); n != 0 {
		t.Errorf("%d AuthnRequests still outstanding, want 0 (taken once)", n)
	}
	if !bytes.Contains(responseXML, []byte(`Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"`)) ||
		bytes.Contains(responseXML, []byte("xmldsig#rsa-sha1")) {
		t.Error("the IdP response is not signed with RSA-SHA256 only")
	}

	t.Run("second sign-in reuses the IdP session", func(t *testing.T) {
		c := samltest.NewClient(alice.Username, alice.Password)
		if _, err := c.Get(context.Background(), h.app.URL+saml.LoginPath); err != nil {
			t.Fatal(err)
		}
		if res := h.result(t); res.err != nil {
			t.Fatalf("first sign-in: %v", res.err)
		}
		c.Credentials = nil // the IdP must not show its login form again
		page, err := c.Get(context.Background(), h.app.URL+saml.LoginPath+"?next=/reviews")
		if err != nil {
			t.Fatal(err)
		}
		if res := h.result(t); res.err != nil || page.URL.Path != "/reviews" {
			t.Fatalf("second sign-in: err %v, landed on %s", res.err, page.URL)
		}
	})
	t.Run("form already parsed by middleware", func(t *testing.T) {
		h.preParse.Store(true)
		t.Cleanup(func() { h.preParse.Store(false) })
		if res, page := h.signIn(t, "/x", nil); res.err != nil || page.URL.Path != "/x" {
			t.Fatalf("err %v, landed on %s", res.err, page.URL)
		}
	})
	t.Run("replayed response refused", func(t *testing.T) {
		var captured url.Values
		res, _ := h.signIn(t, "/", func(action string, form url.Values) {
			if action == saml.ACSPath {
				captured = cloneValues(form)
			}
		})
		if res.err != nil {
			t.Fatalf("first use refused: %v", res.err)
		}
		c := samltest.NewClient("", "")
		page, err := c.PostForm(context.Background(), h.app.URL+saml.ACSPath, captured)
		if err != nil {
			t.Fatal(err)
		}
		wantKind(t, h.result(t).err, saml.ErrReplay)
		if page.Status != http.StatusForbidden {
			t.Errorf("replay answered %d, want 403", page.Status)
		}
	})
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	acs := func(f func(form url.Values)) func(string, url.Values) {
		return func(action string, form url.Values) {
			if action == saml.ACSPath {
				f(form)
			}
		}
	}
	editResponse := func(edit func(xml string) string) func(string, url.Values) {
		return acs(func(form url.Values) {
			raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
			if err != nil {
				t.Errorf("decode SAMLResponse: %v", err)
				return
			}
			form.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(edit(string(raw)))))
		})
	}
	tests := []struct {
		name   string
		setup  func()
		tamper func(action string, form url.Values)
		want   error
	}{
		{
			name:   "tampered signature",
			tamper: editResponse(func(x string) string { return strings.ReplaceAll(x, "alice@example.com", "mallory@example.com") }),
			want:   saml.ErrSignature,
		},
		{
			name:   "signature value flipped",
			tamper: editResponse(flipSignatureValue),
			want:   saml.ErrSignature,
		},
		{
			name:  "signed by a certificate not in the IdP metadata",
			setup: func() { h.idp.SetSignWithUnlistedKey(true) },
			want:  saml.ErrSignature,
		},
		{
			name: "wrong audience",
			setup: func() {
				h.idp.SetMutate(func(a *crewsaml.Assertion) {
					a.Conditions.AudienceRestrictions = []crewsaml.AudienceRestriction{{Audience: crewsaml.Audience{Value: "https://other.example/saml/metadata"}}}
				})
			},
			want: saml.ErrAudience,
		},
		{
			name: "second audience restriction for someone else",
			setup: func() {
				h.idp.SetMutate(func(a *crewsaml.Assertion) {
					a.Conditions.AudienceRestrictions = append(a.Conditions.AudienceRestrictions,
						crewsaml.AudienceRestriction{Audience: crewsaml.Audience{Value: "https://other.example/"}})
				})
			},
			want: saml.ErrAudience,
		},
		{
			name:  "missing audience",
			setup: func() { h.idp.SetMutate(func(a *crewsaml.Assertion) { a.Conditions.AudienceRestrictions = nil }) },
			want:  saml.ErrAudience,
		},
		{
			name:  "expired: IdP clock an hour behind",
			setup: func() { h.idp.SetTimeShift(-time.Hour) },
			want:  saml.ErrExpired,
		},
		{
			name:  "not yet valid: IdP clock an hour ahead",
			setup: func() { h.idp.SetTimeShift(time.Hour) },
			want:  saml.ErrExpired,
		},
		{
			name:   "expired: SP clock an hour ahead when the response arrives",
			tamper: acs(func(url.Values) { h.clock.Set(time.Hour) }),
			want:   saml.ErrExpired,
		},
		{
			name:   "not yet valid: SP clock an hour behind when the response arrives",
			tamper: acs(func(url.Values) { h.clock.Set(-time.Hour) }),
			want:   saml.ErrExpired,
		},
		{
			name:   "wrong InResponseTo",
			tamper: forgeRequestID(t),
			want:   saml.ErrInResponseTo,
		},
		{
			name:   "off-site RelayState",
			tamper: acs(func(form url.Values) { form.Set("RelayState", "https://evil.example/") }),
			want:   saml.ErrRelayState,
		},
		{
			name:   "scheme-relative RelayState",
			tamper: acs(func(form url.Values) { form.Set("RelayState", "//evil.example/") }),
			want:   saml.ErrRelayState,
		},
		{
			name:  "encrypted assertion",
			setup: func() { h.idp.SetEncryptAssertions(true) },
			want:  saml.ErrInvalid,
		},
		{
			name: "no bearer subject confirmation",
			setup: func() {
				h.idp.SetMutate(func(a *crewsaml.Assertion) { a.Subject.SubjectConfirmations = nil })
			},
			want: saml.ErrInvalid,
		},
		{
			name: "recipient is not our ACS",
			setup: func() {
				h.idp.SetMutate(func(a *crewsaml.Assertion) {
					a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://other.example/acs"
				})
			},
			want: saml.ErrInvalid,
		},
		{
			name:  "assertion without Conditions does not crash",
			setup: func() { h.idp.SetMutate(func(a *crewsaml.Assertion) { a.Conditions = nil }) },
			want:  saml.ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() {
				h.idp.SetSignWithUnlistedKey(false)
				h.idp.SetMutate(nil)
				h.idp.SetTimeShift(0)
				h.idp.SetEncryptAssertions(false)
				h.clock.Set(0)
			})
			if tt.setup != nil {
				tt.setup()
			}
			res, page := h.signIn(t, "/applicants", tt.tamper)
			t.Logf("refused: %v", res.err)
			wantKind(t, res.err, tt.want)
			if page.Status != http.StatusForbidden || !strings.Contains(string(page.Body), saml.UserMessage(tt.want)) {
				t.Errorf("refusal page: status %d, body %q", page.Status, page.Body)
			}
		})
	}
}

// flipSignatureValue changes one character of the first SignatureValue.
func flipSignatureValue(x string) string {
	i := strings.Index(x, "SignatureValue>")
	if i < 0 {
		return x
	}
	i += len("SignatureValue>")
	c := byte('A')
	if x[i] == 'A' {
		c = 'B'
	}
	return x[:i] + string(c) + x[i+1:]
}

// forgeRequestID changes the ID of the AuthnRequest the IdP's login form carries, so the IdP
// answers a request the SP never sent.
func forgeRequestID(t *testing.T) func(string, url.Values) {
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

func TestIDPInitiated(t *testing.T) {
	t.Parallel()
	t.Run("refused when disabled", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		c := samltest.NewClient(alice.Username, alice.Password)
		if _, err := c.Get(context.Background(), h.idp.InitiateURL(h.sp.EntityID(), "/applicants")); err != nil {
			t.Fatal(err)
		}
		wantKind(t, h.result(t).err, saml.ErrIDPInitiated)
	})

	h := newHarness(t, harnessOptions{allowIDPInitiated: true})
	var captured url.Values
	c := samltest.NewClient(alice.Username, alice.Password)
	c.Tamper = func(action *url.URL, form url.Values) {
		if action.Path == saml.ACSPath {
			captured = cloneValues(form)
		}
	}
	page, err := c.Get(context.Background(), h.idp.InitiateURL(h.sp.EntityID(), "/applicants/42"))
	if err != nil {
		t.Fatal(err)
	}
	res := h.result(t)
	if res.err != nil || res.identity.NameID != alice.NameID || page.URL.Path != "/applicants/42" {
		t.Fatalf("IdP-initiated sign-in: err %v, NameID %q, landed on %s", res.err, res.identity.NameID, page.URL)
	}

	t.Run("replay refused", func(t *testing.T) {
		if _, err := samltest.NewClient("", "").PostForm(context.Background(), h.app.URL+saml.ACSPath, captured); err != nil {
			t.Fatal(err)
		}
		wantKind(t, h.result(t).err, saml.ErrReplay)
	})
	t.Run("off-site RelayState refused", func(t *testing.T) {
		if _, err := c.Get(context.Background(), h.idp.InitiateURL(h.sp.EntityID(), "https://evil.example/")); err != nil {
			t.Fatal(err)
		}
		wantKind(t, h.result(t).err, saml.ErrRelayState)
	})
	t.Run("no RelayState lands on /", func(t *testing.T) {
		page, err := c.Get(context.Background(), h.idp.InitiateURL(h.sp.EntityID(), ""))
		if err != nil {
			t.Fatal(err)
		}
		if res := h.result(t); res.err != nil || res.relay != "/" || page.URL.Path != "/" {
			t.Fatalf("err %v, relay %q, landed on %s", res.err, res.relay, page.URL)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}
