// Package seal is the envelope encryption for personal data at rest: a
// key-encryption key (KEK, from KYCDESK_DATA_KEY) wraps one random data key
// per applicant, and each data key seals that applicant's attribute values
// and document bytes with AES-256-GCM, bound to the applicant by associated
// data. Destroying an applicant's wrapped data key makes every ciphertext of
// that applicant unreadable, in the live database and in old backups alike.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

// version prefixes every sealed value so the format can change later.
const version byte = 1

// ErrDecrypt is returned for any ciphertext that does not open: wrong key,
// wrong applicant, tampered bytes, destroyed key.
var ErrDecrypt = errors.New("seal: ciphertext does not decrypt")

// KEK is the key-encryption key that wraps data keys.
type KEK struct {
	aead   cipher.AEAD
	id     string // short, non-secret fingerprint of the key, for rotation bookkeeping
	macKey []byte // derived from the key, for MAC
}

// ParseKey decodes a 32-byte key given as 64 hex characters or standard /
// URL-safe base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("seal: key must be %d bytes as 64 hex characters or base64", KeySize)
}

// NewKey returns a fresh random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, k); err != nil {
		panic("seal: crypto/rand failed: " + err.Error())
	}
	return k
}

// NewKEK builds a key-encryption key from 32 raw bytes.
func NewKEK(key []byte) (*KEK, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kycdesk/v1/mac-key"))
	return &KEK{aead: aead, id: fingerprint(aead), macKey: m.Sum(nil)}, nil
}

// ID is a non-secret fingerprint of the KEK, stored beside each wrapped key
// so rotation can tell which keys are already re-wrapped.
func (k *KEK) ID() string { return k.id }

// Wrap seals a data key for one applicant.
func (k *KEK) Wrap(applicantID int64, dataKey []byte) ([]byte, error) {
	if len(dataKey) != KeySize {
		return nil, fmt.Errorf("seal: data key must be %d bytes", KeySize)
	}
	return sealWith(k.aead, dataKey, wrapAD(applicantID)), nil
}

// Unwrap opens a wrapped data key of one applicant and returns a DataKey.
func (k *KEK) Unwrap(applicantID int64, wrapped []byte) (*DataKey, error) {
	raw, err := openWith(k.aead, wrapped, wrapAD(applicantID))
	if err != nil {
		return nil, err
	}
	return NewDataKey(applicantID, raw)
}

// DataKey seals and opens the personal data of one applicant.
type DataKey struct {
	applicantID int64
	aead        cipher.AEAD
}

// NewDataKey builds the data key of one applicant from raw bytes.
func NewDataKey(applicantID int64, raw []byte) (*DataKey, error) {
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &DataKey{applicantID: applicantID, aead: aead}, nil
}

// Seal encrypts plaintext, binding it to the applicant.
func (d *DataKey) Seal(plaintext []byte) []byte {
	return sealWith(d.aead, plaintext, dataAD(d.applicantID))
}

// Open decrypts a value sealed for this applicant.
func (d *DataKey) Open(ciphertext []byte) ([]byte, error) {
	return openWith(d.aead, ciphertext, dataAD(d.applicantID))
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key must be %d bytes", KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}

func sealWith(aead cipher.AEAD, plaintext, ad []byte) []byte {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = version
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		panic("seal: crypto/rand failed: " + err.Error())
	}
	return aead.Seal(out, out[1:1+aead.NonceSize()], plaintext, ad)
}

func openWith(aead cipher.AEAD, ciphertext, ad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(ciphertext) < 1+n+aead.Overhead() || ciphertext[0] != version {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, ciphertext[1:1+n], ciphertext[1+n:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

func wrapAD(applicantID int64) []byte {
	return []byte("kycdesk/v1/datakey/" + strconv.FormatInt(applicantID, 10))
}

func dataAD(applicantID int64) []byte {
	return []byte("kycdesk/v1/applicant/" + strconv.FormatInt(applicantID, 10))
}

// fingerprint derives a stable, non-secret id from the key by sealing a
// fixed label with a fixed nonce; it reveals nothing usable about the key.
func fingerprint(aead cipher.AEAD) string {
	nonce := make([]byte, aead.NonceSize())
	tag := aead.Seal(nil, nonce, nil, []byte("kycdesk/v1/kek-fingerprint"))
	return hex.EncodeToString(tag[:8])
}

// MAC authenticates data under a label with a key derived from the KEK
// (HMAC-SHA256): whoever can write the database but does not hold the KEK
// cannot produce it.
func (k *KEK) MAC(label string, data []byte) []byte {
	m := hmac.New(sha256.New, k.macKey)
	m.Write([]byte("kycdesk/v1/" + label + "\x00"))
	m.Write(data)
	return m.Sum(nil)
}

// SealSystem encrypts data that belongs to no applicant yet (an inbound
// callback body before it is matched), bound to a label.
func (k *KEK) SealSystem(label string, plaintext []byte) []byte {
	return sealWith(k.aead, plaintext, []byte("kycdesk/v1/system/"+label))
}

// OpenSystem decrypts what SealSystem sealed under the same label.
func (k *KEK) OpenSystem(label string, ciphertext []byte) ([]byte, error) {
	return openWith(k.aead, ciphertext, []byte("kycdesk/v1/system/"+label))
}
