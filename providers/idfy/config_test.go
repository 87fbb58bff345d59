package idfy

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	key := bytes.Repeat([]byte{0xA5}, KeySize)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apiKeyFile := filepath.Join(dir, "apikey")
	if err := os.WriteFile(apiKeyFile, []byte("  api-key-from-file \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := map[string]string{
		EnvURL: "https://api.kyc.idfy.com/", EnvAccountID: "123-456-789/123", EnvAPIKey: "k-1",
		EnvConfigID: "cfg-1", EnvKeyID: "kid-1", EnvKey: hex.EncodeToString(key),
		EnvWebhookSecret: "shh", EnvWebhookAllow: "10.0.0.0/8, 192.168.1.7 ,2001:db8::/32",
	}
	with := func(over map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for k, v := range over {
			if v == "-" {
				delete(m, k)
				continue
			}
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "full, hex key", env: full, check: func(t *testing.T, c Config) {
			if c.URL != "https://api.kyc.idfy.com" || c.AccountID != "123-456-789/123" || c.APIKey != "k-1" || c.ConfigID != "cfg-1" {
				t.Errorf("got %+v", c)
			}
			if !bytes.Equal(c.Key, key) || c.KeyID != "kid-1" || !c.Encrypted() {
				t.Error("key not loaded")
			}
			if c.WebhookHeader != DefaultWebhookHeader || c.WebhookSecret != "shh" {
				t.Errorf("webhook header %q", c.WebhookHeader)
			}
			want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("2001:db8::/32")}
			if fmt.Sprint(c.AllowedIPs) != fmt.Sprint(want) {
				t.Errorf("allow list %v, want %v", c.AllowedIPs, want)
			}
			if !c.Configured() {
				t.Error("not Configured")
			}
		}},
		{name: "base64url key without padding and custom header", env: with(map[string]string{EnvKey: base64.RawURLEncoding.EncodeToString(key), EnvWebhookHeader: "X-Idfy-Token"}), check: func(t *testing.T, c Config) {
			if !bytes.Equal(c.Key, key) || c.WebhookHeader != "X-Idfy-Token" {
				t.Errorf("key or header wrong: %q", c.WebhookHeader)
			}
			if !c.Present()[EnvWebhookHeader] {
				t.Error("custom header not reported present")
			}
		}},
		{name: "secrets from files", env: with(map[string]string{EnvKey: "-", EnvKey + "_FILE": keyFile, EnvAPIKey: "-", EnvAPIKey + "_FILE": apiKeyFile}), check: func(t *testing.T, c Config) {
			if !bytes.Equal(c.Key, key) || c.APIKey != "api-key-from-file" {
				t.Errorf("file secrets not read: api key %q", c.APIKey)
			}
		}},
		{name: "nothing set", env: map[string]string{}, check: func(t *testing.T, c Config) {
			if c.Configured() || c.Encrypted() || len(c.AllowedIPs) != 0 {
				t.Errorf("empty env configured: %v", c)
			}
			for k, v := range c.Present() {
				if v {
					t.Errorf("%s reported present", k)
				}
			}
		}},
		{name: "no config id is not configured", env: with(map[string]string{EnvConfigID: "-"}), check: func(t *testing.T, c Config) {
			if c.Configured() {
				t.Error("Configured without a config id")
			}
		}},
		{name: "both spellings", env: with(map[string]string{EnvAPIKey + "_FILE": apiKeyFile}), wantErr: "set only one of KYCDESK_IDFY_API_KEY"},
		{name: "missing file", env: with(map[string]string{EnvWebhookSecret: "-", EnvWebhookSecret + "_FILE": filepath.Join(dir, "nope")}), wantErr: "KYCDESK_IDFY_WEBHOOK_SECRET_FILE"},
		{name: "short key", env: with(map[string]string{EnvKey: base64.StdEncoding.EncodeToString(key[:16])}), wantErr: "want a 32-byte key, got 16"},
		{name: "garbage key", env: with(map[string]string{EnvKey: "not a key!"}), wantErr: "KYCDESK_IDFY_KEY"},
		{name: "key without key id", env: with(map[string]string{EnvKeyID: "-"}), wantErr: "set both"},
		{name: "key id without key", env: with(map[string]string{EnvKey: "-"}), wantErr: "set both"},
		{name: "relative URL", env: with(map[string]string{EnvURL: "api.kyc.idfy.com"}), wantErr: "absolute http(s) URL"},
		{name: "bad CIDR", env: with(map[string]string{EnvWebhookAllow: "10.0.0.0/33"}), wantErr: "bad CIDR"},
		{name: "bad address", env: with(map[string]string{EnvWebhookAllow: "idfy.com"}), wantErr: "bad address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for _, secret := range []string{"k-1", "shh", hex.EncodeToString(key)} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestConfigStringRedacts(t *testing.T) {
	c := Config{URL: "https://x", AccountID: "acct", APIKey: "topsecret-key", KeyID: "kid", Key: []byte("0123456789abcdef0123456789abcdef"), WebhookSecret: "hook-secret"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		for _, secret := range []string{"topsecret-key", "hook-secret", "0123456789abcdef"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q leaks %q", s, secret)
			}
		}
	}
}
