package verifyyou

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("file-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("  file-secret  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{name: "nothing set", env: map[string]string{}, want: Config{}},
		{name: "plain values", env: map[string]string{EnvURL: "https://api.example/", EnvAPIKey: "k", EnvWebhookSecret: "s"},
			want: Config{URL: "https://api.example", APIKey: "k", WebhookSecret: "s"}},
		{name: "secrets from files", env: map[string]string{EnvURL: "http://127.0.0.1:9/sandbox/verifyyou", EnvAPIKey + "_FILE": keyFile, EnvWebhookSecret + "_FILE": secretFile},
			want: Config{URL: "http://127.0.0.1:9/sandbox/verifyyou", APIKey: "file-key", WebhookSecret: "file-secret"}},
		{name: "both spellings of a secret", env: map[string]string{EnvAPIKey: "k", EnvAPIKey + "_FILE": keyFile}, wantErr: "set only one of KYCDESK_VERIFYYOU_API_KEY"},
		{name: "missing file", env: map[string]string{EnvWebhookSecret + "_FILE": filepath.Join(dir, "nope")}, wantErr: "KYCDESK_VERIFYYOU_WEBHOOK_SECRET_FILE"},
		{name: "empty file", env: map[string]string{EnvWebhookSecret + "_FILE": emptyFile}, wantErr: "file is empty"},
		{name: "relative URL", env: map[string]string{EnvURL: "api.example"}, wantErr: "KYCDESK_VERIFYYOU_URL"},
		{name: "ftp URL", env: map[string]string{EnvURL: "ftp://api.example"}, wantErr: "KYCDESK_VERIFYYOU_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestConfigConfiguredAndPresent(t *testing.T) {
	tests := []struct {
		cfg        Config
		configured bool
	}{
		{Config{}, false},
		{Config{URL: "https://a"}, false},
		{Config{APIKey: "k", WebhookSecret: "s"}, false},
		{Config{URL: "https://a", APIKey: "k"}, true},
	}
	for _, tt := range tests {
		if got := tt.cfg.Configured(); got != tt.configured {
			t.Errorf("%s.Configured() = %v, want %v", tt.cfg, got, tt.configured)
		}
	}
	p := Config{URL: "https://a", WebhookSecret: "s"}.Present()
	want := map[string]bool{EnvURL: true, EnvAPIKey: false, EnvWebhookSecret: true}
	if len(p) != len(want) {
		t.Fatalf("Present() = %v, want %v", p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("Present()[%s] = %v, want %v", k, p[k], v)
		}
	}
}

func TestConfigStringRedactsSecrets(t *testing.T) {
	cfg := Config{URL: "https://a", APIKey: "super-key", WebhookSecret: "super-secret"}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, "super") {
			t.Fatalf("secret leaked: %s", s)
		}
		if !strings.Contains(s, "https://a") || !strings.Contains(s, "[redacted]") {
			t.Fatalf("unexpected description %s", s)
		}
	}
}
