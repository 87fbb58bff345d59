package blockpass

import (
	"crypto/rsa"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/kycdesk/kycdesk/providers/envsecret"
)

// Environment variables the Blockpass adapter reads. The API key and the
// webhook secret may instead be read from the file named by the same
// variable with a _FILE suffix; the keys are always read from files.
const (
	EnvURL              = "KYCDESK_BLOCKPASS_URL"
	EnvClientID         = "KYCDESK_BLOCKPASS_CLIENT_ID"
	EnvAPIKey           = "KYCDESK_BLOCKPASS_API_KEY"
	EnvWebhookSecret    = "KYCDESK_BLOCKPASS_WEBHOOK_SECRET"
	EnvExportKeyFile    = "KYCDESK_BLOCKPASS_EXPORT_KEY_FILE"
	EnvEncryptionHeader = "KYCDESK_BLOCKPASS_ENCRYPTION_HEADER"
	EnvEncryptionKey    = "KYCDESK_BLOCKPASS_ENCRYPTION_KEY_FILE"
)

// PublicBaseURL is the cloud Dashboard API host the public Blockpass
// documentation gives; on-premise dashboards have their own. It is not
// applied by default: set EnvURL.
const PublicBaseURL = "https://kyc.blockpass.org"

// Config is how KYC Desk reaches Blockpass KYC Connect, authenticates its
// webhooks and reads its encrypted exports.
type Config struct {
	// URL is the dashboard host; /kyc/1.0/connect/{ClientID}/... is
	// appended to it.
	URL string
	// ClientID is the KYC Connect service's client id.
	ClientID string
	// APIKey is sent verbatim in the Authorization header (no "Bearer").
	APIKey string
	// WebhookSecret is the "Endpoint secret" of the service's webhook; it
	// keys the X-Hub-Signature HMAC.
	WebhookSecret string
	// ExportPrivateKeyPEM is the customer-owned RSA private key (PKCS#8 or
	// PKCS#1 PEM) that unwraps encrypted profile exports (profile.bin +
	// meta.json). Optional.
	ExportPrivateKeyPEM []byte
	// ResponseEncryptionHeader and ResponseEncryptionKeyPEM switch on the
	// per-request response encryption (see ResponseEncryptionNote): the
	// request header that carries the wrapped AES key, and the Blockpass
	// Cloud Dashboard RSA public key (PKIX or PKCS#1 PEM, or a certificate)
	// the AES key is wrapped to. Both or neither.
	ResponseEncryptionHeader string
	ResponseEncryptionKeyPEM []byte
	// ConnectPattern overrides DefaultConnectPattern for ConnectLink, with
	// the same {clientId} and {refId} placeholders. Sandbox mode points it
	// at the simulator's end-user page (sim.Server.ConnectPattern). It has
	// no environment variable on purpose: production uses the default.
	ConnectPattern string
}

// LoadConfig reads the Blockpass settings through getenv. The API key and
// the webhook secret come from their variable or from the file named by the
// variable with a _FILE suffix (surrounding whitespace trimmed); setting both
// spellings of one secret is an error, as are a URL that is not an absolute
// http(s) URL, an unreadable file, a key file that holds no usable RSA key,
// and half of the response encryption settings. Unset values stay empty
// (see Configured).
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		URL:                      strings.TrimSpace(getenv(EnvURL)),
		ClientID:                 strings.TrimSpace(getenv(EnvClientID)),
		ResponseEncryptionHeader: strings.TrimSpace(getenv(EnvEncryptionHeader)),
	}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("blockpass: %s: want an absolute http(s) URL", EnvURL)
		}
		cfg.URL = strings.TrimRight(cfg.URL, "/")
	}
	if strings.ContainsAny(cfg.ClientID, "/?#% ") {
		return Config{}, fmt.Errorf("blockpass: %s: a client id has no '/', '?', '#', '%%' or spaces", EnvClientID)
	}
	var err error
	if cfg.APIKey, err = secret(getenv, EnvAPIKey); err != nil {
		return Config{}, err
	}
	if cfg.WebhookSecret, err = secret(getenv, EnvWebhookSecret); err != nil {
		return Config{}, err
	}
	if path := strings.TrimSpace(getenv(EnvExportKeyFile)); path != "" {
		if cfg.ExportPrivateKeyPEM, err = os.ReadFile(path); err != nil {
			return Config{}, fmt.Errorf("blockpass: %s: read key file: %w", EnvExportKeyFile, err)
		}
		if _, err := ParsePrivateKeyPEM(cfg.ExportPrivateKeyPEM); err != nil {
			return Config{}, fmt.Errorf("blockpass: %s: %w", EnvExportKeyFile, err)
		}
	}
	if path := strings.TrimSpace(getenv(EnvEncryptionKey)); path != "" {
		if cfg.ResponseEncryptionKeyPEM, err = os.ReadFile(path); err != nil {
			return Config{}, fmt.Errorf("blockpass: %s: read key file: %w", EnvEncryptionKey, err)
		}
	}
	if _, err := cfg.responseKey(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// secret reads name or the file named by name_FILE (envsecret.Read).
func secret(getenv func(string) string, name string) (string, error) {
	v, err := envsecret.Read(getenv, name)
	if err != nil {
		return "", fmt.Errorf("blockpass: %w", err)
	}
	return v, nil
}

// responseKey parses the response encryption public key; nil when the
// feature is off. Header and key must be set together.
func (c Config) responseKey() (*rsa.PublicKey, error) {
	hasHeader, hasKey := c.ResponseEncryptionHeader != "", len(c.ResponseEncryptionKeyPEM) > 0
	switch {
	case !hasHeader && !hasKey:
		return nil, nil
	case hasHeader != hasKey:
		return nil, fmt.Errorf("blockpass: response encryption needs both %s and %s", EnvEncryptionHeader, EnvEncryptionKey)
	}
	pub, err := ParsePublicKeyPEM(c.ResponseEncryptionKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("blockpass: %s: %w", EnvEncryptionKey, err)
	}
	return pub, nil
}

// Configured reports whether the API can be called: a base URL, a client id
// and an API key are set. The webhook secret is separate: without it every
// webhook is refused, but polling still works.
func (c Config) Configured() bool {
	return c.URL != "" && c.ClientID != "" && c.APIKey != ""
}

// Present reports, by variable name, which settings have a value, for an
// admin page that must not show the values themselves.
func (c Config) Present() map[string]bool {
	return map[string]bool{
		EnvURL:              c.URL != "",
		EnvClientID:         c.ClientID != "",
		EnvAPIKey:           c.APIKey != "",
		EnvWebhookSecret:    c.WebhookSecret != "",
		EnvExportKeyFile:    len(c.ExportPrivateKeyPEM) > 0,
		EnvEncryptionHeader: c.ResponseEncryptionHeader != "",
		EnvEncryptionKey:    len(c.ResponseEncryptionKeyPEM) > 0,
	}
}

// String describes c with its secrets redacted, so that a stray %v in a log
// line cannot leak them.
func (c Config) String() string {
	return fmt.Sprintf("blockpass.Config{URL:%q ClientID:%q APIKey:%s WebhookSecret:%s ExportKey:%s ResponseEncryption:%s}",
		c.URL, c.ClientID, redacted(c.APIKey), redacted(c.WebhookSecret),
		redacted(string(c.ExportPrivateKeyPEM)), redacted(c.ResponseEncryptionHeader))
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

func redacted(s string) string {
	if s == "" {
		return "unset"
	}
	return "[redacted]"
}
