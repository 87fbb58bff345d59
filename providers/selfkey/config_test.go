package selfkey

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	key := strings.Repeat("k", 32)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{"empty", nil, "", func(t *testing.T, c Config) {
			if c.Configured() || c.Present() || c.MaxFileBytes != DefaultMaxFileBytes || c.MaxRequestBytes != DefaultMaxRequestBytes {
				t.Errorf("%+v", c)
			}
		}},
		{"key", map[string]string{EnvJWTKey: key}, "", func(t *testing.T, c Config) {
			if !c.Configured() || !c.Present() || string(c.JWTKey) != key {
				t.Errorf("%+v", c)
			}
		}},
		{"key file", map[string]string{EnvJWTKeyFile: keyFile}, "", func(t *testing.T, c Config) {
			if string(c.JWTKey) != key {
				t.Errorf("key from file = %q", c.JWTKey)
			}
		}},
		{"both", map[string]string{EnvJWTKey: key, EnvJWTKeyFile: keyFile}, "not both", nil},
		{"missing file", map[string]string{EnvJWTKeyFile: keyFile + ".nope"}, "read", nil},
		{"short key", map[string]string{EnvJWTKey: "short"}, "at least 32", nil},
		{"origins and limits", map[string]string{EnvAllowedOrigins: " IDW, https://desk.example.org/ ,", EnvMaxFileBytes: "1000", EnvMaxRequestBytes: "5000", EnvRPCURL: "https://rpc.example.org/v3/secret"}, "", func(t *testing.T, c Config) {
			if len(c.AllowedOrigins) != 2 || c.MaxFileBytes != 1000 || c.MaxRequestBytes != 5000 || c.RPCURL == "" || !c.Present() || c.Configured() {
				t.Errorf("%+v", c)
			}
			if !c.OriginAllowed("https://DESK.example.org") || !c.OriginAllowed("IDW") || c.OriginAllowed("https://evil.example") || c.OriginAllowed("") {
				t.Errorf("origin check wrong")
			}
		}},
		{"bad rpc url hides the secret", map[string]string{EnvRPCURL: "ftp://rpc/secret-token"}, "not an http", func(t *testing.T, c Config) {}},
		{"bad limit", map[string]string{EnvMaxFileBytes: "-1"}, "positive", nil},
		{"request below file", map[string]string{EnvMaxFileBytes: "1000", EnvMaxRequestBytes: "10"}, "below", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), key) {
					t.Fatalf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
	if !(Config{}).OriginAllowed("anything") {
		t.Error("no allow-list must accept any origin")
	}
}
