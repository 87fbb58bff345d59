package selfkey

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"
)

// SignatureBytes is the size of an Ethereum RPC signature: r(32) s(32) v(1).
const SignatureBytes = 65

// PersonalHash is the EIP-191 (version 0x45, personal_sign) hash of msg:
// Keccak-256("\x19Ethereum Signed Message:\n" + len(msg) + msg).
func PersonalHash(msg []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte("\x19Ethereum Signed Message:\n" + strconv.Itoa(len(msg))))
	h.Write(msg)
	return h.Sum(nil)
}

// Recover returns the signer of an Ethereum personal_sign over the bytes of
// nonce as received (the base64 text is not decoded, as the final wallet
// signs it): its address ("0x" + 40 lowercase hex) and its uncompressed
// public key (65 bytes, 0x04 prefix). sigHex is 65 bytes of hex, "0x"
// optional, v in {0, 1, 27, 28}. A malformed signature is
// ErrSignatureMalformed; one that recovers no key is ErrSignatureInvalid.
func Recover(nonce string, sigHex string) (address string, pubkey []byte, err error) {
	s := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(sigHex), "0x"), "0X")
	if len(s) != 2*SignatureBytes {
		return "", nil, fmt.Errorf("selfkey: recover: signature length: %w", ErrSignatureMalformed)
	}
	sig, err := hex.DecodeString(s)
	if err != nil {
		return "", nil, fmt.Errorf("selfkey: recover: signature hex: %w", ErrSignatureMalformed)
	}
	v := sig[64]
	if v >= 27 {
		v -= 27
	}
	if v > 1 {
		return "", nil, fmt.Errorf("selfkey: recover: recovery id: %w", ErrSignatureMalformed)
	}
	// decred's compact form is <27+recid><r><s>, uncompressed key.
	compact := make([]byte, 0, SignatureBytes)
	compact = append(append(compact, 27+v), sig[:64]...)
	pub, _, err := ecdsa.RecoverCompact(compact, PersonalHash([]byte(nonce)))
	if err != nil {
		return "", nil, fmt.Errorf("selfkey: recover: %v: %w", err, ErrSignatureInvalid)
	}
	pubkey = pub.SerializeUncompressed()
	return AddressOf(pubkey), pubkey, nil
}

// AddressOf is the Ethereum address of an uncompressed public key (65 bytes
// with the 0x04 prefix, or the 64 bytes without it): "0x" + the last 20
// bytes of its Keccak-256, lowercase.
func AddressOf(pubkey []byte) string {
	if len(pubkey) == 65 {
		pubkey = pubkey[1:]
	}
	h := sha3.NewLegacyKeccak256()
	h.Write(pubkey)
	return "0x" + hex.EncodeToString(h.Sum(nil)[12:])
}

// PublicKeyHex is the legacy (non-DID) wallet subject for pubkey: "0x" + 128
// lowercase hex of the key without its 0x04 prefix.
func PublicKeyHex(pubkey []byte) string {
	if len(pubkey) == 65 {
		pubkey = pubkey[1:]
	}
	return "0x" + hex.EncodeToString(pubkey)
}

// SubjectMatches reports whether the recovered signer (address and
// uncompressed pubkey) is the subject the challenge was issued to:
// did:eth:0x<address> compares addresses case-insensitively, a legacy
// "0x"+128-hex subject compares public keys. A did:selfkey needs its
// controller looked up on Ethereum, which this function cannot do: it
// returns ErrDIDResolverNotConfigured (Service.Verify resolves it when an
// RPC URL is configured). Any other subject is ErrInvalidSubject.
func SubjectMatches(sub string, address string, pubkey []byte) (bool, error) {
	s, err := ParseSubject(sub)
	if err != nil {
		return false, err
	}
	switch s.Kind {
	case SubjectEthDID:
		return strings.EqualFold(s.Address, address), nil
	case SubjectPublicKey:
		want, err := hex.DecodeString(strings.TrimPrefix(s.PublicKey, "0x"))
		if err != nil {
			return false, fmt.Errorf("selfkey: subject matches: %w", ErrInvalidSubject)
		}
		got := pubkey
		if len(got) == 65 {
			got = got[1:]
		}
		return bytes.Equal(want, got), nil
	case SubjectSelfKeyDID:
		return false, fmt.Errorf("selfkey: subject matches: %w", ErrDIDResolverNotConfigured)
	}
	return false, fmt.Errorf("selfkey: subject matches: %w", ErrInvalidSubject)
}

// Signature is the wallet's answer to a challenge: the hex signature and,
// in DID mode, the key id ("<did>#keys-1") it claims to sign with.
type Signature struct {
	Value string
	KeyID string
}

// maxSignatureBody bounds the POST /auth/challenge body.
const maxSignatureBody = 16 << 10

// ParseSignatureBody reads the POST /auth/challenge body in both shapes the
// wallet sends: {"signature":"0x…"} (seed and legacy mode) and
// {"signature":{"value":"0x…","keyId":"<did>#keys-1"}} (DID mode). A body
// that is not JSON is ErrBadRequest; no signature is ErrSignatureMissing.
func ParseSignatureBody(body []byte) (Signature, error) {
	if len(body) > maxSignatureBody {
		return Signature{}, fmt.Errorf("selfkey: signature body: %w", ErrRequestTooLarge)
	}
	var outer struct {
		Signature json.RawMessage `json:"signature"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return Signature{}, fmt.Errorf("selfkey: signature body: %w", ErrBadRequest)
	}
	raw := bytes.TrimSpace(outer.Signature)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Signature{}, fmt.Errorf("selfkey: signature body: %w", ErrSignatureMissing)
	}
	var sig Signature
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &sig.Value); err != nil {
			return Signature{}, fmt.Errorf("selfkey: signature body: %w", ErrBadRequest)
		}
	case '{':
		var obj struct {
			Value string `json:"value"`
			KeyID string `json:"keyId"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return Signature{}, fmt.Errorf("selfkey: signature body: %w", ErrBadRequest)
		}
		sig = Signature{Value: obj.Value, KeyID: obj.KeyID}
	default:
		return Signature{}, fmt.Errorf("selfkey: signature body: %w", ErrSignatureMalformed)
	}
	if strings.TrimSpace(sig.Value) == "" {
		return Signature{}, fmt.Errorf("selfkey: signature body: %w", ErrSignatureMissing)
	}
	return sig, nil
}
