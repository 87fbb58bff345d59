package selfkey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// answer signs the nonce of challenge with k and builds the body the
// wallet posts, in DID mode (keyID set) or legacy mode.
func answer(t *testing.T, s *Service, challenge string, sign func(nonce string) string, keyID string) []byte {
	t.Helper()
	c, err := s.Tokens().ParseChallenge(challenge, s.now())
	if err != nil {
		t.Fatalf("parse challenge: %v", err)
	}
	var body any = map[string]any{"signature": sign(c.Challenge)}
	if keyID != "" {
		body = map[string]any{"signature": map[string]string{"value": sign(c.Challenge), "keyId": keyID}}
	}
	b, _ := json.Marshal(body)
	return b
}

func TestServiceChallengeVerify(t *testing.T) {
	ctx := context.Background()
	k := newKey(t, 1)
	other := newKey(t, 2)
	did := didOf(k)
	pubHex := PublicKeyHex(k.PubKey().SerializeUncompressed())
	selfkeyID := "0x" + strings.Repeat("5a", 32)
	selfkeyDID := "did:selfkey:" + selfkeyID
	resolver := fakeResolver{selfkeyID: AddressOf(k.PubKey().SerializeUncompressed())}
	signK := func(n string) string { return personalSign(k, n, false) }
	tests := []struct {
		name    string
		subject string
		sign    func(string) string
		keyID   string
		wantSub string
		wantErr error
	}{
		{"did:eth", did, signK, did + "#keys-1", did, nil},
		{"did:eth legacy v", did, func(n string) string { return personalSign(k, n, true) }, did + "#keys-1", did, nil},
		{"did:eth without key id", did, signK, "", did, nil},
		{"legacy public key", pubHex, signK, "", pubHex, nil},
		{"seed: client IP takes the signer's key", "142.21.31.51", signK, "", pubHex, nil},
		{"did:selfkey via resolver", selfkeyDID, signK, selfkeyDID + "#keys-1", selfkeyDID, nil},
		{"wrong key", did, func(n string) string { return personalSign(other, n, false) }, did + "#keys-1", "", ErrSignatureInvalid},
		{"wrong key, legacy subject", pubHex, func(n string) string { return personalSign(other, n, false) }, "", "", ErrSignatureInvalid},
		{"did:selfkey controlled by another", selfkeyDID, func(n string) string { return personalSign(other, n, false) }, "", "", ErrSignatureInvalid},
		{"signed another message", did, func(string) string { return personalSign(k, "something else", false) }, "", "", ErrSignatureInvalid},
		{"key id of another DID", did, signK, didOf(other) + "#keys-1", "", ErrSignatureInvalid},
		{"key id with another fragment", did, signK, did + "#keys-2", "", ErrSignatureInvalid},
		{"malformed signature", did, func(string) string { return "0x1234" }, "", "", ErrSignatureMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestService(t, Config{}, resolver)
			challenge, err := s.Challenge(ctx, tt.subject)
			if err != nil {
				t.Fatalf("Challenge: %v", err)
			}
			body := answer(t, s, challenge, tt.sign, tt.keyID)
			wallet, sub, err := s.Verify(ctx, "Bearer "+challenge, body)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if sub != tt.wantSub {
				t.Fatalf("sub = %s, want %s", sub, tt.wantSub)
			}
			c, err := s.Authenticate("Bearer " + wallet)
			if err != nil || c.Subject != tt.wantSub {
				t.Fatalf("Authenticate = %+v, %v", c, err)
			}
		})
	}
}

