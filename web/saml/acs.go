package saml

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	crewsaml "github.com/crewjam/saml"
)

// MaxACSBodyBytes bounds the form body HandleACS reads; a real response is a few KiB.
const MaxACSBodyBytes = 256 << 10

const (
	protocolNS    = "urn:oasis:names:tc:SAML:2.0:protocol"
	assertionNS   = "urn:oasis:names:tc:SAML:2.0:assertion"
	bearerMethod  = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	maxDetailSize = 300
)

// HandleACS verifies the IdP's HTTP-POST to the ACS and returns who signed in and the relative path
// to continue to. Refusals are *Error values whose Kind is one of the Err* sentinels; other errors
// come from the stores.
//
// Beyond what crewjam checks (signature by a certificate in the IdP metadata, issuer, destination,
// recipient, status, validity times), it bounds the body, takes the AuthnRequest the response names
// from the RequestStore (once), requires r to carry the binding cookie StartLogin set for that
// request (BindingCookieName), requires an audience restriction naming us, refuses replayed
// assertion IDs, refuses IdP-initiated responses unless configured, refuses encrypted assertions
// (we publish no encryption key), checks the validity times again against the injected clock, and
// accepts RelayState only as a same-origin relative path. It never inflates anything: the ACS
// accepts only the POST binding, so there is no deflate input to bomb. It sets no cookie: the
// caller clears the binding cookie (ClearBindingCookie) whatever the outcome.
func (s *SP) HandleACS(ctx context.Context, r *http.Request) (Identity, string, error) {
	form, err := readACSForm(r)
	if err != nil {
		return Identity{}, "", err
	}
	encoded := form.Get("SAMLResponse")
	postedRelay := form.Get("RelayState")
	if postedRelay != "" && !ValidRelayState(postedRelay) {
		return Identity{}, "", refuse(ErrRelayState, "RelayState is not a same-origin relative path")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return Identity{}, "", refuse(ErrMalformed, "SAMLResponse is not base64")
	}
	shape, err := peekResponse(raw)
	if err != nil {
		return Identity{}, "", err
	}

	now := s.now().UTC()
	// One snapshot of the service provider for the whole response, so a metadata refresh in between
	// cannot make the signature check and the other checks use different IdP metadata.
	inner := s.inner.Load()
	// The response's InResponseTo is not yet verified here: it only picks which outstanding
	// request to take. Passing it to the library makes it require that every (signed)
	// SubjectConfirmation names the same ID; whether that ID was really outstanding is the
	// taken flag, judged after the signature, so that a replayed response is reported as a
	// replay rather than as an unknown request. The request is taken before the browser binding
	// is checked, so a response posted from the wrong browser uses up its request too and cannot
	// be tried again with the right cookie.
	var storedRelay, storedBinding string
	taken := false
	if shape.inResponseTo != "" {
		storedRelay, storedBinding, taken, err = s.requests.Take(ctx, shape.inResponseTo, now)
		if err != nil {
			return Identity{}, "", fmt.Errorf("saml: acs: take request: %w", err)
		}
	}
	assertion, err := parse(ctx, inner, encoded, []string{shape.inResponseTo})
	if err != nil {
		return Identity{}, "", err
	}
	if err := checkAssertion(inner, assertion, now, shape.inResponseTo); err != nil {
		return Identity{}, "", err
	}
	first, err := s.assertions.Remember(ctx, assertion.ID, replayExpiry(assertion))
	if err != nil {
		return Identity{}, "", fmt.Errorf("saml: acs: remember assertion: %w", err)
	}
	if !first {
		return Identity{}, "", refuse(ErrReplay, "assertion ID already used")
	}
	relay := storedRelay
	switch {
	case shape.inResponseTo != "" && !taken:
		return Identity{}, "", refuse(ErrInResponseTo, "InResponseTo names no outstanding request (unknown, used or expired)")
	case shape.inResponseTo != "":
		// Like taken, judged after the signature: a forged response is reported as forged.
		if err := checkBinding(r, storedBinding); err != nil {
			return Identity{}, "", err
		}
	case !s.cfg.AllowIDPInitiated:
		return Identity{}, "", refuse(ErrIDPInitiated, "response has no InResponseTo")
	default:
		// IdP-initiated: there is no request, so nothing to bind; see the package documentation.
		relay = postedRelay
	}
	return identityFrom(assertion), safeRelayState(relay), nil
}

