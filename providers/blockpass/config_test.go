package blockpass

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	key := testKey(t)
	privFile := writeFile(t, "export.pem", pkcs8PEM(t, key))
	pkcs1File := writeFile(t, "export-pkcs1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	pubFile := writeFile(t, "dashboard.pub.pem", pkixPEM(t, key))
	apiKeyFile := writeFile(t, "api-key", []byte("  key-from-file\n"))
	emptyFile := writeFile(t, "empty", []byte("\n"))
	notKey := writeFile(t, "not-a-key.pem", []byte("hello"))

	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "nothing set", env: nil, check: func(t *testing.T, c Config) {
			if c.Configured() {
				t.Error("Configured() = true with nothing set")
			}
		}},
		{name: "everything", env: map[string]string{
			EnvURL: "https://kyc.blockpass.org/", EnvClientID: "kyc_demo_b6213", EnvAPIKey: "k1", EnvWebhookSecret: "s1",
			EnvExportKeyFile: privFile, EnvEncryptionHeader: "X-Encryption-Key", EnvEncryptionKey: pubFile,
		}, check: func(t *testing.T, c Config) {
			if !c.Configured() || c.URL != "https://kyc.blockpass.org" || c.ClientID != "kyc_demo_b6213" || c.APIKey != "k1" || c.WebhookSecret != "s1" {
				t.Errorf("got %+v", c)
			}
			if len(c.ExportPrivateKeyPEM) == 0 || len(c.ResponseEncryptionKeyPEM) == 0 || c.ResponseEncryptionHeader != "X-Encryption-Key" {
				t.Error("keys not loaded")
			}
		}},
		{name: "secret from file", env: map[string]string{EnvURL: "http://127.0.0.1:9", EnvClientID: "c", EnvAPIKey + "_FILE": apiKeyFile}, check: func(t *testing.T, c Config) {
			if c.APIKey != "key-from-file" {
				t.Errorf("APIKey = %q, want trimmed file content", c.APIKey)
			}
		}},
		{name: "PKCS#1 export key", env: map[string]string{EnvExportKeyFile: pkcs1File}, check: func(t *testing.T, c Config) {
			if _, err := ParsePrivateKeyPEM(c.ExportPrivateKeyPEM); err != nil {
				t.Error(err)
			}
		}},
		{name: "both spellings", env: map[string]string{EnvWebhookSecret: "s", EnvWebhookSecret + "_FILE": apiKeyFile}, wantErr: "set only one of " + EnvWebhookSecret},
		{name: "empty secret file", env: map[string]string{EnvAPIKey + "_FILE": emptyFile}, wantErr: "the file is empty"},
		{name: "missing secret file", env: map[string]string{EnvAPIKey + "_FILE": "/nonexistent/key"}, wantErr: EnvAPIKey + "_FILE"},
		{name: "relative URL", env: map[string]string{EnvURL: "kyc.blockpass.org"}, wantErr: "absolute http(s) URL"},
		{name: "client id with slash", env: map[string]string{EnvClientID: "a/b"}, wantErr: EnvClientID},
		{name: "export key not a key", env: map[string]string{EnvExportKeyFile: notKey}, wantErr: EnvExportKeyFile},
		{name: "encryption header without key", env: map[string]string{EnvEncryptionHeader: "X-K"}, wantErr: "needs both"},
		{name: "encryption key without header", env: map[string]string{EnvEncryptionKey: pubFile}, wantErr: "needs both"},
		{name: "encryption key is a private key", env: map[string]string{EnvEncryptionHeader: "X-K", EnvEncryptionKey: privFile}, wantErr: EnvEncryptionKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
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

func TestConfigNeverShowsSecrets(t *testing.T) {
	c := Config{URL: "https://kyc.blockpass.org", ClientID: "svc", APIKey: "api-SECRET", WebhookSecret: "hook-SECRET", ExportPrivateKeyPEM: []byte("PEM-SECRET")}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("secret leaked: %s", s)
		}
	}
	p := c.Present()
	want := map[string]bool{EnvURL: true, EnvClientID: true, EnvAPIKey: true, EnvWebhookSecret: true, EnvExportKeyFile: true, EnvEncryptionHeader: false, EnvEncryptionKey: false}
	if len(p) != len(want) {
		t.Fatalf("Present() has %d keys, want %d", len(p), len(want))
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("Present()[%s] = %v, want %v", k, p[k], v)
		}
	}
}

func TestConnectLink(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		refID string
		want  string
	}{
		{"production", Config{ClientID: "kyc_demo_b6213"}, "ref-42", "https://verify-with.blockpass.org/?clientId=kyc_demo_b6213&refId=ref-42"},
		{"escaped in a query", Config{ClientID: "svc"}, "a&b=c d", "https://verify-with.blockpass.org/?clientId=svc&refId=a%26b%3Dc%20d"},
		{"sandbox pattern", Config{ClientID: "svc", ConnectPattern: "http://127.0.0.1:8080/sandbox/blockpass/_sim/blockpass/connect/{refId}"}, "r/1 x",
			"http://127.0.0.1:8080/sandbox/blockpass/_sim/blockpass/connect/r%2F1%20x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.ConnectLink(tt.refID); got != tt.want {
				t.Errorf("ConnectLink(%q) = %s, want %s", tt.refID, got, tt.want)
			}
		})
	}
}
