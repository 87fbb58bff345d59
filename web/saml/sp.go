package saml

import (
	"context"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	crewsaml "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// The paths the app mounts, relative to Config.BaseURL.
const (
	// MetadataPath serves Metadata (GET).
	MetadataPath = "/saml/metadata"
	// ACSPath is the assertion consumer service: the IdP POSTs its response here (HandleACS).
	ACSPath = "/saml/acs"
	// LoginPath starts SP-initiated sign-in (StartLogin), taking the path to continue to.
	LoginPath = "/saml/login"
)

const (
	// requestTTL is how long an AuthnRequest stays outstanding: long enough for a password and a
	// second factor at the IdP.
	requestTTL = 10 * time.Minute
	// maxIssueDelay is how old an assertion may be when it reaches us (crewjam's default too).
	maxIssueDelay = 90 * time.Second
	// clockSkew is the leeway allowed between the IdP's clock and ours (crewjam's default too).
	clockSkew = 3 * time.Minute
	// metadataValidity is the validUntil we put in our metadata.
	metadataValidity = 48 * time.Hour
)

// SP is KYC Desk's SAML service provider. It is safe for concurrent use; all state that outlives a
// request lives in the stores.
type SP struct {
	cfg Config
	// inner is replaced whole when the IdP metadata is refreshed (SetIDPMetadata), never changed in
	// place: each method loads it once and uses that snapshot throughout, so one request never mixes
	// two versions of the IdP's metadata.
	inner      atomic.Pointer[crewsaml.ServiceProvider]
	requests   RequestStore
	assertions AssertionStore
	now        func() time.Time
}

// New builds the service provider from cfg (BaseURL required, EntityID defaulting to the metadata
// URL), our key pair and the IdP metadata in certs, the stores, and the clock.
func New(cfg Config, certs Certs, stores Stores, now func() time.Time) (*SP, error) {
	base, err := normaliseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("saml: new: base URL: %w", err)
	}
	cfg.BaseURL = base
	if cfg.EntityID == "" {
		cfg.EntityID = cfg.MetadataURL()
	}
	switch {
	case certs.SPCert == nil || certs.SPKey == nil:
		return nil, errors.New("saml: new: SP certificate and key are required")
	case stores.Requests == nil || stores.Assertions == nil:
		return nil, errors.New("saml: new: request and assertion stores are required")
	case now == nil:
		return nil, errors.New("saml: new: clock is required")
	}
	metadataURL, err := url.Parse(cfg.MetadataURL())
	if err != nil {
		return nil, fmt.Errorf("saml: new: metadata URL: %w", err)
	}
	acsURL, err := url.Parse(cfg.ACSURL())
	if err != nil {
		return nil, fmt.Errorf("saml: new: ACS URL: %w", err)
	}
	entityID := cfg.EntityID
	inner := &crewsaml.ServiceProvider{
		EntityID:          entityID,
		Key:               certs.SPKey,
		Certificate:       certs.SPCert,
		MetadataURL:       *metadataURL,
		AcsURL:            *acsURL,
		IDPMetadata:       certs.IDPMetadata,
		AuthnNameIDFormat: crewsaml.UnspecifiedNameIDFormat,
		SignatureMethod:   dsig.RSASHA256SignatureMethod,
		// Left false: the library then requires every SubjectConfirmation's InResponseTo to be one
		// of the IDs HandleACS passes. Whether IdP-initiated sign-in is allowed is HandleACS's call.
		AllowIDPInitiated: false,
		// The library accepts an assertion without any AudienceRestriction; we do not.
		ValidateAudienceRestriction: func(a *crewsaml.Assertion) error { return checkAudience(a, entityID) },
	}
	if err := checkProvider(inner); err != nil {
		return nil, fmt.Errorf("saml: new: %w", err)
	}
	sp := &SP{cfg: cfg, requests: stores.Requests, assertions: stores.Assertions, now: now}
	sp.inner.Store(inner)
	return sp, nil
}

// checkProvider is what New and SetIDPMetadata require of a service provider before using it: IdP
// metadata with signing certificates that all parse (crewjam refuses every response otherwise) and
// an HTTP-Redirect SingleSignOnService (StartLogin's binding), and a key that can sign our requests.
func checkProvider(inner *crewsaml.ServiceProvider) error {
	if inner.IDPMetadata == nil {
		return errors.New("IdP metadata is required")
	}
	if _, err := idpSigningCerts(inner.IDPMetadata); err != nil {
		return fmt.Errorf("IdP metadata: %w", err)
	}
	if inner.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding) == "" {
		return errors.New("IdP metadata has no HTTP-Redirect SingleSignOnService")
	}
	if _, err := crewsaml.GetSigningContext(inner); err != nil {
		return fmt.Errorf("signing context: %w", err)
	}
	return nil
}

