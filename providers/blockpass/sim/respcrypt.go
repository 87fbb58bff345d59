package sim

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// responseKey unwraps the per-request AES key from the configured header
// (the assumed scheme: base64 RSA-OAEP/SHA-1 of the hex key). No header or
// no configured key: nil, the reply goes out in plain JSON.
func (s *Server) responseKey(r *http.Request) ([]byte, error) {
	if s.cfg.ResponseEncryptionHeader == "" || s.cfg.ResponseEncryptionKey == nil {
		return nil, nil
	}
	v := strings.TrimSpace(r.Header.Get(s.cfg.ResponseEncryptionHeader))
	if v == "" {
		return nil, nil
	}
	wrapped, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, errors.New("encryption key header is not base64")
	}
	hexKey, err := rsa.DecryptOAEP(sha1.New(), nil, s.cfg.ResponseEncryptionKey, wrapped, nil)
	if err != nil {
		return nil, errors.New("cannot decrypt the encryption key")
	}
	key, err := hex.DecodeString(string(hexKey))
	if err != nil || len(key) != 32 {
		return nil, errors.New("encryption key is not an AES-256 key")
	}
	return key, nil
}

// encryptResponse seals body as {"iv":hex,"data":base64 AES-256-CBC}.
func (s *Server) encryptResponse(key, body []byte) ([]byte, error) {
	random := s.cfg.Rand
	if random == nil {
		random = rand.Reader
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(random, iv); err != nil {
		return nil, err
	}
	n := aes.BlockSize - len(body)%aes.BlockSize
	padded := make([]byte, len(body)+n)
	copy(padded, body)
	for i := len(body); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(padded, padded)
	return json.Marshal(map[string]string{"iv": hex.EncodeToString(iv), "data": base64.StdEncoding.EncodeToString(padded)})
}
