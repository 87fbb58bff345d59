package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeRefusesBadSAMLSettings(t *testing.T) {
	keys := map[string]string{"KYCDESK_SANDBOX": "0", "KYCDESK_SESSION_KEYS": strings.Repeat("1f", 32), "KYCDESK_DATA_KEY": strings.Repeat("2e", 32)}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown role in the role map", map[string]string{"KYCDESK_SAML_ROLE_MAP": "kyc-checkers=checker,kyc-bosses=superuser"}, `unknown role "superuser"`},
		{"password sign-in off without SSO", map[string]string{"KYCDESK_LOCAL_LOGIN": "false"}, "nobody could sign in"},
		{"SSO outside sandbox without the SP key pair", merge(keys, map[string]string{"KYCDESK_SAML_IDP_METADATA": "/nonexistent/idp.xml"}), "KYCDESK_SAML_SP_CERT"},
		{"only half of the SP key pair", map[string]string{"KYCDESK_SAML_IDP_METADATA": "/nonexistent/idp.xml", "KYCDESK_SAML_SP_CERT": "/x.pem"}, "KYCDESK_SAML_SP_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := merge(map[string]string{
				"KYCDESK_ADDR": "127.0.0.1:0", "KYCDESK_DB": filepath.Join(t.TempDir(), "kycdesk.db"),
				"KYCDESK_SANDBOX": "1", "KYCDESK_ADMIN_PASSWORD": "admin-password-123",
			}, tt.env)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve = %v, want a refusal mentioning %s", err, tt.want)
			}
			if strings.Contains(stdout.String(), "listening on") {
				t.Error("the server listened before refusing")
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
