package selfkey

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Environment variable names read by LoadConfig.
const (
	EnvJWTKey          = "KYCDESK_SELFKEY_JWT_KEY"
	EnvJWTKeyFile      = "KYCDESK_SELFKEY_JWT_KEY_FILE"
	EnvRPCURL          = "KYCDESK_SELFKEY_RPC_URL"
	EnvAllowedOrigins  = "KYCDESK_SELFKEY_ALLOWED_ORIGINS"
	EnvMaxFileBytes    = "KYCDESK_SELFKEY_MAX_FILE_BYTES"
	EnvMaxRequestBytes = "KYCDESK_SELFKEY_MAX_REQUEST_BYTES"
)

// Defaults suited to photos and scans of identity documents: a phone photo
// is a few MB; /users may carry a passport, a selfie and a utility bill.
const (
	DefaultMaxFileBytes    = 10 << 20
	DefaultMaxRequestBytes = 32 << 20
	// MinJWTKeyBytes is the shortest HMAC key accepted (HS256 wants 32).
	MinJWTKeyBytes = 32
)

// Config is the SelfKey wallet-endpoint configuration.
type Config struct {
	// JWTKey signs and verifies our challenge, wallet and user tokens
	// (HS256). Never logged.
	JWTKey []byte
	// RPCURL is an Ethereum JSON-RPC endpoint used to resolve did:selfkey
	// DIDs on the DIDLedger contract; empty disables did:selfkey.
	RPCURL string
	// AllowedOrigins lists the Origin header values accepted from the
	// wallet ("IDW" or a website URL); empty accepts any.
	AllowedOrigins []string
	// MaxFileBytes bounds one uploaded document.
	MaxFileBytes int64
	// MaxRequestBytes bounds a whole request body.
	MaxRequestBytes int64
}

// LoadConfig reads the KYCDESK_SELFKEY_* variables through getenv. The JWT
// key comes from KYCDESK_SELFKEY_JWT_KEY or from the file named by
// KYCDESK_SELFKEY_JWT_KEY_FILE (trailing newline ignored), not both.
// A missing key is not an error here: Configured says whether the wallet
// endpoints can run.
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{MaxFileBytes: DefaultMaxFileBytes, MaxRequestBytes: DefaultMaxRequestBytes}
	key, keyFile := getenv(EnvJWTKey), getenv(EnvJWTKeyFile)
	switch {
	case key != "" && keyFile != "":
		return Config{}, fmt.Errorf("selfkey: config: set %s or %s, not both", EnvJWTKey, EnvJWTKeyFile)
	case key != "":
		cfg.JWTKey = []byte(key)
	case keyFile != "":
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return Config{}, fmt.Errorf("selfkey: config: read %s: %w", EnvJWTKeyFile, err)
		}
		cfg.JWTKey = []byte(strings.TrimRight(string(b), "\r\n"))
	}
	if len(cfg.JWTKey) > 0 && len(cfg.JWTKey) < MinJWTKeyBytes {
		return Config{}, fmt.Errorf("selfkey: config: JWT key is %d bytes, want at least %d", len(cfg.JWTKey), MinJWTKeyBytes)
	}
	if raw := strings.TrimSpace(getenv(EnvRPCURL)); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL may carry an API key: do not echo it.
			return Config{}, fmt.Errorf("selfkey: config: %s is not an http(s) URL", EnvRPCURL)
		}
		cfg.RPCURL = raw
	}
	for _, o := range strings.Split(getenv(EnvAllowedOrigins), ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, strings.TrimRight(o, "/"))
		}
	}
	var err error
	if cfg.MaxFileBytes, err = positiveInt(getenv, EnvMaxFileBytes, DefaultMaxFileBytes); err != nil {
		return Config{}, err
	}
	if cfg.MaxRequestBytes, err = positiveInt(getenv, EnvMaxRequestBytes, DefaultMaxRequestBytes); err != nil {
		return Config{}, err
	}
	if cfg.MaxRequestBytes < cfg.MaxFileBytes {
		return Config{}, fmt.Errorf("selfkey: config: %s (%d) is below %s (%d)", EnvMaxRequestBytes, cfg.MaxRequestBytes, EnvMaxFileBytes, cfg.MaxFileBytes)
	}
	return cfg, nil
}

func positiveInt(getenv func(string) string, name string, def int64) (int64, error) {
	raw := strings.TrimSpace(getenv(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("selfkey: config: %s must be a positive number of bytes", name)
	}
	return n, nil
}

// Configured reports whether the wallet endpoints can run: a JWT key of at
// least MinJWTKeyBytes is set.
func (c Config) Configured() bool { return len(c.JWTKey) >= MinJWTKeyBytes }

// Present reports whether any SelfKey setting was given (as opposed to the
// size limits, which always have defaults), so the app can tell "not
// configured" from "configured incompletely".
func (c Config) Present() bool {
	return len(c.JWTKey) > 0 || c.RPCURL != "" || len(c.AllowedOrigins) > 0
}

// OriginAllowed reports whether the wallet's Origin header is acceptable:
// any origin when AllowedOrigins is empty, otherwise one of them (case and
// a trailing slash ignored).
func (c Config) OriginAllowed(origin string) bool {
	if len(c.AllowedOrigins) == 0 {
		return true
	}
	origin = strings.TrimRight(strings.TrimSpace(origin), "/")
	for _, o := range c.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// errNoKey is returned by NewService when the key is missing or short.
var errNoKey = errors.New("selfkey: JWT key missing or shorter than 32 bytes")
