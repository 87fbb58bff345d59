package corepass

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/cloudflare/circl/sign/ed448"
)

// Environment variables the CorePass adapter reads.
const (
	EnvURL        = "KYCDESK_COREPASS_URL"
	EnvPubKey     = "KYCDESK_COREPASS_PUBKEY"
	EnvPubKeyFile = "KYCDESK_COREPASS_PUBKEY_FILE"
	EnvNetwork    = "KYCDESK_COREPASS_NETWORK"
)

// Config is how KYC Desk reaches its self-hosted CorePass connector and
// which key it trusts for the connector's signed callbacks.
type Config struct {
	// URL is the connector's address (CONNECTOR_ADDRESS in the CorePass
	// document); the /api/v1/... paths are appended to it.
	URL string
	// PubKey is the pinned 57-byte Ed448 public key of the connector
	// (the key behind its PRIVATE_KEY_SIGNATURE). Callbacks signed by any
	// other key are refused.
	PubKey []byte
	// Network optionally restricts accepted Core IDs to one network prefix:
	// "cb" (mainnet), "ab" (Devin testnet) or "ce" (enterprise). Empty
	// accepts all three.
	Network string
}

// LoadConfig reads the CorePass settings through getenv. The pinned key is
// KYCDESK_COREPASS_PUBKEY (hex or base64) or the file named by
// KYCDESK_COREPASS_PUBKEY_FILE (same encodings, or the 57 raw bytes). A
// malformed value is an error; an unset one is simply left empty (see
// Configured and Validate).
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{URL: strings.TrimSpace(getenv(EnvURL))}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("corepass: %s: want an http(s) URL of the connector", EnvURL)
		}
		cfg.URL = strings.TrimRight(cfg.URL, "/")
	}

	keyText := strings.TrimSpace(getenv(EnvPubKey))
	keyFile := strings.TrimSpace(getenv(EnvPubKeyFile))
	switch {
	case keyText != "" && keyFile != "":
		return Config{}, fmt.Errorf("corepass: set only one of %s and %s", EnvPubKey, EnvPubKeyFile)
	case keyText != "":
		key, err := ParsePublicKey([]byte(keyText))
		if err != nil {
			return Config{}, fmt.Errorf("corepass: %s: %w", EnvPubKey, err)
		}
		cfg.PubKey = key
	case keyFile != "":
		raw, err := os.ReadFile(keyFile)
		if err != nil {
			return Config{}, fmt.Errorf("corepass: %s: read key file: %w", EnvPubKeyFile, err)
		}
		key, err := ParsePublicKey(raw)
		if err != nil {
			return Config{}, fmt.Errorf("corepass: %s: %w", EnvPubKeyFile, err)
		}
		cfg.PubKey = key
	}

	if n := strings.ToLower(strings.TrimSpace(getenv(EnvNetwork))); n != "" {
		prefix, err := networkPrefix(n)
		if err != nil {
			return Config{}, fmt.Errorf("corepass: %s: %w", EnvNetwork, err)
		}
		cfg.Network = prefix
	}
	return cfg, nil
}

// Configured reports whether any CorePass setting is present, i.e. whether
// the operator meant to use a real connector rather than the sandbox.
func (c Config) Configured() bool {
	return c.URL != "" || len(c.PubKey) > 0 || c.Network != ""
}

// Present reports which settings are set, by environment variable name,
// without their values (for the admin page). The key counts as set whether
// it came from the variable or from the file.
func (c Config) Present() map[string]bool {
	return map[string]bool{
		EnvURL:     c.URL != "",
		EnvPubKey:  len(c.PubKey) == ed448.PublicKeySize,
		EnvNetwork: c.Network != "",
	}
}

// Validate reports what is missing for a working adapter: the connector URL
// and the pinned key are both required.
func (c Config) Validate() error {
	var missing []string
	if c.URL == "" {
		missing = append(missing, EnvURL)
	}
	if len(c.PubKey) != ed448.PublicKeySize {
		missing = append(missing, EnvPubKey+" (or "+EnvPubKeyFile+")")
	}
	if len(missing) > 0 {
		return fmt.Errorf("corepass: missing settings: %s", strings.Join(missing, ", "))
	}
	return nil
}

// ParsePublicKey decodes a 57-byte Ed448 public key written as hex (with
// or without 0x), standard or URL-safe base64 (padded or not), or given as
// the raw bytes. Surrounding whitespace is ignored.
func ParsePublicKey(text []byte) ([]byte, error) {
	if len(text) == ed448.PublicKeySize {
		// Raw bytes, as a key file may hold them. A 57-character text key
		// cannot be valid hex (odd) and decodes to 42 bytes as base64, so
		// there is no ambiguity.
		return append([]byte(nil), text...), nil
	}
	s := strings.TrimSpace(string(text))
	if s == "" {
		return nil, errors.New("empty key")
	}
	hexText := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if b, err := hex.DecodeString(hexText); err == nil {
		return checkKeyLen(b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return checkKeyLen(b)
		}
	}
	return nil, fmt.Errorf("want a %d-byte Ed448 public key in hex or base64", ed448.PublicKeySize)
}

func checkKeyLen(b []byte) ([]byte, error) {
	if len(b) != ed448.PublicKeySize {
		return nil, fmt.Errorf("want a %d-byte Ed448 public key, got %d bytes", ed448.PublicKeySize, len(b))
	}
	return b, nil
}
