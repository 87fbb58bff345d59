package saml

import "errors"

// The kinds of refusal HandleACS reports. Test with errors.Is; show users UserMessage(err), and log
// err.Error(), which adds a detail that never holds the assertion's attributes or NameID.
var (
	// ErrMalformed: the request or the SAML response could not be read (wrong method, too large,
	// not base64, not XML, not a Response, missing elements).
	ErrMalformed = errors.New("malformed SAML response")
	// ErrSignature: no valid signature by a certificate in the IdP metadata.
	ErrSignature = errors.New("bad SAML signature")
	// ErrExpired: the assertion is outside its validity window (expired or not yet valid).
	ErrExpired = errors.New("SAML assertion outside its validity window")
	// ErrAudience: the assertion has no audience restriction, or one that does not name us.
	ErrAudience = errors.New("SAML assertion not addressed to us")
	// ErrInResponseTo: the response answers an AuthnRequest that is not outstanding here (unknown,
	// already used, or expired).
	ErrInResponseTo = errors.New("SAML response answers no outstanding request")
	// ErrUnbound: the response answers an outstanding request of ours, but this browser did not
	// start it: the binding cookie StartLogin set is missing or does not match. That is how login
	// CSRF looks (someone else's valid response posted from this browser); it is also what a user
	// sees whose browser dropped the cookie, or who started a second sign-in in another tab.
	ErrUnbound = errors.New("SAML response not started in this browser")
	// ErrReplay: the assertion ID was already accepted once.
	ErrReplay = errors.New("replayed SAML assertion")
	// ErrRelayState: the RelayState is not a same-origin relative path.
	ErrRelayState = errors.New("off-site RelayState")
	// ErrIDPInitiated: an IdP-initiated response arrived while IdP-initiated sign-in is off.
	ErrIDPInitiated = errors.New("IdP-initiated sign-in is disabled")
	// ErrIDPStatus: the IdP answered with a non-success status (the user was not signed in there).
	ErrIDPStatus = errors.New("IdP refused the sign-in")
	// ErrInvalid: the response failed another check (issuer, destination, recipient, subject
	// confirmation, encrypted assertion).
	ErrInvalid = errors.New("invalid SAML response")
)

// Error is a refused SAML response. Kind is one of the Err* values above; Detail says why, for the
// log only.
type Error struct {
	Kind   error
	Detail string
}

// Error returns the kind and the detail.
func (e *Error) Error() string {
	if e.Detail == "" {
		return "saml: acs: " + e.Kind.Error()
	}
	return "saml: acs: " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns Kind, so errors.Is(err, ErrReplay) works.
func (e *Error) Unwrap() error { return e.Kind }

// refuse builds an *Error of the given kind.
func refuse(kind error, detail string) *Error { return &Error{Kind: kind, Detail: detail} }

// UserMessage returns a sentence that is safe to show the person signing in for err: it names
// what went wrong without echoing anything from the response.
func UserMessage(err error) string {
	switch {
	case errors.Is(err, ErrMalformed):
		return "The sign-in response from your identity provider could not be read. Please sign in again."
	case errors.Is(err, ErrSignature):
		return "The sign-in response is not signed by the configured identity provider."
	case errors.Is(err, ErrExpired):
		return "The sign-in response has expired or is not valid yet. Please sign in again; if this persists, the server clocks may differ."
	case errors.Is(err, ErrAudience):
		return "The sign-in response was issued for a different application."
	case errors.Is(err, ErrInResponseTo):
		return "The sign-in response does not match a sign-in started here, or the sign-in took too long. Please sign in again."
	case errors.Is(err, ErrUnbound):
		return "This sign-in response was not started in this browser. Start the sign-in again from the KYC Desk sign-in page."
	case errors.Is(err, ErrReplay):
		return "This sign-in response was already used. Please sign in again."
	case errors.Is(err, ErrRelayState):
		return "The sign-in response asked to continue to an address outside this site."
	case errors.Is(err, ErrIDPInitiated):
		return "Sign-in started at the identity provider is not enabled here. Please start from this site's sign-in page."
	case errors.Is(err, ErrIDPStatus):
		return "Your identity provider did not sign you in."
	case errors.Is(err, ErrInvalid):
		return "The sign-in response failed validation."
	}
	return "Sign-in failed. Please try again."
}
