package saml_test

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	crewsaml "github.com/crewjam/saml"

	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

// TestSP exercises the SP's own endpoints against one IdP and SP.
func TestSP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	t.Run("StartLogin", func(t *testing.T) { testStartLogin(t, h) })
	t.Run("Metadata", func(t *testing.T) { testMetadata(t, h) })
	t.Run("HandleACS bad input", func(t *testing.T) { testHandleACSBadInput(t, h) })
}

func testStartLogin(t *testing.T, h *harness) {
	tests := []struct{ relay, stored string }{
		{"/applicants?status=open&q=a+b", "/applicants?status=open&q=a+b"},
		{"/", "/"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/x", "/"},
		{`/\evil.example`, "/"},
		{"/%2F%2Fevil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"applicants", "/"},
		{"/a\r\nSet-Cookie: x=1", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.relay, func(t *testing.T) {
			login, err := h.sp.StartLogin(context.Background(), tt.relay)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(login.RedirectURL)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != h.idp.SSOURL {
				t.Errorf("redirects to %s, want the IdP SSO URL %s", got, h.idp.SSOURL)
			}
			q := u.Query()
			if q.Get("RelayState") != tt.stored {
				t.Errorf("RelayState sent = %q, want %q", q.Get("RelayState"), tt.stored)
			}
			if q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
				t.Errorf("SigAlg = %q, want RSA-SHA256", q.Get("SigAlg"))
			}
			signed, _, ok := strings.Cut(u.RawQuery, "&Signature=")
			sig, err := base64.StdEncoding.DecodeString(q.Get("Signature"))
			if !ok || err != nil {
				t.Fatalf("no Signature in %s", u.RawQuery)
			}
			digest := sha256.Sum256([]byte(signed))
			if err := rsa.VerifyPKCS1v15(h.spCert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
				t.Errorf("query signature does not verify with the SP certificate: %v", err)
			}

			req := inflateRequest(t, q.Get("SAMLRequest"))
			if req.AssertionConsumerServiceURL != h.sp.ACSURL() || req.Issuer.Value != h.sp.EntityID() || req.Destination != h.idp.SSOURL {
				t.Errorf("AuthnRequest ACS %q issuer %q destination %q", req.AssertionConsumerServiceURL, req.Issuer.Value, req.Destination)
			}
			if d := time.Since(req.IssueInstant); d < -time.Second || d > time.Minute {
				t.Errorf("IssueInstant %v is not the SP clock's now", req.IssueInstant)
			}
			stored, binding, ok, err := h.requests.Take(context.Background(), req.ID, h.clock.Now())
			if err != nil || !ok || stored != tt.stored {
				t.Errorf("request store holds %q (ok %v, err %v), want %q", stored, ok, err, tt.stored)
			}
			// Only the secret's hash is stored; the secret goes to the browser alone.
			secret := login.BindingCookie.Value
			if sum := sha256.Sum256([]byte(secret)); binding != hex.EncodeToString(sum[:]) || strings.Contains(binding, secret) {
				t.Errorf("request store holds binding %q, want the hex SHA-256 of the cookie's secret", binding)
			}
			if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
				t.Errorf("binding secret %q is not 32 bytes of base64url (%v)", secret, err)
			}
			if _, _, ok, _ := h.requests.Take(context.Background(), req.ID, h.clock.Now()); ok {
				t.Error("request ID could be taken twice")
			}
		})
	}
}

func inflateRequest(t *testing.T, encoded string) crewsaml.AuthnRequest {
	t.Helper()
	compressed, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("SAMLRequest base64: %v", err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
	if err != nil {
		t.Fatalf("SAMLRequest inflate: %v", err)
	}
	var req crewsaml.AuthnRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		t.Fatalf("SAMLRequest XML: %v", err)
	}
	return req
}

func testMetadata(t *testing.T, h *harness) {
	h.clock.Set(24 * time.Hour)
	t.Cleanup(func() { h.clock.Set(0) })
	var ed crewsaml.EntityDescriptor
	if err := xml.Unmarshal(h.sp.Metadata(), &ed); err != nil {
		t.Fatalf("metadata does not parse: %v", err)
	}
	if ed.EntityID != h.app.URL+"/saml/metadata" {
		t.Errorf("entityID = %q, want the metadata URL", ed.EntityID)
	}
	if d := time.Until(ed.ValidUntil); d < 71*time.Hour || d > 73*time.Hour {
		t.Errorf("validUntil %v is not 48 h after the SP clock", ed.ValidUntil)
	}
	if len(ed.SPSSODescriptors) != 1 {
		t.Fatalf("%d SPSSODescriptors, want 1", len(ed.SPSSODescriptors))
	}
	d := ed.SPSSODescriptors[0]
	if len(d.AssertionConsumerServices) != 1 || d.AssertionConsumerServices[0].Binding != crewsaml.HTTPPostBinding ||
		d.AssertionConsumerServices[0].Location != h.app.URL+"/saml/acs" {
		t.Errorf("ACS endpoints = %+v, want only HTTP-POST at /saml/acs", d.AssertionConsumerServices)
	}
	if len(d.KeyDescriptors) != 1 || d.KeyDescriptors[0].Use != "signing" {
		t.Errorf("key descriptors = %+v, want one signing key and no encryption key", d.KeyDescriptors)
	}
	if d.AuthnRequestsSigned == nil || !*d.AuthnRequestsSigned {
		t.Error("AuthnRequestsSigned is not true")
	}
	if certs := h.sp.IDPCertificates(); len(certs) != 1 || !certs[0].Equal(h.idp.Certificate) || h.sp.IDPEntityID() != h.idp.MetadataURL {
		t.Errorf("IdP as the SP sees it: %q with %d certificates", h.sp.IDPEntityID(), len(certs))
	}
}

