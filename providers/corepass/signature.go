package corepass

import (
	"bytes"
	"crypto/sha3"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/kycdesk/kycdesk/providers"
)

// SignatureSize is the decoded length of a connector signature: the 114-byte
// Ed448 signature followed by the 57-byte public key of the signer.
const SignatureSize = ed448.SignatureSize + ed448.PublicKeySize

// splitSignature takes a callback's JSON object apart into the message the
// connector signed and the signature: the object re-serialised compactly,
// members in the order received, without its top-level "signature". It
// works on raw member values (never through a Go map, whose order is
// random), so that fields the connector may add later stay covered. A
// repeated key, a non-object body or trailing data is ErrMalformed; an
// absent or non-string signature is ErrBadSignature.
func splitSignature(body []byte) (msg []byte, signature string, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", providers.ErrMalformed, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, "", fmt.Errorf("%w: body is not a JSON object", providers.ErrMalformed)
	}
	var out bytes.Buffer
	out.WriteByte('{')
	seen := map[string]bool{}
	hasSig := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", providers.ErrMalformed, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, "", fmt.Errorf("%w: object key expected", providers.ErrMalformed)
		}
		if seen[key] {
			return nil, "", fmt.Errorf("%w: repeated key %q", providers.ErrMalformed, key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, "", fmt.Errorf("%w: %v", providers.ErrMalformed, err)
		}
		if key == "signature" {
			if err := json.Unmarshal(raw, &signature); err != nil {
				return nil, "", fmt.Errorf("%w: signature is not a string", providers.ErrBadSignature)
			}
			hasSig = true
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(key) // escaped as the connector's encoder writes keys
		out.Write(k)
		out.WriteByte(':')
		if err := json.Compact(&out, raw); err != nil {
			return nil, "", fmt.Errorf("%w: %v", providers.ErrMalformed, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, "", fmt.Errorf("%w: %v", providers.ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", fmt.Errorf("%w: data after the JSON object", providers.ErrMalformed)
	}
	if !hasSig || signature == "" {
		return nil, "", fmt.Errorf("%w: no signature", providers.ErrBadSignature)
	}
	out.WriteByte('}')
	return out.Bytes(), signature, nil
}

// decodeSignature turns the base64 signature into its 171 bytes and checks
// that the embedded signer key is the pinned connector key. go-core's
// "Ecrecover" merely returns that embedded key, so without the pin anyone
// could sign a callback with a key of their own.
func decodeSignature(signature string, pinned []byte) ([]byte, error) {
	if len(pinned) != ed448.PublicKeySize {
		return nil, fmt.Errorf("%w: no pinned connector key configured", providers.ErrBadSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		if sig, err = base64.RawStdEncoding.DecodeString(signature); err != nil {
			return nil, fmt.Errorf("%w: signature is not base64", providers.ErrBadSignature)
		}
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("%w: signature is %d bytes, want %d", providers.ErrBadSignature, len(sig), SignatureSize)
	}
	if subtle.ConstantTimeCompare(sig[ed448.SignatureSize:], pinned) != 1 {
		return nil, fmt.Errorf("%w: signed by a key other than the pinned connector key", providers.ErrBadSignature)
	}
	return sig, nil
}

// verifyEd448 checks RFC 8032 Ed448 (pure, empty context) over
// SHA3-256(msg) with the key embedded in sig (already checked against the
// pin by decodeSignature).
func verifyEd448(msg, sig []byte) bool {
	digest := sha3.Sum256(msg)
	pub := ed448.PublicKey(sig[ed448.SignatureSize:])
	return ed448.Verify(pub, digest[:], sig[:ed448.SignatureSize], "")
}

// verifyMessages accepts the signature if it verifies over any of the
// candidate messages (there is more than one only for data callbacks,
// whose canonical form CorePass has not published).
func verifyMessages(msgs [][]byte, signature string, pinned []byte) error {
	sig, err := decodeSignature(signature, pinned)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if verifyEd448(m, sig) {
			return nil
		}
	}
	return fmt.Errorf("%w: Ed448 verification failed", providers.ErrBadSignature)
}

// checkDeadline refuses a callback received after its signed deadline
// (unix seconds; the connector gives 3 minutes).
func checkDeadline(deadline int64, now time.Time) error {
	if deadline <= 0 {
		return fmt.Errorf("%w: no deadline", providers.ErrMalformed)
	}
	if now.Unix() > deadline {
		return fmt.Errorf("%w: the callback's deadline passed %d s ago", providers.ErrExpired, now.Unix()-deadline)
	}
	return nil
}
