package saml

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers/envconfig"
)

// DefaultRoleAttribute is the attribute that carries group membership when
// KYCDESK_SAML_ROLE_ATTRIBUTE is not set: the ADFS group claim.
const DefaultRoleAttribute = "http://schemas.xmlsoap.org/claims/Group"

// DefaultMetadataRefresh is how often the IdP metadata is re-read when
// KYCDESK_SAML_METADATA_REFRESH is not set: IdPs publish a new certificate days or weeks before they
// sign with it, so an hour is prompt without loading the IdP.
const DefaultMetadataRefresh = time.Hour

// minMetadataRefresh keeps a typo ("1s" for "1h") from polling the IdP every second.
const minMetadataRefresh = time.Minute

// Config is the SAML service provider's configuration, read from the environment by LoadConfig.
type Config struct {
	// IDPMetadata is where the IdP metadata comes from: an https URL (http only on loopback) or a file path.
	IDPMetadata string
	// SPCertFile and SPKeyFile are PEM files holding our signing certificate and RSA key.
	SPCertFile string
	SPKeyFile  string
	// EntityID is our SAML entity ID; it defaults to the SP metadata URL.
	EntityID string
	// BaseURL is the app's externally visible root (scheme, host, optional path prefix, no trailing slash).
	BaseURL string
	// RoleAttribute names the IdP attribute (Name or FriendlyName) whose values RoleRules map to roles.
	RoleAttribute string
	// RoleMap is the raw KYCDESK_SAML_ROLE_MAP value; RoleRules is its parsed form.
	RoleMap   string
	RoleRules []RoleRule
	// AllowIDPInitiated accepts responses that answer no AuthnRequest of ours (off by default).
	AllowIDPInitiated bool
	// LocalLoginDisabled switches off the local password sign-in form.
	LocalLoginDisabled bool
	// MetadataRefresh is how often the running app re-reads IDPMetadata (RunMetadataRefresh), so a
	// rotated IdP certificate is picked up without a restart; 0 means never.
	MetadataRefresh time.Duration
}

// Enabled reports whether SAML sign-in is configured (IdP metadata is set).
func (c Config) Enabled() bool { return c.IDPMetadata != "" }

// MetadataURL is the absolute URL of our SP metadata.
func (c Config) MetadataURL() string { return c.BaseURL + MetadataPath }

// ACSURL is the absolute URL of our assertion consumer service.
func (c Config) ACSURL() string { return c.BaseURL + ACSPath }

// RoleMapping is the attribute name and rules that RoleFor applies, as configured.
func (c Config) RoleMapping() RoleMapping {
	return RoleMapping{Attribute: c.RoleAttribute, Rules: c.RoleRules}
}

// LoadConfig reads the SAML settings through getenv: KYCDESK_SAML_IDP_METADATA, KYCDESK_SAML_SP_CERT,
// KYCDESK_SAML_SP_KEY, KYCDESK_SAML_ENTITY_ID, KYCDESK_SAML_ROLE_ATTRIBUTE, KYCDESK_SAML_ROLE_MAP,
// KYCDESK_SAML_IDP_INITIATED, KYCDESK_SAML_METADATA_REFRESH, KYCDESK_LOCAL_LOGIN, and KYCDESK_BASE_URL (which the entity ID and
// endpoint URLs are built from). It validates what it reads; it opens no file and makes no request.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	cfg := Config{
		IDPMetadata:   get("KYCDESK_SAML_IDP_METADATA"),
		SPCertFile:    get("KYCDESK_SAML_SP_CERT"),
		SPKeyFile:     get("KYCDESK_SAML_SP_KEY"),
		EntityID:      get("KYCDESK_SAML_ENTITY_ID"),
		RoleAttribute: get("KYCDESK_SAML_ROLE_ATTRIBUTE"),
		RoleMap:       get("KYCDESK_SAML_ROLE_MAP"),
	}
	if cfg.RoleAttribute == "" {
		cfg.RoleAttribute = DefaultRoleAttribute
	}
	var err error
	if cfg.AllowIDPInitiated, err = parseBool("KYCDESK_SAML_IDP_INITIATED", get("KYCDESK_SAML_IDP_INITIATED"), false); err != nil {
		return Config{}, err
	}
	localLogin, err := parseBool("KYCDESK_LOCAL_LOGIN", get("KYCDESK_LOCAL_LOGIN"), true)
	if err != nil {
		return Config{}, err
	}
	cfg.LocalLoginDisabled = !localLogin
	if cfg.MetadataRefresh, err = parseRefresh(get("KYCDESK_SAML_METADATA_REFRESH")); err != nil {
		return Config{}, err
	}
	if cfg.RoleRules, err = ParseRoleMap(cfg.RoleMap); err != nil {
		return Config{}, fmt.Errorf("saml config: KYCDESK_SAML_ROLE_MAP: %w", err)
	}
	if base := get("KYCDESK_BASE_URL"); base != "" {
		if cfg.BaseURL, err = normaliseBaseURL(base); err != nil {
			return Config{}, fmt.Errorf("saml config: KYCDESK_BASE_URL: %w", err)
		}
	}
	if !cfg.Enabled() {
		if cfg.LocalLoginDisabled {
			return Config{}, errors.New("saml config: KYCDESK_LOCAL_LOGIN is off but SAML is not configured (set KYCDESK_SAML_IDP_METADATA): nobody could sign in")
		}
		return cfg, nil
	}
	if cfg.BaseURL == "" {
		return Config{}, errors.New("saml config: KYCDESK_BASE_URL is required when KYCDESK_SAML_IDP_METADATA is set")
	}
	if cfg.EntityID == "" {
		cfg.EntityID = cfg.MetadataURL()
	}
	if (cfg.SPCertFile == "") != (cfg.SPKeyFile == "") {
		return Config{}, errors.New("saml config: set both KYCDESK_SAML_SP_CERT and KYCDESK_SAML_SP_KEY, or neither")
	}
	return cfg, nil
}

// parseBool reads an on/off setting; empty means def.
func parseBool(name, v string, def bool) (bool, error) {
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("saml config: %s: want 1/0, true/false, yes/no or on/off, got %q", name, v)
}

// parseRefresh reads KYCDESK_SAML_METADATA_REFRESH: a Go duration of at least a minute, empty for
// DefaultMetadataRefresh, or "off" (or "0", as KYCDESK_RETENTION_INTERVAL takes) for never. Unlike
// the retention schedule a bad value is an error, not the default: whoever set it expects SSO to
// survive the IdP's next certificate rotation, and should learn at start that it will not.
func parseRefresh(v string) (time.Duration, error) {
	d, err := envconfig.Interval{Name: "KYCDESK_SAML_METADATA_REFRESH", Default: DefaultMetadataRefresh,
		Min: minMetadataRefresh, Off: true}.Parse(v)
	if err != nil {
		return 0, fmt.Errorf("saml config: %w", err)
	}
	return d, nil
}

// normaliseBaseURL checks that base is an absolute http(s) URL without query or fragment and
// returns it without a trailing slash.
func normaliseBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("not a URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("want an absolute http(s) URL, got %q", base)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("want no user info, query or fragment in %q", base)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
