package selfkey

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

func TestRecoverKnownVector(t *testing.T) {
	v := loadVector(t)
	addr, pub, err := Recover(v.Nonce, v.Signature)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if addr != v.Address {
		t.Errorf("address = %s, want %s", addr, v.Address)
	}
	if got := PublicKeyHex(pub); got != v.PublicKey {
		t.Errorf("public key = %s, want %s", got, v.PublicKey)
	}
	ok, err := SubjectMatches(v.DID, addr, pub)
	if err != nil || !ok {
		t.Errorf("SubjectMatches(did) = %v, %v", ok, err)
	}
	ok, err = SubjectMatches(v.PublicKey, addr, pub)
	if err != nil || !ok {
		t.Errorf("SubjectMatches(pubkey) = %v, %v", ok, err)
	}
	// The private key of the vector derives the same address.
	raw, _ := hex.DecodeString(v.PrivateKey)
	if got := AddressOf(secp256k1.PrivKeyFromBytes(raw).PubKey().SerializeUncompressed()); got != v.Address {
		t.Errorf("address of test key = %s", got)
	}
}

func TestRecoverVariants(t *testing.T) {
	v := loadVector(t)
	sig := strings.TrimPrefix(v.Signature, "0x")
	vByte := sig[128:]
	legacyV := map[string]string{"1b": "00", "1c": "01"}[vByte]
	tests := []struct {
		name    string
		nonce   string
		sig     string
		want    string // address, "" = must not be the vector's
		wantErr error
	}{
		{"0x prefix", v.Nonce, v.Signature, v.Address, nil},
		{"no prefix", v.Nonce, sig, v.Address, nil},
		{"uppercase hex", v.Nonce, "0x" + strings.ToUpper(sig), v.Address, nil},
		{"v as 0/1", v.Nonce, sig[:128] + legacyV, v.Address, nil},
		{"tampered nonce", v.Nonce + "x", v.Signature, "", nil},
		{"hex-decoded message variant is not accepted as the same signer", strings.ToLower(v.Nonce), v.Signature, "", nil},
		{"flipped bit in s", v.Nonce, sig[:100] + flipHex(sig[100:101]) + sig[101:], "", nil},
		{"v = 29", v.Nonce, sig[:128] + "1d", "", ErrSignatureMalformed},
		{"v = 2", v.Nonce, sig[:128] + "02", "", ErrSignatureMalformed},
		{"short", v.Nonce, sig[:128], "", ErrSignatureMalformed},
		{"long", v.Nonce, sig + "00", "", ErrSignatureMalformed},
		{"not hex", v.Nonce, "0x" + strings.Repeat("zz", 65), "", ErrSignatureMalformed},
		{"empty", v.Nonce, "", "", ErrSignatureMalformed},
		{"r zero", v.Nonce, strings.Repeat("00", 32) + sig[64:], "", ErrSignatureInvalid},
		{"s over group order", v.Nonce, sig[:64] + strings.Repeat("ff", 32) + vByte, "", ErrSignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _, err := Recover(tt.nonce, tt.sig)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if tt.want != "" {
				if err != nil || addr != tt.want {
					t.Fatalf("Recover = %s, %v; want %s", addr, err, tt.want)
				}
				return
			}
			if err == nil && addr == v.Address {
				t.Fatalf("recovered the vector's address from a bad input")
			}
		})
	}
}

func flipHex(c string) string {
	if c == "0" {
		return "1"
	}
	return "0"
}

func TestRecoverRuntimeSignatures(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		k := newKey(t, seed)
		want := AddressOf(k.PubKey().SerializeUncompressed())
		for _, legacy := range []bool{false, true} {
			nonce := "nonce-" + strings.Repeat("ab", int(seed))
			addr, pub, err := Recover(nonce, personalSign(k, nonce, legacy))
			if err != nil || addr != want {
				t.Fatalf("seed %d legacyV %v: Recover = %s, %v; want %s", seed, legacy, addr, err, want)
			}
			if ok, _ := SubjectMatches(didOf(k), addr, pub); !ok {
				t.Fatalf("seed %d: did does not match", seed)
			}
			other := newKey(t, seed+100)
			if ok, _ := SubjectMatches(didOf(other), addr, pub); ok {
				t.Fatalf("seed %d: another key's DID matched", seed)
			}
		}
	}
}

