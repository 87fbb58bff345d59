package idfy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Sealer encrypts and decrypts the fields of IDfy's encrypted data flow:
// compact JWE (RFC 7516) with the protected header
// {"alg":"dir","enc":"A256GCM","kid":<key id>}, an empty encrypted-key
// segment, a 96-bit IV and a 128-bit tag, under the CEK IDfy shares.
type Sealer struct {
	keyID string
	key   []byte
}

// NewSealer returns a Sealer for keyID and the 32-byte key.
func NewSealer(keyID string, key []byte) (*Sealer, error) {
	if keyID == "" {
		return nil, errors.New("idfy: jwe: empty key id")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("idfy: jwe: want a %d-byte key, got %d bytes", KeySize, len(key))
	}
	return &Sealer{keyID: keyID, key: append([]byte(nil), key...)}, nil
}

// Seal encrypts plaintext into a compact JWE.
func (s *Sealer) Seal(plaintext []byte) (string, error) {
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: s.key, KeyID: s.keyID}, nil)
	if err != nil {
		return "", fmt.Errorf("idfy: jwe: new encrypter: %w", err)
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("idfy: jwe: encrypt: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("idfy: jwe: serialize: %w", err)
	}
	return out, nil
}

// SealJSON encodes v as JSON and seals it.
func (s *Sealer) SealJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("idfy: jwe: encode: %w", err)
	}
	return s.Seal(b)
}

// Open decrypts a compact JWE. Only alg=dir with enc=A256GCM is accepted,
// and a kid, when present, must be this Sealer's key id.
func (s *Sealer) Open(compact string) ([]byte, error) {
	obj, err := jose.ParseEncryptedCompact(strings.TrimSpace(compact), []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, fmt.Errorf("idfy: jwe: parse: %w", err)
	}
	if kid := obj.Header.KeyID; kid != "" && kid != s.keyID {
		return nil, errors.New("idfy: jwe: sealed for another key id")
	}
	plain, err := obj.Decrypt(s.key)
	if err != nil {
		return nil, fmt.Errorf("idfy: jwe: decrypt: %w", err)
	}
	return plain, nil
}

// KeyIDOf reads the kid from a compact JWE's protected header without
// decrypting it (to pick a key, or to report which key a sender used).
func KeyIDOf(compact string) (string, error) {
	head, _, ok := strings.Cut(strings.TrimSpace(compact), ".")
	if !ok {
		return "", errors.New("idfy: jwe: not a compact serialization")
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", fmt.Errorf("idfy: jwe: header: %w", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", fmt.Errorf("idfy: jwe: header: %w", err)
	}
	return h.Kid, nil
}