func testHandleACSBadInput(t *testing.T, h *harness) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	form := func(v url.Values) string { return v.Encode() }
	bomb := deflateZeros(t, 16<<20) // inflates past crewjam's own 10 MB cap
	tests := []struct {
		name, method, contentType, target, body string
		want                                    error // nil means ErrMalformed
		preParse                                bool  // middleware parsed the form first
	}{
		{"GET", http.MethodGet, "", "/saml/acs", "", nil, false},
		{"redirect binding deflate bomb", http.MethodGet, "", "/saml/acs?SAMLResponse=" + url.QueryEscape(bomb), "", nil, false},
		{"wrong content type", http.MethodPost, "application/json", "/saml/acs", `{"SAMLResponse":"x"}`, nil, false},
		{"empty body", http.MethodPost, formType, "/saml/acs", "", nil, false},
		{"two SAMLResponse", http.MethodPost, formType, "/saml/acs", "SAMLResponse=a&SAMLResponse=b", nil, false},
		{"artifact binding", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLart": {"AAQAAM"}, "SAMLResponse": {"x"}}), nil, false},
		{"not base64", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {"%%%not base64"}}), nil, false},
		{"garbage bytes", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64("\x00\xff\xfe garbage")}}), nil, false},
		{"not a Response", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64(`<html><body>hi</body></html>`)}}), nil, false},
		{"unsigned Response", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"/>`)}}), saml.ErrSignature, false},
		{"entity expansion", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>`)}}), nil, false},
		{"deep nesting", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` + strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000) + `</samlp:Response>`)}}), nil, false},
		{"wide signed-looking Response", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>` + strings.Repeat("<a b='c'/>", 15000) + `</samlp:Response>`)}}), saml.ErrInvalid, false},
		{"two roots", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></samlp:Response><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)}}), nil, false},
		{"empty document", http.MethodPost, formType, "/saml/acs", form(url.Values{"SAMLResponse": {b64(`<?xml version="1.0"?>`)}}), nil, false},
		{"huge body", http.MethodPost, formType, "/saml/acs", "SAMLResponse=" + strings.Repeat("A", saml.MaxACSBodyBytes+1), nil, false},
		{"huge body parsed by middleware", http.MethodPost, formType, "/saml/acs", "SAMLResponse=" + strings.Repeat("A", saml.MaxACSBodyBytes+1), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			if tt.preParse {
				if err := r.ParseForm(); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := h.sp.HandleACS(context.Background(), r)
			var e *saml.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a typed refusal", err)
			}
			want := tt.want
			if want == nil {
				want = saml.ErrMalformed
			}
			wantKind(t, err, want)
		})
	}
}

const formType = "application/x-www-form-urlencoded"

// deflateZeros returns the base64 of n zero bytes deflated: a few KiB that inflate to n.
func deflateZeros(t *testing.T, n int) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeroReader{}, int64(n)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestNewRefusesIncompleteSetup(t *testing.T) {
	t.Parallel()
	idp := samltest.StartIdP(t, samltest.Options{})
	md := loadMetadata(t, idp)
	cert, key := samltest.KeyPair(t, "sp")
	good := saml.Certs{SPCert: cert, SPKey: key, IDPMetadata: md}
	stores := saml.Stores{Requests: saml.NewMemoryRequestStore(), Assertions: saml.NewMemoryAssertionStore(time.Now)}
	cfg := saml.Config{IDPMetadata: idp.MetadataURL, BaseURL: "https://kyc.example.com"}
	if sp, err := saml.New(cfg, good, stores, time.Now); err != nil || sp.EntityID() != "https://kyc.example.com/saml/metadata" {
		t.Fatalf("good setup: %v", err)
	}
	tests := []struct {
		name   string
		cfg    saml.Config
		certs  saml.Certs
		stores saml.Stores
		now    func() time.Time
	}{
		{"no base URL", saml.Config{}, good, stores, time.Now},
		{"relative base URL", saml.Config{BaseURL: "/kyc"}, good, stores, time.Now},
		{"no SP key", cfg, saml.Certs{SPCert: cert, IDPMetadata: md}, stores, time.Now},
		{"no IdP metadata", cfg, saml.Certs{SPCert: cert, SPKey: key}, stores, time.Now},
		{"no assertion store", cfg, good, saml.Stores{Requests: stores.Requests}, time.Now},
		{"no clock", cfg, good, stores, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := saml.New(tt.cfg, tt.certs, tt.stores, tt.now); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}