func TestSubjectMatches(t *testing.T) {
	v := loadVector(t)
	addr, pub, err := Recover(v.Nonce, v.Signature)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sub     string
		want    bool
		wantErr error
	}{
		{"did:eth", v.DID, true, nil},
		{"did:eth mixed case", "did:eth:" + strings.ToUpper(v.Address[:2]) + strings.ToUpper(v.Address[2:]), true, nil},
		{"did:eth with dev chain param", v.DID + ";selfkey:chain=ropsten", true, nil},
		{"other did:eth", "did:eth:0x" + strings.Repeat("1", 40), false, nil},
		{"legacy pubkey", v.PublicKey, true, nil},
		{"legacy pubkey uppercase", strings.ToUpper(v.PublicKey), true, nil},
		{"other pubkey", "0x" + strings.Repeat("ab", 64), false, nil},
		{"did:selfkey", "did:selfkey:0x" + strings.Repeat("a", 64), false, ErrDIDResolverNotConfigured},
		{"unknown method", "did:web:example.org", false, ErrInvalidSubject},
		{"short address", "did:eth:0x1234", false, ErrInvalidSubject},
		{"empty", "", false, ErrInvalidSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SubjectMatches(tt.sub, addr, pub)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("SubjectMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseSignatureBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Signature
		wantErr error
	}{
		{"legacy string", `{"signature":"0xabc"}`, Signature{Value: "0xabc"}, nil},
		{"did object", `{"signature":{"value":"0xabc","keyId":"did:eth:0x1#keys-1"}}`, Signature{Value: "0xabc", KeyID: "did:eth:0x1#keys-1"}, nil},
		{"unknown fields ignored", `{"signature":{"value":"0xabc","extra":1},"other":true}`, Signature{Value: "0xabc"}, nil},
		{"missing", `{}`, Signature{}, ErrSignatureMissing},
		{"null", `{"signature":null}`, Signature{}, ErrSignatureMissing},
		{"empty string", `{"signature":""}`, Signature{}, ErrSignatureMissing},
		{"object without value", `{"signature":{"keyId":"x"}}`, Signature{}, ErrSignatureMissing},
		{"number", `{"signature":12}`, Signature{}, ErrSignatureMalformed},
		{"not json", `signature=0xabc`, Signature{}, ErrBadRequest},
		{"huge", `{"signature":"` + strings.Repeat("a", 20000) + `"}`, Signature{}, ErrRequestTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSignatureBody([]byte(tt.body))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseSubject(t *testing.T) {
	addr := "0x" + strings.Repeat("ab", 20)
	id := "0x" + strings.Repeat("cd", 32)
	tests := []struct {
		in    string
		kind  SubjectKind
		canon string
		chain string
	}{
		{"did:eth:" + strings.ToUpper(addr[2:3]) + "", SubjectInvalid, "", ""},
		{"did:eth:" + addr, SubjectEthDID, "did:eth:" + addr, ""},
		{"DID:ETH:0X" + strings.ToUpper(addr[2:]), SubjectEthDID, "did:eth:" + addr, ""},
		{"did:eth:0x" + strings.ToUpper(addr[2:]), SubjectEthDID, "did:eth:" + addr, ""},
		{"did:selfkey:" + id + ";selfkey:chain=ropsten", SubjectSelfKeyDID, "did:selfkey:" + id, "ropsten"},
		{"0x" + strings.Repeat("ef", 64), SubjectPublicKey, "0x" + strings.Repeat("ef", 64), ""},
		{"142.21.31.51", SubjectClientIP, "142.21.31.51", ""},
		{"2001:db8::1", SubjectClientIP, "2001:db8::1", ""},
		{"did:eth:" + addr + "x", SubjectInvalid, "", ""},
		{"did:selfkey:" + addr, SubjectInvalid, "", ""},
		{"<script>", SubjectInvalid, "", ""},
		{strings.Repeat("a", 300), SubjectInvalid, "", ""},
	}
	for _, tt := range tests {
		s, err := ParseSubject(tt.in)
		if tt.kind == SubjectInvalid {
			if !errors.Is(err, ErrInvalidSubject) {
				t.Errorf("ParseSubject(%q) = %+v, %v; want invalid", tt.in, s, err)
			}
			continue
		}
		if err != nil || s.Kind != tt.kind || s.Canonical != tt.canon || s.Chain != tt.chain {
			t.Errorf("ParseSubject(%q) = %+v, %v", tt.in, s, err)
		}
	}
}
