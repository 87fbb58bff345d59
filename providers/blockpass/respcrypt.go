package blockpass

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ResponseEncryptionNote states what the per-request response encryption
// rests on, for the admin page and for whoever switches it on.
const ResponseEncryptionNote = "Blockpass per-request response encryption is NOT publicly specified: the " +
	"seed only says to generate an AES key per request, encrypt it to the Blockpass Cloud Dashboard RSA " +
	"public key, put it in a request header and expect the response encrypted with it, and to contact " +
	"Blockpass for the protocol and keys. The header name and key are configurable; the wrapping and " +
	"response format implemented here (RSA-OAEP/SHA-1 over the hex AES-256 key, response " +
	"{\"iv\":hex,\"data\":base64 AES-256-CBC/PKCS#7}) are an assumption modelled on Blockpass's public " +
	"export encryption and must be confirmed with Blockpass before use against the real API."

// encryptedResponse is the assumed shape of an encrypted reply body (see
// ResponseEncryptionNote): the IV in hex and the AES-256-CBC ciphertext of
// the plaintext JSON reply in base64.
type encryptedResponse struct {
	IV   string `json:"iv"`
	Data string `json:"data"`
}

// newResponseKey makes a fresh AES-256 key for one request and the header
// that carries it wrapped to the dashboard key: base64(RSA-OAEP-SHA1(
// hex(key))), mirroring the public export scheme. Returns nil, nil when
// response encryption is off.
func newResponseKey(random io.Reader, header string, pub *rsa.PublicKey) (http.Header, []byte, error) {
	if pub == nil {
		return nil, nil, nil
	}
	if random == nil {
		random = rand.Reader
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(random, key); err != nil {
		return nil, nil, fmt.Errorf("generate response key: %w", err)
	}
	wrapped, err := rsa.EncryptOAEP(sha1.New(), random, pub, []byte(hex.EncodeToString(key)), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("wrap response key: %w", err)
	}
	h := http.Header{}
	h.Set(header, base64.StdEncoding.EncodeToString(wrapped))
	return h, key, nil
}

// decryptResponse opens an encrypted reply body with the request's key.
func decryptResponse(key, body []byte) ([]byte, error) {
	var env encryptedResponse
	if err := json.Unmarshal(body, &env); err != nil || env.Data == "" || env.IV == "" {
		return nil, errors.New("response is not encrypted although encryption was requested")
	}
	iv, err := hex.DecodeString(env.IV)
	if err != nil {
		return nil, errors.New("encrypted response: iv is not hex")
	}
	ct, err := base64.StdEncoding.DecodeString(env.Data)
	if err != nil {
		return nil, errors.New("encrypted response: data is not base64")
	}
	plain, err := decryptCBC(key, iv, ct)
	if err != nil {
		return nil, fmt.Errorf("encrypted response: %w", err)
	}
	return plain, nil
}
