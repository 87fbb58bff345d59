package verifyyou

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/kycdesk/kycdesk/providers/envsecret"
)

// Environment variables the VerifyYou adapter reads. Each secret may instead
// be read from the file named by the same variable with a _FILE suffix.
const (
	EnvURL           = "KYCDESK_VERIFYYOU_URL"
	EnvAPIKey        = "KYCDESK_VERIFYYOU_API_KEY"
	EnvWebhookSecret = "KYCDESK_VERIFYYOU_WEBHOOK_SECRET"
)

// PublicBaseURL is the base URL the public VerifyYou v1 documentation gives
// (the seed names none). It is not applied by default: set EnvURL.
const PublicBaseURL = "https://api.connect.verifyyou.com"

// Config is how KYC Desk reaches VerifyYou and authenticates its webhooks.
type Config struct {
	// URL is the API base; the /v1/business_connect_user/... paths are
	// appended to it.
	URL string
	// APIKey is sent in the API-KEY header of every call.
	APIKey string
	// WebhookSecret is the shared secret VerifyYou signs webhooks with
	// (exchanged by hand, per the seed).
	WebhookSecret string
}

// LoadConfig reads the VerifyYou settings through getenv. The API key and
// the webhook secret come from their variable or from the file named by the
// variable with a _FILE suffix (surrounding whitespace trimmed); setting
// both spellings of one secret is an error, as is a URL that is not an
// absolute http(s) URL or an unreadable file. Unset values stay empty (see
// Configured).
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{URL: strings.TrimSpace(getenv(EnvURL))}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("verifyyou: %s: want an absolute http(s) URL", EnvURL)
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
	return cfg, nil
}

// secret reads name or the file named by name_FILE (envsecret.Read).
func secret(getenv func(string) string, name string) (string, error) {
	v, err := envsecret.Read(getenv, name)
	if err != nil {
		return "", fmt.Errorf("verifyyou: %w", err)
	}
	return v, nil
}

// Configured reports whether the API can be called: a base URL and an API
// key are set. The webhook secret is separate: without it every webhook is
// refused, but polling still works.
func (c Config) Configured() bool {
	return c.URL != "" && c.APIKey != ""
}

// Present reports, by variable name, which settings have a value, for an
// admin page that must not show the values themselves.
func (c Config) Present() map[string]bool {
	return map[string]bool{
		EnvURL:           c.URL != "",
		EnvAPIKey:        c.APIKey != "",
		EnvWebhookSecret: c.WebhookSecret != "",
	}
}

// String describes c with its secrets redacted, so that a stray %v in a log
// line cannot leak them.
func (c Config) String() string {
	return fmt.Sprintf("verifyyou.Config{URL:%q APIKey:%s WebhookSecret:%s}", c.URL, redacted(c.APIKey), redacted(c.WebhookSecret))
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

func redacted(s string) string {
	if s == "" {
		return "unset"
	}
	return "[redacted]"
}
