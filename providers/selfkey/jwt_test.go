package selfkey

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newTestTokens(t *testing.T) *Tokens {
	t.Helper()
	tk, err := NewTokens(testKey, rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestChallengeTokenClaims(t *testing.T) {
	tk := newTestTokens(t)
	now := newClock().Now()
	tok, nonce, err := tk.IssueChallenge("did:eth:0xabc", now)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(nonce)
	if err != nil || len(raw) != NonceBytes {
		t.Fatalf("nonce is not base64 of %d bytes: %d, %v", NonceBytes, len(raw), err)
	}
	// What the wallet sees: it decodes the payload without verifying.
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"sub": "did:eth:0xabc", "nonce": nonce, "challenge": nonce, "tokenType": "challenge",
		"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Add(30 * time.Minute).Unix())} {
		if m[k] != want {
			t.Errorf("claim %s = %v, want %v", k, m[k], want)
		}
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if !strings.Contains(string(header), `"alg":"HS256"`) {
		t.Errorf("header = %s", header)
	}
	c, err := tk.ParseChallenge(tok, now.Add(29*time.Minute))
	if err != nil || c.Nonce != nonce || c.Subject != "did:eth:0xabc" {
		t.Fatalf("ParseChallenge = %+v, %v", c, err)
	}
	if _, err := tk.ParseChallenge(tok, now.Add(31*time.Minute)); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired challenge: err = %v", err)
	}
	_, nonce2, _ := tk.IssueChallenge("did:eth:0xabc", now)
	if nonce2 == nonce {
		t.Fatal("two challenges share a nonce")
	}
}

func TestTokenTypesAreNotInterchangeable(t *testing.T) {
	tk := newTestTokens(t)
	now := newClock().Now()
	challenge, _, _ := tk.IssueChallenge("did:eth:0xabc", now)
	wallet, _ := tk.IssueWalletToken("did:eth:0xabc", now)
	user, _ := tk.IssueUserToken("did:eth:0xabc", now)
	parsers := map[string]func(string, time.Time) (Claims, error){
		TokenChallenge: tk.ParseChallenge, TokenWallet: tk.ParseWalletToken, TokenUser: tk.ParseUserToken,
	}
	tokens := map[string]string{TokenChallenge: challenge, TokenWallet: wallet, TokenUser: user}
	for parser, parse := range parsers {
		for typ, tok := range tokens {
			_, err := parse(tok, now)
			if parser == typ && err != nil {
				t.Errorf("%s parser rejected its own token: %v", parser, err)
			}
			if parser != typ && !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("%s parser accepted a %s token (err %v)", parser, typ, err)
			}
		}
	}
}

func TestParseRejectsForgedTokens(t *testing.T) {
	tk := newTestTokens(t)
	now := newClock().Now()
	good, _ := tk.IssueWalletToken("did:eth:0xabc", now)
	claims := Claims{TokenType: TokenWallet, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "did:eth:0xevil", ID: "x", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}}
	sign := func(m jwt.SigningMethod, key any) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	parts := strings.Split(good, ".")
	evilPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"tokenType":"wallet","sub":"did:eth:0xevil","jti":"x","iat":` +
		jsonNum(now.Unix()) + `,"exp":` + jsonNum(now.Add(time.Hour).Unix()) + `}`))
	noExp := claims
	noExp.ExpiresAt = nil
	noExpTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, noExp).SignedString(tk.typeKey(TokenWallet))
	future := claims
	future.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))
	futureTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, future).SignedString(tk.typeKey(TokenWallet))
	tests := []struct {
		name string
		tok  string
	}{
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType)},
		{"HS512 with the right key", sign(jwt.SigningMethodHS512, tk.typeKey(TokenWallet))},
		{"HS256 with the master key", sign(jwt.SigningMethodHS256, testKey)},
		{"HS256 with another key", sign(jwt.SigningMethodHS256, []byte("another-key-another-key-another-key"))},
		{"payload swapped", parts[0] + "." + evilPayload + "." + parts[2]},
		{"signature flipped", parts[0] + "." + parts[1] + "." + flipLast(parts[2])},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
		{"no exp", noExpTok},
		{"not yet valid", futureTok},
		{"garbage", "not.a.jwt"},
		{"oversize", strings.Repeat("a", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := tk.ParseWalletToken(tt.tok, now); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("accepted (%+v) or wrong error %v", c, err)
			}
		})
	}
	if _, err := tk.ParseWalletToken("", now); !errors.Is(err, ErrTokenMissing) {
		t.Fatalf("empty token: %v", err)
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}

func TestNewTokensRefusesShortKey(t *testing.T) {
	if _, err := NewTokens([]byte("short"), nil); err == nil {
		t.Fatal("short key accepted")
	}
}