func TestServiceVerifyRefusals(t *testing.T) {
	ctx := context.Background()
	k := newKey(t, 3)
	did := didOf(k)
	sign := func(n string) string { return personalSign(k, n, false) }

	t.Run("replay", func(t *testing.T) {
		s, _ := newTestService(t, Config{}, nil)
		ch, _ := s.Challenge(ctx, did)
		body := answer(t, s, ch, sign, "")
		if _, _, err := s.Verify(ctx, "Bearer "+ch, body); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Verify(ctx, "Bearer "+ch, body); !errors.Is(err, ErrChallengeUsed) {
			t.Fatalf("replay: %v", err)
		}
	})
	t.Run("a failed answer does not burn the challenge", func(t *testing.T) {
		s, _ := newTestService(t, Config{}, nil)
		ch, _ := s.Challenge(ctx, did)
		bad := answer(t, s, ch, func(n string) string { return personalSign(newKey(t, 4), n, false) }, "")
		if _, _, err := s.Verify(ctx, "Bearer "+ch, bad); !errors.Is(err, ErrSignatureInvalid) {
			t.Fatal(err)
		}
		if _, _, err := s.Verify(ctx, "Bearer "+ch, answer(t, s, ch, sign, "")); err != nil {
			t.Fatalf("good answer after a bad one: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		s, clk := newTestService(t, Config{}, nil)
		ch, _ := s.Challenge(ctx, did)
		body := answer(t, s, ch, sign, "")
		clk.Advance(ChallengeTTL + ClockLeeway + time.Second)
		if _, _, err := s.Verify(ctx, "Bearer "+ch, body); !errors.Is(err, ErrTokenExpired) || !errors.Is(err, providers.ErrExpired) {
			t.Fatalf("expired: %v", err)
		}
	})
	t.Run("wallet token as challenge", func(t *testing.T) {
		s, _ := newTestService(t, Config{}, nil)
		w, _ := s.Tokens().IssueWalletToken(did, s.now())
		if _, _, err := s.Verify(ctx, "Bearer "+w, []byte(`{"signature":"0x00"}`)); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("challenge as wallet token", func(t *testing.T) {
		s, _ := newTestService(t, Config{}, nil)
		ch, _ := s.Challenge(ctx, did)
		if _, err := s.Authenticate("Bearer " + ch); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("header shapes", func(t *testing.T) {
		s, _ := newTestService(t, Config{}, nil)
		for h, want := range map[string]error{"": ErrTokenMissing, "Basic abc": ErrTokenMalformed, "Bearer": ErrTokenMalformed, "Bearer  ": ErrTokenMalformed, "Bearer abc": ErrTokenInvalid} {
			if _, _, err := s.Verify(ctx, h, []byte(`{"signature":"0x00"}`)); !errors.Is(err, want) {
				t.Errorf("header %q: %v, want %v", h, err, want)
			}
		}
	})
	t.Run("bad subjects", func(t *testing.T) {
		s, _ := newTestService(t, Config{}, nil)
		if _, err := s.Challenge(ctx, "did:web:evil"); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("did:web: %v", err)
		}
		if _, err := s.Challenge(ctx, "did:selfkey:0x"+strings.Repeat("1", 64)); !errors.Is(err, ErrDIDResolverNotConfigured) {
			t.Errorf("did:selfkey without RPC: %v", err)
		}
	})
	t.Run("origin", func(t *testing.T) {
		s, _ := newTestService(t, Config{AllowedOrigins: []string{"IDW"}}, nil)
		if err := s.CheckOrigin("IDW"); err != nil {
			t.Error(err)
		}
		if err := s.CheckOrigin("https://evil.example"); !errors.Is(err, ErrForbidden) {
			t.Error(err)
		}
	})
}

func TestServiceLoginIsSingleUse(t *testing.T) {
	ctx := context.Background()
	s, clk := newTestService(t, Config{}, nil)
	tok, err := s.IssueUserToken("did:eth:0xabc")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Login(ctx, tok)
	if err != nil || sub != "did:eth:0xabc" {
		t.Fatalf("Login = %s, %v", sub, err)
	}
	if _, err := s.Login(ctx, tok); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("second login: %v", err)
	}
	late, _ := s.IssueUserToken("did:eth:0xabc")
	clk.Advance(UserTTL + ClockLeeway + time.Second)
	if _, err := s.Login(ctx, late); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("late login: %v", err)
	}
	w, _ := s.Tokens().IssueWalletToken("did:eth:0xabc", clk.Now())
	if _, err := s.Login(ctx, w); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("wallet token as user token: %v", err)
	}
	for body, want := range map[string]string{`{"token":"a"}`: "a", `{"jwt":"b"}`: "b"} {
		if got, err := ParseLoginBody([]byte(body)); err != nil || got != want {
			t.Errorf("ParseLoginBody(%s) = %q, %v", body, got, err)
		}
	}
	if _, err := ParseLoginBody([]byte(`{}`)); !errors.Is(err, ErrTokenMissing) {
		t.Errorf("empty login body: %v", err)
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{ErrTokenMissing, http.StatusUnauthorized, "token_missing"},
		{ErrTokenMalformed, http.StatusBadRequest, "token_invalid"},
		{ErrTokenExpired, http.StatusUnauthorized, "token_invalid"},
		{ErrSignatureInvalid, http.StatusUnauthorized, "signature_invalid"},
		{ErrSignatureMissing, http.StatusUnauthorized, "signature_missing"},
		{ErrSignatureMalformed, http.StatusBadRequest, "signature_invalid"},
		{ErrBadRequest, http.StatusBadRequest, "bad_request"},
		{ErrUserNotFound, http.StatusNotFound, "user_does_not_exist"},
		{ErrNotFound, http.StatusNotFound, "not_found"},
		{ErrForbidden, http.StatusForbidden, "forbidden"},
		{ErrDIDResolverNotConfigured, http.StatusBadRequest, "invalid_did"},
		{errors.Join(errors.New("context"), ErrInvalidAttributes), http.StatusBadRequest, "invalid_attributes"},
		{errors.New("database is locked"), http.StatusInternalServerError, "internal_error"},
	}
	for _, tt := range tests {
		st, code, msg := HTTPStatus(tt.err)
		if st != tt.status || code != tt.code || msg == "" {
			t.Errorf("HTTPStatus(%v) = %d %s %q", tt.err, st, code, msg)
		}
		if strings.Contains(msg, "database") {
			t.Errorf("internal detail leaked: %q", msg)
		}
	}
	status, body := ErrorBody(ErrTokenInvalid)
	b, _ := json.Marshal(body)
	if status != 401 || string(b) != `{"code":"token_invalid","message":"Invalid authentication token"}` {
		t.Errorf("ErrorBody = %d %s", status, b)
	}
	if !errors.Is(ErrSignatureInvalid, providers.ErrBadSignature) || !errors.Is(ErrBadRequest, providers.ErrMalformed) {
		t.Error("errors do not unwrap to the providers sentinels")
	}
}
