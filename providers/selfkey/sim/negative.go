package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// The negative helpers each make one request our endpoints must refuse and
// report how they refused it. They return an error only when the setup
// around that request failed (a first, legitimate step was refused).

// ForeignSignature asks a challenge for the wallet's subject but answers it
// with a signature from another, freshly generated key.
func (w *Wallet) ForeignSignature(ctx context.Context, baseURL string, hc *http.Client) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	challenge, err := s.challenge(ctx)
	if err != nil {
		return Attempt{}, err
	}
	nonce, err := nonceOf(challenge)
	if err != nil {
		return Attempt{}, err
	}
	other, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return Attempt{}, fmt.Errorf("selfkey sim: generate key: %w", err)
	}
	return s.attempt(ctx, http.MethodPost, "/auth/challenge", challenge, "application/json", w.answer(signPersonal(other, nonce)))
}

// MalformedSignature answers a challenge with a signature that is not 65
// bytes of hex.
func (w *Wallet) MalformedSignature(ctx context.Context, baseURL string, hc *http.Client) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	challenge, err := s.challenge(ctx)
	if err != nil {
		return Attempt{}, err
	}
	return s.attempt(ctx, http.MethodPost, "/auth/challenge", challenge, "application/json", w.answer("0x1234"))
}

// ReplayChallenge answers a challenge correctly (which must succeed), then
// sends the very same answer again.
func (w *Wallet) ReplayChallenge(ctx context.Context, baseURL string, hc *http.Client) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	challenge, err := s.challenge(ctx)
	if err != nil {
		return Attempt{}, err
	}
	nonce, err := nonceOf(challenge)
	if err != nil {
		return Attempt{}, err
	}
	body := w.answer(w.SignNonce(nonce))
	if err := s.call(ctx, http.MethodPost, "/auth/challenge", challenge, "application/json", body, nil); err != nil {
		return Attempt{}, err
	}
	return s.attempt(ctx, http.MethodPost, "/auth/challenge", challenge, "application/json", body)
}

// ExpiredChallenge gets a challenge, calls advanceClock (the test moves the
// server's clock past the challenge lifetime), then answers it correctly.
func (w *Wallet) ExpiredChallenge(ctx context.Context, baseURL string, hc *http.Client, advanceClock func()) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	challenge, err := s.challenge(ctx)
	if err != nil {
		return Attempt{}, err
	}
	nonce, err := nonceOf(challenge)
	if err != nil {
		return Attempt{}, err
	}
	advanceClock()
	return s.attempt(ctx, http.MethodPost, "/auth/challenge", challenge, "application/json", w.answer(w.SignNonce(nonce)))
}

// ChallengeAsWalletToken presents a challenge token where a wallet token is
// required (POST /applications).
func (w *Wallet) ChallengeAsWalletToken(ctx context.Context, baseURL string, hc *http.Client) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	challenge, err := s.challenge(ctx)
	if err != nil {
		return Attempt{}, err
	}
	return s.attempt(ctx, http.MethodPost, "/applications", challenge, "application/json",
		jsonBody(map[string]any{"templateId": "x", "attributes": []any{}}))
}

// WalletTokenAsChallenge logs in, then presents the wallet token as the
// challenge of a new POST /auth/challenge.
func (w *Wallet) WalletTokenAsChallenge(ctx context.Context, baseURL string, hc *http.Client) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	_, wallet, err := s.login(ctx)
	if err != nil {
		return Attempt{}, err
	}
	return s.attempt(ctx, http.MethodPost, "/auth/challenge", wallet, "application/json", w.answer(w.SignNonce("anything")))
}

// TamperedWalletToken logs in, rewrites the wallet token's subject to
// another DID keeping the signature, and calls GET /users/token with it.
func (w *Wallet) TamperedWalletToken(ctx context.Context, baseURL string, hc *http.Client) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	_, wallet, err := s.login(ctx)
	if err != nil {
		return Attempt{}, err
	}
	forged, err := TamperSubject(wallet, "did:eth:0x"+strings.Repeat("00", 19)+"01")
	if err != nil {
		return Attempt{}, err
	}
	return s.attempt(ctx, http.MethodGet, "/users/token", forged, "", nil)
}

// NoToken calls an authenticated endpoint (POST /files) without an
// Authorization header.
func (w *Wallet) NoToken(ctx context.Context, baseURL string, hc *http.Client) (Attempt, error) {
	s := newSession(w, baseURL, hc)
	ct, body := multipartBody(part{name: "document", contentType: "image/jpeg", filename: "d", data: SampleJPEG()})
	return s.attempt(ctx, http.MethodPost, "/files", "", ct, body)
}

// TamperSubject returns token with its payload's sub replaced, header and
// signature untouched: a forgery any verifier must refuse.
func TamperSubject(token, sub string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("selfkey sim: tamper: not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("selfkey sim: tamper: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("selfkey sim: tamper: %w", err)
	}
	claims["sub"] = sub
	parts[1] = base64.RawURLEncoding.EncodeToString(jsonBody(claims))
	return strings.Join(parts, "."), nil
}
