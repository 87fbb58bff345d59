package corepass

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	v := loadVectors(t)
	pub := v.pubKey(t)
	dir := t.TempDir()
	hexFile := filepath.Join(dir, "key.hex")
	if err := os.WriteFile(hexFile, []byte(v.ConnectorPubKeyHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rawFile := filepath.Join(dir, "key.bin")
	if err := os.WriteFile(rawFile, pub, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		wantKey bool
		wantNet string
	}{
		{name: "nothing set", env: map[string]string{}},
		{name: "hex key", env: map[string]string{EnvURL: "http://connector:8080/", EnvPubKey: v.ConnectorPubKeyHex}, wantKey: true},
		{name: "0x hex key", env: map[string]string{EnvPubKey: "0x" + strings.ToUpper(v.ConnectorPubKeyHex)}, wantKey: true},
		{name: "base64 key", env: map[string]string{EnvPubKey: base64.StdEncoding.EncodeToString(pub)}, wantKey: true},
		{name: "raw url base64 key", env: map[string]string{EnvPubKey: base64.RawURLEncoding.EncodeToString(pub)}, wantKey: true},
		{name: "hex key file", env: map[string]string{EnvPubKeyFile: hexFile}, wantKey: true},
		{name: "raw key file", env: map[string]string{EnvPubKeyFile: rawFile}, wantKey: true},
		{name: "network name", env: map[string]string{EnvNetwork: "Devin"}, wantNet: "ab"},
		{name: "short key", env: map[string]string{EnvPubKey: hex.EncodeToString(pub[:32])}, wantErr: "57-byte Ed448 public key, got 32 bytes"},
		{name: "garbage key", env: map[string]string{EnvPubKey: "not a key!"}, wantErr: "hex or base64"},
		{name: "both key settings", env: map[string]string{EnvPubKey: v.ConnectorPubKeyHex, EnvPubKeyFile: hexFile}, wantErr: "set only one"},
		{name: "missing key file", env: map[string]string{EnvPubKeyFile: filepath.Join(dir, "nope")}, wantErr: "read key file"},
		{name: "bad url", env: map[string]string{EnvURL: "connector:8080"}, wantErr: EnvURL},
		{name: "bad network", env: map[string]string{EnvNetwork: "moon"}, wantErr: "unknown network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(envOf(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), v.ConnectorPubKeyHex) {
					t.Error("error repeats the key value")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantKey && hex.EncodeToString(cfg.PubKey) != v.ConnectorPubKeyHex {
				t.Errorf("key = %x", cfg.PubKey)
			}
			if cfg.Network != tc.wantNet {
				t.Errorf("network = %q, want %q", cfg.Network, tc.wantNet)
			}
			if got, want := cfg.Configured(), len(tc.env) > 0; got != want {
				t.Errorf("Configured() = %v, want %v", got, want)
			}
		})
	}
}

func TestConfigPresentAndValidate(t *testing.T) {
	v := loadVectors(t)
	cfg, err := LoadConfig(envOf(map[string]string{EnvURL: "https://connector.internal/", EnvPubKey: v.ConnectorPubKeyHex}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "https://connector.internal" {
		t.Errorf("URL = %q, want trailing slash trimmed", cfg.URL)
	}
	p := cfg.Present()
	if !p[EnvURL] || !p[EnvPubKey] || p[EnvNetwork] {
		t.Errorf("Present() = %v", p)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	err = Config{URL: "http://x"}.Validate()
	if err == nil || !strings.Contains(err.Error(), EnvPubKey) || strings.Contains(err.Error(), EnvURL+",") {
		t.Errorf("Validate() without key = %v", err)
	}
}
