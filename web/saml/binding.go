package saml

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
)

// BindingCookieName is the cookie that ties an IdP response to the browser that started the
// sign-in. Without it, anyone could start a sign-in in their own browser and make a victim's
// browser post the (valid) response to our ACS, signing the victim in as them (login CSRF).
const BindingCookieName = "kycdesk_saml_binding"

// bindingSecretBytes is the size of the random binding secret (256 bits).
const bindingSecretBytes = 32

// newBinding returns a fresh binding secret for the browser (base64url) and the hash the request
// store keeps instead of it.
func newBinding() (secret, hash string, err error) {
	b := make([]byte, bindingSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("binding secret: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, bindingHash(secret), nil
}

// bindingHash is what the request store keeps for secret: hex SHA-256. The secret is 256 random
// bits, so a plain hash cannot be reversed and needs no salt.
func bindingHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// checkBinding refuses unless r carries the binding cookie whose hash is storedHash. An empty
// storedHash (a request saved before binding existed) never matches.
func checkBinding(r *http.Request, storedHash string) error {
	if storedHash == "" {
		return refuse(ErrUnbound, "the request has no browser binding")
	}
	c, err := r.Cookie(BindingCookieName)
	if err != nil || c.Value == "" {
		return refuse(ErrUnbound, "no binding cookie")
	}
	if subtle.ConstantTimeCompare([]byte(bindingHash(c.Value)), []byte(storedHash)) != 1 {
		return refuse(ErrUnbound, "the binding cookie does not match the request")
	}
	return nil
}

// bindingCookie is the binding cookie with value and maxAge (seconds; negative deletes it).
//
// It is sent only to the ACS (Path) and never to scripts (HttpOnly). The IdP's response arrives as
// a cross-site POST, which a SameSite=Lax cookie does not accompany, so over https it is
// SameSite=None with Secure (browsers drop None without Secure). Over plain http browsers refuse
// None without Secure, so it is Lax: SSO over http then works only with a same-site IdP (see the
// package documentation).
func (s *SP) bindingCookie(value string, maxAge int) *http.Cookie {
	acs := s.inner.Load().AcsURL
	secure := acs.Scheme == "https"
	sameSite := http.SameSiteLaxMode
	if secure {
		sameSite = http.SameSiteNoneMode
	}
	return &http.Cookie{
		Name:     BindingCookieName,
		Value:    value,
		Path:     acs.Path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: sameSite,
	}
}

// ClearBindingCookie returns the cookie that deletes the binding cookie. Set it on every ACS
// answer, accepted or refused: the binding is single-use, like the request it binds.
func (s *SP) ClearBindingCookie() *http.Cookie { return s.bindingCookie("", -1) }