// EntityID is our SAML entity ID (also the audience assertions must name).
func (s *SP) EntityID() string { return s.cfg.EntityID }

// MetadataURL is the absolute URL of our metadata.
func (s *SP) MetadataURL() string { return s.cfg.MetadataURL() }

// ACSURL is the absolute URL of our assertion consumer service.
func (s *SP) ACSURL() string { return s.cfg.ACSURL() }

// IDPEntityID is the entity ID of the IdP we trust.
func (s *SP) IDPEntityID() string { return s.inner.Load().IDPMetadata.EntityID }

// IDPCertificates returns the IdP signing certificates from its current metadata, for the admin
// page.
func (s *SP) IDPCertificates() []*x509.Certificate {
	// checkProvider made sure every one parses.
	certs, _ := idpSigningCerts(s.inner.Load().IDPMetadata)
	return certs
}

// idpSigningCerts parses the signing certificates in md the way crewjam picks them (KeyDescriptors
// whose use is "signing" or unset), failing if there is none or one does not parse.
func idpSigningCerts(md *crewsaml.EntityDescriptor) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, d := range md.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				cert, err := parseBase64Cert(c.Data)
				if err != nil {
					return nil, fmt.Errorf("signing certificate: %w", err)
				}
				certs = append(certs, cert)
			}
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("no signing certificate")
	}
	return certs, nil
}

// Metadata returns our SP metadata XML. It advertises only the HTTP-POST ACS binding (we resolve no
// artifacts) and only a signing key: we publish no encryption key, so IdPs send assertions in the
// clear over TLS and no XML-encryption oracle is exposed.
func (s *SP) Metadata() []byte {
	ed := s.inner.Load().Metadata()
	validUntil := s.now().UTC().Add(metadataValidity)
	ed.ValidUntil = validUntil
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		d.ValidUntil = &validUntil
		var keys []crewsaml.KeyDescriptor
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "signing" {
				keys = append(keys, kd)
			}
		}
		d.KeyDescriptors = keys
		var acs []crewsaml.IndexedEndpoint
		for _, e := range d.AssertionConsumerServices {
			if e.Binding == crewsaml.HTTPPostBinding {
				acs = append(acs, e)
			}
		}
		d.AssertionConsumerServices = acs
	}
	// Marshalling this fixed struct type cannot fail for any value New accepts.
	buf, _ := xml.MarshalIndent(ed, "", "  ")
	return append([]byte(xml.Header), buf...)
}

// Login is a started SP-initiated sign-in: where to send the browser, and the cookie that binds
// the IdP's answer to that browser.
type Login struct {
	// RedirectURL is the IdP URL to redirect the browser to.
	RedirectURL string
	// BindingCookie holds the binding secret (see BindingCookieName); set it on the same response
	// as the redirect. Its secret is not kept anywhere else: never log it.
	BindingCookie *http.Cookie
}

// StartLogin records a new AuthnRequest in the RequestStore, bound to a fresh random secret of
// which only the hash is stored, and returns the IdP URL to redirect the browser to (HTTP-Redirect
// binding, query signed with RSA-SHA256) with the cookie that hands the secret to the browser.
// relayState is where to go after sign-in; anything but a same-origin relative path (see
// ValidRelayState) becomes "/".
func (s *SP) StartLogin(ctx context.Context, relayState string) (Login, error) {
	relayState = safeRelayState(relayState)
	now := s.now().UTC()
	inner := s.inner.Load()
	req, err := inner.MakeAuthenticationRequest(
		inner.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding),
		crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding)
	if err != nil {
		return Login{}, fmt.Errorf("saml: start login: make request: %w", err)
	}
	req.IssueInstant = now
	secret, hash, err := newBinding()
	if err != nil {
		return Login{}, fmt.Errorf("saml: start login: %w", err)
	}
	if err := s.requests.Save(ctx, req.ID, relayState, hash, now.Add(requestTTL)); err != nil {
		return Login{}, fmt.Errorf("saml: start login: save request: %w", err)
	}
	// crewjam appends RelayState to the query unescaped (and signs that query), so escape it here.
	u, err := req.Redirect(url.QueryEscape(relayState), inner)
	if err != nil {
		return Login{}, fmt.Errorf("saml: start login: redirect: %w", err)
	}
	return Login{RedirectURL: u.String(), BindingCookie: s.bindingCookie(secret, int(requestTTL/time.Second))}, nil
}