// readACSForm reads the POST body within MaxACSBodyBytes and parses it as a form with exactly one
// SAMLResponse and at most one RelayState. The URL query is ignored, and SAMLart (the artifact
// binding, which would make us call out to the IdP) is refused. If middleware already parsed the
// form (it should not: exempt the ACS from CSRF checks), the parsed values are used, within the
// same size bound.
func readACSForm(r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, refuse(ErrMalformed, "method "+r.Method+" (only the HTTP-POST binding is accepted)")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, refuse(ErrMalformed, "content type is not application/x-www-form-urlencoded")
	}
	var form url.Values
	if r.PostForm != nil {
		form = r.PostForm
		if len(form.Encode()) > MaxACSBodyBytes {
			return nil, refuse(ErrMalformed, fmt.Sprintf("form larger than %d bytes", MaxACSBodyBytes))
		}
	} else {
		if r.Body == nil {
			return nil, refuse(ErrMalformed, "empty body")
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxACSBodyBytes+1))
		if err != nil {
			return nil, refuse(ErrMalformed, "read body: "+err.Error())
		}
		if len(body) > MaxACSBodyBytes {
			return nil, refuse(ErrMalformed, fmt.Sprintf("body larger than %d bytes", MaxACSBodyBytes))
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, refuse(ErrMalformed, "body is not a form")
		}
	}
	switch {
	case form.Has("SAMLart"):
		return nil, refuse(ErrMalformed, "artifact binding is not accepted")
	case len(form["SAMLResponse"]) != 1 || form.Get("SAMLResponse") == "":
		return nil, refuse(ErrMalformed, "want exactly one SAMLResponse")
	case len(form["RelayState"]) > 1:
		return nil, refuse(ErrMalformed, "more than one RelayState")
	}
	return form, nil
}

// maxXMLDepth bounds element nesting; a real response is about ten deep, and some XML tooling
// downstream is slow on deep trees.
const maxXMLDepth = 48

const dsigNS = "http://www.w3.org/2000/09/xmldsig#"

// responseShape is what peekResponse learns from the unverified XML.
type responseShape struct {
	inResponseTo string
}

// peekResponse checks, before any XML library sees raw, that it is well-formed XML no deeper than
// maxXMLDepth whose root is a samlp:Response carrying a Signature on the Response or on an
// Assertion, without encrypted assertions; and returns the root's InResponseTo. Nothing it
// returns is trusted yet: it only refuses early and picks the request to look up.
func peekResponse(raw []byte) (responseShape, error) {
	var shape responseShape
	d := xml.NewDecoder(bytes.NewReader(raw))
	depth, signed, sawRoot := 0, false, false
	var parent []xml.Name
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return shape, refuse(ErrMalformed, "not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			depth--
			parent = parent[:len(parent)-1]
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				return shape, refuse(ErrMalformed, "XML nested too deeply")
			}
			switch {
			case depth == 1:
				if sawRoot {
					return shape, refuse(ErrMalformed, "more than one root element")
				}
				sawRoot = true
				if t.Name.Space != protocolNS || t.Name.Local != "Response" {
					return shape, refuse(ErrMalformed, "root element is not a SAML protocol Response")
				}
				for _, a := range t.Attr {
					if a.Name.Space == "" && a.Name.Local == "InResponseTo" {
						shape.inResponseTo = a.Value
						break
					}
				}
			case t.Name.Space == assertionNS && t.Name.Local == "EncryptedAssertion":
				return shape, refuse(ErrInvalid, "encrypted assertions are not accepted (we publish no encryption key)")
			case t.Name.Space == dsigNS && t.Name.Local == "Signature":
				p := parent[len(parent)-1]
				signed = signed || depth == 2 || depth == 3 && p.Space == assertionNS && p.Local == "Assertion"
			}
			parent = append(parent, t.Name)
		}
	}
	switch {
	case !sawRoot || depth != 0 || len(parent) != 0:
		return shape, refuse(ErrMalformed, "not well-formed XML")
	case !signed:
		return shape, refuse(ErrSignature, "neither the Response nor an Assertion carries a Signature")
	}
	return shape, nil
}

// parse runs crewjam's ParseResponse of inner on a request that carries only the SAMLResponse, so
// nothing else the browser sent (a SAMLart in the query, say) can steer it.
func parse(ctx context.Context, inner *crewsaml.ServiceProvider, encoded string, possibleRequestIDs []string) (a *crewsaml.Assertion, err error) {
	// crewjam v0.5.1 dereferences optional elements of a signed assertion (Subject, Conditions,
	// SubjectConfirmationData) without nil checks; a response from the trusted IdP that lacks one
	// must be a refusal, not a crash.
	defer func() {
		if p := recover(); p != nil {
			a, err = nil, refuse(ErrMalformed, "assertion lacks a required element")
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inner.AcsURL.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("saml: acs: build request: %w", err)
	}
	req.Form = url.Values{}
	req.PostForm = url.Values{"SAMLResponse": {encoded}}
	a, err = inner.ParseResponse(req, possibleRequestIDs)
	if err != nil {
		return nil, classify(err)
	}
	return a, nil
}

// classify turns a crewjam error into a refusal of the right kind. crewjam reports most failures
// as text inside InvalidResponseError.PrivateErr; the tests pin each kind for this library version.
func classify(err error) error {
	cause := err
	var ire *crewsaml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		cause = ire.PrivateErr
	}
	var own *Error
	if errors.As(cause, &own) {
		return own
	}
	var status crewsaml.ErrBadStatus
	if errors.As(cause, &status) {
		return refuse(ErrIDPStatus, "status "+truncate(status.Status))
	}
	msg := cause.Error()
	kind := ErrInvalid
	switch {
	case strings.Contains(msg, "signature") || strings.Contains(msg, "Signature"):
		kind = ErrSignature
	case strings.Contains(msg, "expired") || strings.Contains(msg, "not yet valid"):
		kind = ErrExpired
	case strings.Contains(msg, "InResponseTo") || strings.Contains(msg, "possible request IDs"):
		kind = ErrInResponseTo
	case strings.Contains(msg, "AudienceRestriction"):
		kind = ErrAudience
	case strings.Contains(msg, "invalid xml") || strings.Contains(msg, "cannot unmarshal") ||
		strings.Contains(msg, "cannot parse base64") || strings.Contains(msg, "no root") ||
		strings.Contains(msg, "expected at least one valid Assertion") || strings.Contains(msg, "XML syntax error"):
		kind = ErrMalformed
	}
	return refuse(kind, truncate(msg))
}

