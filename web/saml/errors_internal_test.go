package saml

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	crewsaml "github.com/crewjam/saml"
)

// TestClassify pins how crewjam v0.5.1's error texts map to refusal kinds; the end-to-end tests
// reach most of them through a real IdP, these are the ones a test IdP cannot produce.
func TestClassify(t *testing.T) {
	wrap := func(err error) error { return &crewsaml.InvalidResponseError{PrivateErr: err} }
	tests := []struct {
		err  error
		want error
	}{
		{wrap(crewsaml.ErrBadStatus{Status: "urn:oasis:names:tc:SAML:2.0:status:Responder"}), ErrIDPStatus},
		{wrap(errors.New("response IssueInstant expired at 2026-01-01")), ErrExpired},
		{wrap(errors.New("`InResponseTo` does not match any of the possible request IDs (expected [x])")), ErrInResponseTo},
		{wrap(errors.New("assertion SubjectConfirmation one of the possible request IDs ([x])")), ErrInResponseTo},
		{wrap(errors.New(`response Issuer does not match the IDP metadata (expected "x")`)), ErrInvalid},
		{wrap(errors.New("invalid xml: bad")), ErrMalformed},
		{wrap(fmt.Errorf("audience restriction validation failed: %w", refuse(ErrAudience, "x"))), ErrAudience},
		{wrap(errors.New("cannot validate signature on Assertion: Cert is not valid at this time")), ErrSignature},
	}
	for _, tt := range tests {
		got := classify(tt.err)
		var e *Error
		if !errors.As(got, &e) || !errors.Is(got, tt.want) {
			t.Errorf("classify(%v) = %v, want kind %v", tt.err, got, tt.want)
		}
	}
}

func TestUserMessageIsSafe(t *testing.T) {
	err := refuse(ErrSignature, "cannot validate signature on Response: secret detail alice@example.com")
	msg := UserMessage(err)
	if msg == "" || msg == UserMessage(errors.New("other")) {
		t.Fatalf("UserMessage = %q", msg)
	}
	for _, leak := range []string{"alice", "Response", "detail"} {
		if strings.Contains(msg, leak) {
			t.Errorf("UserMessage %q leaks %q", msg, leak)
		}
	}
}
