package idfy

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealerRoundTrip(t *testing.T) {
	s, err := NewSealer("b2b8c1ce-6930-4320-aa71-ef4dc006ab60", testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"name":{"first_name":"Asha"},"dob":"1990-02-03"}`)
	compact, err := s.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 5 {
		t.Fatalf("%d segments, want 5", len(parts))
	}
	if parts[1] != "" {
		t.Error("alg=dir must leave the encrypted-key segment empty")
	}
	if iv, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(iv) != 12 {
		t.Errorf("IV %d bytes, want 12", len(iv))
	}
	if tag, _ := base64.RawURLEncoding.DecodeString(parts[4]); len(tag) != 16 {
		t.Errorf("tag %d bytes, want 16", len(tag))
	}
	rawHeader, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]string
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		t.Fatal(err)
	}
	if h["alg"] != "dir" || h["enc"] != "A256GCM" || h["kid"] != "b2b8c1ce-6930-4320-aa71-ef4dc006ab60" {
		t.Errorf("protected header %v", h)
	}
	got, err := s.Open(compact)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Errorf("round trip %q", got)
	}
	if bytes.Contains([]byte(compact), []byte("Asha")) {
		t.Error("plaintext visible in the JWE")
	}
}

func TestSealerRefuses(t *testing.T) {
	s, _ := NewSealer("kid-1", testKey(1))
	compact, err := s.Seal([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := NewSealer("kid-1", testKey(2))
	otherKid, _ := NewSealer("kid-2", testKey(1))
	parts := strings.Split(compact, ".")
	ct, _ := base64.RawURLEncoding.DecodeString(parts[3])
	ct[0] ^= 1
	flipped := strings.Join([]string{parts[0], parts[1], parts[2], base64.RawURLEncoding.EncodeToString(ct), parts[4]}, ".")

	tests := []struct {
		name    string
		sealer  *Sealer
		input   string
		wantErr string
	}{
		{"wrong key", wrongKey, compact, "decrypt"},
		{"other kid", otherKid, compact, "another key id"},
		{"flipped ciphertext bit", s, flipped, "decrypt"},
		{"not a JWE", s, "hello", "parse"},
		{"a JWS", s, "eyJhbGciOiJIUzI1NiJ9.e30.sig", "parse"},
		{"A128KW not allowed", s, a128kwHeader() + "..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA", "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sealer.Open(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func a128kwHeader() string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"A128KW","enc":"A256GCM","kid":"kid-1"}`))
}

// TestOpenHandBuiltJWE checks interoperability without go-jose on the
// sending side: RFC 7516 compact JWE built from crypto/aes by hand (AAD is
// the ASCII of the encoded protected header).
func TestOpenHandBuiltJWE(t *testing.T) {
	key := testKey(7)
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"dir","enc":"A256GCM","kid":"kid-7"}`))
	iv := []byte("0123456789ab")
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	sealed := gcm.Seal(nil, iv, []byte(`{"dob":"1990-02-03"}`), []byte(header))
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	enc := base64.RawURLEncoding.EncodeToString
	compact := header + ".." + enc(iv) + "." + enc(ct) + "." + enc(tag)

	s, _ := NewSealer("kid-7", key)
	got, err := s.Open(compact)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"dob":"1990-02-03"}` {
		t.Errorf("got %q", got)
	}
}

// TestKeyIDOfPublicSample reads the kid of the sample encrypted_data on
// IDfy's public encrypted-data-flow page (the key itself is not public).
func TestKeyIDOfPublicSample(t *testing.T) {
	const sample = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiYjJiOGMxY2UtNjkzMC00MzIwLWFhNzEtZWY0ZGMwMDZhYjYwIn0..4kG-BBqxXWpdKV1Y.yMXLPyx5O5j0gj3qzX4mrYXlZuadkhkWcpBzC30an2LX5b29mMlgK6ZK0_UYmRf1qm5q.oHGJZpxSAwMoTCGvV25v2w"
	kid, err := KeyIDOf(sample)
	if err != nil {
		t.Fatal(err)
	}
	if kid != "b2b8c1ce-6930-4320-aa71-ef4dc006ab60" {
		t.Errorf("kid %q", kid)
	}
	s, _ := NewSealer(kid, testKey(9))
	if _, err := s.Open(sample); err == nil || !strings.Contains(err.Error(), "decrypt") {
		t.Errorf("a random key opened the sample: %v", err)
	}
	if _, err := KeyIDOf("no-dots"); err == nil {
		t.Error("KeyIDOf accepted garbage")
	}
}

func TestNewSealerValidates(t *testing.T) {
	if _, err := NewSealer("", testKey(1)); err == nil {
		t.Error("accepted an empty key id")
	}
	if _, err := NewSealer("kid", testKey(1)[:16]); err == nil {
		t.Error("accepted a 16-byte key")
	}
}