func truncate(s string) string {
	if len(s) > maxDetailSize {
		return s[:maxDetailSize] + "…"
	}
	return s
}

// checkAudience requires at least one AudienceRestriction and that every one of them names
// entityID (SAML core §2.5.1.4: each restriction must be satisfied).
func checkAudience(a *crewsaml.Assertion, entityID string) error {
	if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
		return refuse(ErrAudience, "assertion has no AudienceRestriction")
	}
	for _, ar := range a.Conditions.AudienceRestrictions {
		if ar.Audience.Value != entityID {
			return refuse(ErrAudience, "AudienceRestriction does not name our entity ID")
		}
	}
	return nil
}

// checkAssertion applies our own checks to an assertion inner verified: the times against our
// clock, and a bearer SubjectConfirmation for inner's ACS that answers inResponseTo (empty for
// IdP-initiated).
func checkAssertion(inner *crewsaml.ServiceProvider, a *crewsaml.Assertion, now time.Time, inResponseTo string) error {
	if a.ID == "" {
		return refuse(ErrMalformed, "assertion has no ID")
	}
	switch {
	case a.IssueInstant.IsZero():
		return refuse(ErrMalformed, "assertion has no IssueInstant")
	case now.After(a.IssueInstant.Add(maxIssueDelay)):
		return refuse(ErrExpired, "assertion issued too long ago")
	case a.IssueInstant.After(now.Add(clockSkew)):
		return refuse(ErrExpired, "assertion issued in the future")
	}
	if c := a.Conditions; c != nil {
		if err := checkWindow("assertion Conditions", c.NotBefore, c.NotOnOrAfter, now); err != nil {
			return err
		}
	}
	if a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return refuse(ErrInvalid, "assertion has no NameID")
	}
	bearers := 0
	for _, sc := range a.Subject.SubjectConfirmations {
		d := sc.SubjectConfirmationData
		if sc.Method != bearerMethod || d == nil {
			continue
		}
		if d.InResponseTo != inResponseTo {
			return refuse(ErrInResponseTo, "SubjectConfirmationData InResponseTo differs from the response's")
		}
		if d.Recipient != inner.AcsURL.String() {
			return refuse(ErrInvalid, "SubjectConfirmationData Recipient is not our ACS")
		}
		if d.NotOnOrAfter.IsZero() {
			return refuse(ErrInvalid, "bearer SubjectConfirmationData has no NotOnOrAfter")
		}
		if err := checkWindow("SubjectConfirmationData", d.NotBefore, d.NotOnOrAfter, now); err != nil {
			return err
		}
		bearers++
	}
	if bearers == 0 {
		return refuse(ErrInvalid, "assertion has no bearer SubjectConfirmation")
	}
	return nil
}

// checkWindow refuses now before notBefore or at/after notOnOrAfter, allowing clockSkew either
// way; a zero bound is absent.
func checkWindow(what string, notBefore, notOnOrAfter, now time.Time) error {
	if !notBefore.IsZero() && now.Add(clockSkew).Before(notBefore) {
		return refuse(ErrExpired, what+" not yet valid")
	}
	if !notOnOrAfter.IsZero() && !now.Add(-clockSkew).Before(notOnOrAfter) {
		return refuse(ErrExpired, what+" expired")
	}
	return nil
}

// replayExpiry is how long to remember an assertion ID: past the last moment any of our checks
// (or crewjam's) could still accept it.
func replayExpiry(a *crewsaml.Assertion) time.Time {
	exp := a.IssueInstant.Add(maxIssueDelay)
	later := func(t time.Time) {
		if t.After(exp) {
			exp = t
		}
	}
	if a.Conditions != nil {
		later(a.Conditions.NotOnOrAfter)
	}
	if a.Subject != nil {
		for _, sc := range a.Subject.SubjectConfirmations {
			if sc.SubjectConfirmationData != nil {
				later(sc.SubjectConfirmationData.NotOnOrAfter)
			}
		}
	}
	return exp.Add(clockSkew)
}
