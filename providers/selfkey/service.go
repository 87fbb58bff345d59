package selfkey

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Deps are the Service's collaborators.
type Deps struct {
	// Store records used challenges and user tokens; required.
	Store ChallengeStore
	// Resolver resolves did:selfkey. Nil: an RPCResolver when
	// Config.RPCURL is set, otherwise did:selfkey is refused with
	// ErrDIDResolverNotConfigured.
	Resolver DIDResolver
	// Now is the clock (nil = time.Now); Rand the randomness for nonces
	// and token ids (nil = crypto/rand).
	Now  func() time.Time
	Rand io.Reader
}

// Service is the SelfKey wallet protocol: challenges, signature checks and
// the tokens that follow. Handlers call one method per endpoint.
type Service struct {
	cfg      Config
	tokens   *Tokens
	store    ChallengeStore
	resolver DIDResolver
	now      func() time.Time
}

// NewService returns a Service for cfg, which must be Configured.
func NewService(cfg Config, d Deps) (*Service, error) {
	if !cfg.Configured() {
		return nil, errNoKey
	}
	if d.Store == nil {
		return nil, fmt.Errorf("selfkey: new service: no challenge store")
	}
	tokens, err := NewTokens(cfg.JWTKey, d.Rand)
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Resolver == nil && cfg.RPCURL != "" {
		d.Resolver = NewRPCResolver(cfg.RPCURL, nil)
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	return &Service{cfg: cfg, tokens: tokens, store: d.Store, resolver: d.Resolver, now: d.Now}, nil
}

// Tokens exposes the token issuer, for handlers that need a token the
// Service does not issue itself and for tests.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Limits are the request bounds from the configuration.
func (s *Service) Limits() Limits {
	return NewLimits(s.cfg.MaxFileBytes, s.cfg.MaxRequestBytes)
}

// CheckOrigin returns ErrForbidden when the wallet's Origin header is not
// one of the configured AllowedOrigins.
func (s *Service) CheckOrigin(origin string) error {
	if !s.cfg.OriginAllowed(origin) {
		return fmt.Errorf("selfkey: check origin: %w", ErrForbidden)
	}
	return nil
}

// Challenge answers GET /auth/challenge/{subject}: a challenge token for a
// DID or a legacy public key. For the seed's GET /auth/challenge (no
// subject) the handler passes the client IP. An unparsable subject is
// ErrInvalidSubject; a did:selfkey without a resolver is
// ErrDIDResolverNotConfigured, refused now rather than after signing.
func (s *Service) Challenge(ctx context.Context, subject string) (string, error) {
	sub, err := ParseSubject(subject)
	if err != nil {
		return "", fmt.Errorf("selfkey: challenge: %w", err)
	}
	if sub.Kind == SubjectSelfKeyDID && s.resolver == nil {
		return "", fmt.Errorf("selfkey: challenge: %w", ErrDIDResolverNotConfigured)
	}
	token, _, err := s.tokens.IssueChallenge(sub.Canonical, s.now())
	if err != nil {
		return "", err
	}
	return token, nil
}

// Verify answers POST /auth/challenge: authorization is the request's
// Authorization header ("Bearer <challenge JWT>"), body the raw JSON body.
// It checks the challenge token, recovers the signer of the nonce, compares
// it with the challenge subject (or, for the seed's IP subject, takes the
// signer's public key as the subject), spends the challenge, and returns a
// wallet token and its subject: the canonical DID, or "0x"+128 hex for a
// key.
func (s *Service) Verify(ctx context.Context, authorization string, body []byte) (walletToken, sub string, err error) {
	raw, err := BearerToken(authorization)
	if err != nil {
		return "", "", fmt.Errorf("selfkey: verify: %w", err)
	}
	claims, err := s.tokens.ParseChallenge(raw, s.now())
	if err != nil {
		return "", "", fmt.Errorf("selfkey: verify: %w", err)
	}
	sig, err := ParseSignatureBody(body)
	if err != nil {
		return "", "", fmt.Errorf("selfkey: verify: %w", err)
	}
	subject, err := ParseSubject(claims.Subject)
	if err != nil {
		return "", "", fmt.Errorf("selfkey: verify: %w", err)
	}
	address, pubkey, err := Recover(claims.Nonce, sig.Value)
	if err != nil {
		return "", "", fmt.Errorf("selfkey: verify: %w", err)
	}
	if err := checkKeyID(subject, sig.KeyID); err != nil {
		return "", "", fmt.Errorf("selfkey: verify: %w", err)
	}
	sub = subject.Canonical
	switch subject.Kind {
	case SubjectClientIP:
		sub = PublicKeyHex(pubkey)
	case SubjectSelfKeyDID:
		if s.resolver == nil {
			return "", "", fmt.Errorf("selfkey: verify: %w", ErrDIDResolverNotConfigured)
		}
		controller, err := s.resolver.Controller(ctx, subject)
		if err != nil {
			return "", "", fmt.Errorf("selfkey: verify: %w", err)
		}
		if !strings.EqualFold(controller, address) {
			return "", "", fmt.Errorf("selfkey: verify: signer is not the DID controller: %w", ErrSignatureInvalid)
		}
	default:
		ok, err := SubjectMatches(subject.Canonical, address, pubkey)
		if err != nil {
			return "", "", fmt.Errorf("selfkey: verify: %w", err)
		}
		if !ok {
			return "", "", fmt.Errorf("selfkey: verify: signer is not the subject: %w", ErrSignatureInvalid)
		}
	}
	// Spend the challenge only once its signature is good, so a bystander
	// holding the token cannot burn it.
	first, err := s.store.Use(ctx, "challenge:"+claims.ID, claims.ExpiresAt.Time)
	if err != nil {
		return "", "", fmt.Errorf("selfkey: verify: spend challenge: %w", err)
	}
	if !first {
		return "", "", fmt.Errorf("selfkey: verify: %w", ErrChallengeUsed)
	}
	walletToken, err = s.tokens.IssueWalletToken(sub, s.now())
	if err != nil {
		return "", "", err
	}
	return walletToken, sub, nil
}

// checkKeyID accepts an empty key id, or "<the subject DID>#keys-1", the
// only key a SelfKey DID document has.
func checkKeyID(subject Subject, keyID string) error {
	if keyID == "" || (subject.Kind != SubjectEthDID && subject.Kind != SubjectSelfKeyDID) {
		return nil
	}
	did, frag, _ := strings.Cut(keyID, "#")
	k, err := ParseSubject(did)
	if err != nil || k.Canonical != subject.Canonical || frag != "keys-1" {
		return fmt.Errorf("key id does not name the subject's key: %w", ErrSignatureInvalid)
	}
	return nil
}

// Authenticate checks the wallet token of an authenticated endpoint
// (/users, /users/token, /files, /applications, ...) from the request's
// Authorization header and returns its claims; claims.Subject is the
// wallet.
func (s *Service) Authenticate(authorization string) (Claims, error) {
	raw, err := BearerToken(authorization)
	if err != nil {
		return Claims{}, fmt.Errorf("selfkey: authenticate: %w", err)
	}
	c, err := s.tokens.ParseWalletToken(raw, s.now())
	if err != nil {
		return Claims{}, fmt.Errorf("selfkey: authenticate: %w", err)
	}
	return c, nil
}

// IssueUserToken returns the user token for GET /users/token (GET
// /auth/token in the seed) and the 201 of POST /users. The handler checks
// first that a user exists for sub (ErrUserNotFound otherwise).
func (s *Service) IssueUserToken(sub string) (string, error) {
	return s.tokens.IssueUserToken(sub, s.now())
}

// Login answers POST /login: it verifies the user token from the body
// (see ParseLoginBody), spends it, and returns the wallet subject to open a
// browser session for. A token is good for one login.
func (s *Service) Login(ctx context.Context, token string) (sub string, err error) {
	c, err := s.tokens.ParseUserToken(token, s.now())
	if err != nil {
		return "", fmt.Errorf("selfkey: login: %w", err)
	}
	first, err := s.store.Use(ctx, "user:"+c.ID, c.ExpiresAt.Time)
	if err != nil {
		return "", fmt.Errorf("selfkey: login: spend token: %w", err)
	}
	if !first {
		return "", fmt.Errorf("selfkey: login: token already used: %w", ErrTokenInvalid)
	}
	return c.Subject, nil
}

// BearerToken extracts the token of an "Authorization: Bearer <token>"
// header: empty is ErrTokenMissing, another scheme ErrTokenMalformed.
func BearerToken(header string) (string, error) {
	h := strings.TrimSpace(header)
	if h == "" {
		return "", ErrTokenMissing
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", ErrTokenMalformed
	}
	return tok, nil
}
