package idfy

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/kycdesk/kycdesk/providers/envsecret"
)

// Environment variables the IDfy adapter reads. Each secret (API key, JWE
// key, webhook secret) may instead be read from the file named by the same
// variable with a _FILE suffix.
const (
	EnvURL           = "KYCDESK_IDFY_URL"
	EnvAccountID     = "KYCDESK_IDFY_ACCOUNT_ID"
	EnvAPIKey        = "KYCDESK_IDFY_API_KEY"
	EnvConfigID      = "KYCDESK_IDFY_CONFIG_ID"
	EnvKeyID         = "KYCDESK_IDFY_KEY_ID"
	EnvKey           = "KYCDESK_IDFY_KEY"
	EnvWebhookSecret = "KYCDESK_IDFY_WEBHOOK_SECRET"
	EnvWebhookHeader = "KYCDESK_IDFY_WEBHOOK_HEADER"
	EnvWebhookAllow  = "KYCDESK_IDFY_WEBHOOK_ALLOW"
)

// PublicBaseURL is the Profile Gateway base URL that public and integrator
// material gives (the seed names none). It is not applied by default: set
// EnvURL.
const PublicBaseURL = "https://api.kyc.idfy.com"

// DefaultWebhookHeader is the request header that carries the optional
// shared webhook secret when EnvWebhookHeader is unset. IDfy publishes no
// webhook authentication; a custom header with a shared value is what can be
// agreed with its integration team.
const DefaultWebhookHeader = "X-KYCDesk-Secret"

// KeySize is the length of the JWE content-encryption key IDfy shares for
// the encrypted data flow (A256GCM).
const KeySize = 32

// Config is how KYC Desk reaches IDfy's Profile Gateway and authenticates
// its webhooks.
type Config struct {
	// URL is the API base; /sync/profiles, /profiles/{id}, ... are appended.
	URL string
	// AccountID and APIKey are sent in the account-id and api-key headers.
	AccountID string
	APIKey    string
	// ConfigID is the journey configuration (package) id IDfy assigns; it
	// goes in config.id of every create-profile request.
	ConfigID string
	// KeyID and Key switch on the encrypted data flow: the kid and the
	// 32-byte CEK that IDfy shares. Both or neither.
	KeyID string
	Key   []byte
	// WebhookSecret, when set, must arrive in the WebhookHeader of every
	// webhook (an arrangement with IDfy, not a published scheme).
	WebhookSecret string
	WebhookHeader string
	// AllowedIPs restricts webhook senders (IDfy's published egress ranges);
	// empty allows any address.
	AllowedIPs []netip.Prefix
	// ReturnBaseURL is where the end user returns when a start request
	// carries no ReturnURL. LoadConfig does not read it: the wiring sets it
	// from the app's own base URL.
	ReturnBaseURL string
}

// LoadConfig reads the IDfy settings through getenv. Secrets come from their
// variable or from the file named by the variable with a _FILE suffix
// (surrounding whitespace trimmed); setting both spellings is an error, as is
// a URL that is not absolute http(s), a key that is not 32 bytes in hex or
// base64, a key without a key id (or the reverse), or a bad CIDR. Errors name
// the variable, never the value. Unset values stay empty (see Configured).
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		URL:           strings.TrimSpace(getenv(EnvURL)),
		AccountID:     strings.TrimSpace(getenv(EnvAccountID)),
		ConfigID:      strings.TrimSpace(getenv(EnvConfigID)),
		KeyID:         strings.TrimSpace(getenv(EnvKeyID)),
		WebhookHeader: strings.TrimSpace(getenv(EnvWebhookHeader)),
	}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("idfy: %s: want an absolute http(s) URL", EnvURL)
		}
		cfg.URL = strings.TrimRight(cfg.URL, "/")
	}
	var err error
	if cfg.APIKey, err = secret(getenv, EnvAPIKey); err != nil {
		return Config{}, err
	}
	if cfg.WebhookSecret, err = secret(getenv, EnvWebhookSecret); err != nil {
		return Config{}, err
	}
	rawKey, err := secret(getenv, EnvKey)
	if err != nil {
		return Config{}, err
	}
	if rawKey != "" {
		if cfg.Key, err = ParseKey(rawKey); err != nil {
			return Config{}, fmt.Errorf("idfy: %s: %w", EnvKey, err)
		}
	}
	if (cfg.KeyID == "") != (len(cfg.Key) == 0) {
		return Config{}, fmt.Errorf("idfy: set both %s and %s for the encrypted flow, or neither", EnvKeyID, EnvKey)
	}
	if cfg.WebhookHeader == "" {
		cfg.WebhookHeader = DefaultWebhookHeader
	}
	if cfg.AllowedIPs, err = ParseAllowList(getenv(EnvWebhookAllow)); err != nil {
		return Config{}, fmt.Errorf("idfy: %s: %w", EnvWebhookAllow, err)
	}
	return cfg, nil
}

// ParseKey decodes a 32-byte key given as 64 hex digits or as base64 (std
// or URL alphabet, padded or not).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("want a %d-byte key, got %d bytes", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("want a %d-byte key in hex or base64", KeySize)
}

// ParseAllowList parses a comma-separated list of CIDRs; a bare address
// stands for itself (/32 or /128).
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("bad CIDR %q", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("bad address %q", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// secret reads name or the file named by name_FILE (envsecret.Read).
func secret(getenv func(string) string, name string) (string, error) {
	v, err := envsecret.Read(getenv, name)
	if err != nil {
		return "", fmt.Errorf("idfy: %w", err)
	}
	return v, nil
}

// Configured reports whether profiles can be created and fetched: a base
// URL, the account id, the API key and the journey config id are set. The
// webhook settings are separate (IDfy webhooks are only triggers).
func (c Config) Configured() bool {
	return c.URL != "" && c.AccountID != "" && c.APIKey != "" && c.ConfigID != ""
}

// Encrypted reports whether the encrypted data flow is on (a key id and a
// 32-byte key).
func (c Config) Encrypted() bool {
	return c.KeyID != "" && len(c.Key) == KeySize
}

// Present reports, by variable name, which settings have a value, for an
// admin page that must not show the values themselves. The webhook header
// always has one (its default), so it is reported as set only when it
// differs from DefaultWebhookHeader.
func (c Config) Present() map[string]bool {
	return map[string]bool{
		EnvURL:           c.URL != "",
		EnvAccountID:     c.AccountID != "",
		EnvAPIKey:        c.APIKey != "",
		EnvConfigID:      c.ConfigID != "",
		EnvKeyID:         c.KeyID != "",
		EnvKey:           len(c.Key) > 0,
		EnvWebhookSecret: c.WebhookSecret != "",
		EnvWebhookHeader: c.WebhookHeader != "" && c.WebhookHeader != DefaultWebhookHeader,
		EnvWebhookAllow:  len(c.AllowedIPs) > 0,
	}
}

// String describes c with its secrets redacted, so that a stray %v in a log
// line cannot leak them.
func (c Config) String() string {
	return fmt.Sprintf("idfy.Config{URL:%q AccountID:%s APIKey:%s ConfigID:%q KeyID:%q Key:%s WebhookSecret:%s WebhookHeader:%q AllowedIPs:%v ReturnBaseURL:%q}",
		c.URL, redacted(c.AccountID), redacted(c.APIKey), c.ConfigID, c.KeyID, redacted(string(c.Key)),
		redacted(c.WebhookSecret), c.WebhookHeader, c.AllowedIPs, c.ReturnBaseURL)
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

func redacted(s string) string {
	if s == "" {
		return "unset"
	}
	return "[redacted]"
}
