package selfkey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, carried in the tokenType claim. A token of one type is never
// accepted where another is expected; each type is also signed with its own
// key derived from the configured one, so even a claim-check slip could not
// turn a challenge into a wallet session.
const (
	TokenChallenge = "challenge"
	TokenWallet    = "wallet"
	TokenUser      = "user"
)

// Token lifetimes: the challenge and wallet lifetimes are the ones the
// SelfKey documents recommend; the user token is handed straight to /login.
const (
	ChallengeTTL = 30 * time.Minute
	WalletTTL    = 60 * time.Minute
	UserTTL      = 5 * time.Minute
	// ClockLeeway tolerates clock skew between app instances.
	ClockLeeway = 30 * time.Second
	// NonceBytes is the size of the random nonce before base64.
	NonceBytes = 64
	// maxTokenBytes bounds a token before it is parsed at all.
	maxTokenBytes = 4096
)

// Claims are the claims of every token we issue. A challenge carries its
// nonce twice: as nonce (final documents, node-lib) and as challenge (the
// seed); the wallet signs challenge || nonce, which is the same string.
type Claims struct {
	TokenType string `json:"tokenType"`
	Nonce     string `json:"nonce,omitempty"`
	Challenge string `json:"challenge,omitempty"`
	Scope     string `json:"scope,omitempty"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies our HS256 JWTs. It holds the key and the
// random source; callers pass the time, so tests pin it.
type Tokens struct {
	key  []byte
	rand io.Reader
}

// NewTokens returns a Tokens for key (at least MinJWTKeyBytes). random
// supplies nonces and token ids; nil means crypto/rand.
func NewTokens(key []byte, random io.Reader) (*Tokens, error) {
	if len(key) < MinJWTKeyBytes {
		return nil, errNoKey
	}
	if random == nil {
		random = rand.Reader
	}
	return &Tokens{key: append([]byte(nil), key...), rand: random}, nil
}

// IssueChallenge returns a challenge token for sub (a DID, a public key or,
// in the seed's flow, the client IP) and the nonce the wallet must sign:
// 64 random bytes, base64.
func (t *Tokens) IssueChallenge(sub string, now time.Time) (token, nonce string, err error) {
	raw := make([]byte, NonceBytes)
	if _, err := io.ReadFull(t.rand, raw); err != nil {
		return "", "", fmt.Errorf("selfkey: issue challenge: nonce: %w", err)
	}
	nonce = base64.StdEncoding.EncodeToString(raw)
	token, err = t.issue(TokenChallenge, Claims{Nonce: nonce, Challenge: nonce}, sub, now, ChallengeTTL)
	if err != nil {
		return "", "", err
	}
	return token, nonce, nil
}

// ParseChallenge verifies a challenge token at now and returns its claims.
func (t *Tokens) ParseChallenge(token string, now time.Time) (Claims, error) {
	c, err := t.parse(TokenChallenge, token, now)
	if err != nil {
		return Claims{}, err
	}
	if c.Nonce == "" || c.Nonce != c.Challenge {
		return Claims{}, fmt.Errorf("selfkey: parse challenge token: nonce: %w", ErrTokenInvalid)
	}
	return c, nil
}

// IssueWalletToken returns the wallet token (W-JWT) for an authenticated
// wallet subject.
func (t *Tokens) IssueWalletToken(sub string, now time.Time) (string, error) {
	return t.issue(TokenWallet, Claims{}, sub, now, WalletTTL)
}

// ParseWalletToken verifies a wallet token at now and returns its claims.
func (t *Tokens) ParseWalletToken(token string, now time.Time) (Claims, error) {
	return t.parse(TokenWallet, token, now)
}

// IssueUserToken returns the short-lived user token that the browser posts
// to /login to open a session for sub.
func (t *Tokens) IssueUserToken(sub string, now time.Time) (string, error) {
	return t.issue(TokenUser, Claims{Scope: "auth/login"}, sub, now, UserTTL)
}

// ParseUserToken verifies a user token at now and returns its claims.
func (t *Tokens) ParseUserToken(token string, now time.Time) (Claims, error) {
	return t.parse(TokenUser, token, now)
}

func (t *Tokens) issue(typ string, c Claims, sub string, now time.Time, ttl time.Duration) (string, error) {
	if sub == "" {
		return "", fmt.Errorf("selfkey: issue %s token: empty subject", typ)
	}
	id := make([]byte, 16)
	if _, err := io.ReadFull(t.rand, id); err != nil {
		return "", fmt.Errorf("selfkey: issue %s token: id: %w", typ, err)
	}
	now = now.Truncate(time.Second)
	c.TokenType = typ
	c.RegisteredClaims = jwt.RegisteredClaims{
		Subject:   sub,
		ID:        base64.RawURLEncoding.EncodeToString(id),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.typeKey(typ))
	if err != nil {
		return "", fmt.Errorf("selfkey: issue %s token: %w", typ, err)
	}
	return s, nil
}

func (t *Tokens) parse(typ, token string, now time.Time) (Claims, error) {
	if token == "" {
		return Claims{}, fmt.Errorf("selfkey: parse %s token: %w", typ, ErrTokenMissing)
	}
	if len(token) > maxTokenBytes {
		return Claims{}, fmt.Errorf("selfkey: parse %s token: too long: %w", typ, ErrTokenInvalid)
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(ClockLeeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	var c Claims
	_, err := p.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		if tok.Method != jwt.SigningMethodHS256 {
			return nil, errors.New("unexpected signing method")
		}
		return t.typeKey(typ), nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, fmt.Errorf("selfkey: parse %s token: %w", typ, ErrTokenExpired)
	case err != nil:
		return Claims{}, fmt.Errorf("selfkey: parse %s token: %v: %w", typ, err, ErrTokenInvalid)
	case c.TokenType != typ:
		return Claims{}, fmt.Errorf("selfkey: parse %s token: wrong token type: %w", typ, ErrTokenInvalid)
	case c.Subject == "" || c.ID == "":
		return Claims{}, fmt.Errorf("selfkey: parse %s token: missing sub or jti: %w", typ, ErrTokenInvalid)
	}
	return c, nil
}

// typeKey derives the HMAC key for one token type from the configured key.
func (t *Tokens) typeKey(typ string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("kycdesk selfkey jwt " + typ))
	return m.Sum(nil)
}
