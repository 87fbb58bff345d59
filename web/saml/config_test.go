package saml_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/web/saml"
)

func TestLoadConfig(t *testing.T) {
	base := map[string]string{
		"KYCDESK_BASE_URL":          "https://kyc.example.com/",
		"KYCDESK_SAML_IDP_METADATA": "https://adfs.example.com/FederationMetadata/2007-06/FederationMetadata.xml",
		"KYCDESK_SAML_SP_CERT":      "/etc/kycdesk/sp.crt",
		"KYCDESK_SAML_SP_KEY":       "/etc/kycdesk/sp.key",
	}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    saml.Config
		wantErr string
	}{
		{
			name: "defaults",
			env:  base,
			want: saml.Config{
				IDPMetadata:     base["KYCDESK_SAML_IDP_METADATA"],
				SPCertFile:      "/etc/kycdesk/sp.crt",
				SPKeyFile:       "/etc/kycdesk/sp.key",
				EntityID:        "https://kyc.example.com/saml/metadata",
				BaseURL:         "https://kyc.example.com",
				RoleAttribute:   "http://schemas.xmlsoap.org/claims/Group",
				MetadataRefresh: time.Hour,
			},
		},
		{
			name: "everything set",
			env: with("KYCDESK_SAML_ENTITY_ID", "urn:kycdesk:prod", "KYCDESK_SAML_ROLE_ATTRIBUTE", "groups",
				"KYCDESK_SAML_ROLE_MAP", "kyc-checkers=checker, kyc-admins=admin", "KYCDESK_SAML_IDP_INITIATED", "1",
				"KYCDESK_LOCAL_LOGIN", "false", "KYCDESK_SAML_METADATA_REFRESH", "15m"),
			want: saml.Config{
				IDPMetadata:        base["KYCDESK_SAML_IDP_METADATA"],
				SPCertFile:         "/etc/kycdesk/sp.crt",
				SPKeyFile:          "/etc/kycdesk/sp.key",
				EntityID:           "urn:kycdesk:prod",
				BaseURL:            "https://kyc.example.com",
				RoleAttribute:      "groups",
				RoleMap:            "kyc-checkers=checker, kyc-admins=admin",
				RoleRules:          []saml.RoleRule{{Value: "kyc-checkers", Role: "checker"}, {Value: "kyc-admins", Role: "admin"}},
				AllowIDPInitiated:  true,
				LocalLoginDisabled: true,
				MetadataRefresh:    15 * time.Minute,
			},
		},
		{
			name: "metadata refresh off",
			env:  with("KYCDESK_SAML_METADATA_REFRESH", "off"),
			want: saml.Config{
				IDPMetadata:   base["KYCDESK_SAML_IDP_METADATA"],
				SPCertFile:    "/etc/kycdesk/sp.crt",
				SPKeyFile:     "/etc/kycdesk/sp.key",
				EntityID:      "https://kyc.example.com/saml/metadata",
				BaseURL:       "https://kyc.example.com",
				RoleAttribute: "http://schemas.xmlsoap.org/claims/Group",
			},
		},
		{
			name: "SAML off, local login on",
			env:  map[string]string{"KYCDESK_LOCAL_LOGIN": "1"},
			want: saml.Config{RoleAttribute: saml.DefaultRoleAttribute, MetadataRefresh: saml.DefaultMetadataRefresh},
		},
		{name: "SAML off and local login off locks everyone out", env: map[string]string{"KYCDESK_LOCAL_LOGIN": "0"}, wantErr: "nobody could sign in"},
		{name: "unknown role", env: with("KYCDESK_SAML_ROLE_MAP", "kyc-checkers=superuser"), wantErr: `unknown role "superuser"`},
		{name: "bad boolean", env: with("KYCDESK_SAML_IDP_INITIATED", "maybe"), wantErr: "KYCDESK_SAML_IDP_INITIATED"},
		{name: "no base URL", env: with("KYCDESK_BASE_URL", ""), wantErr: "KYCDESK_BASE_URL is required"},
		{name: "relative base URL", env: with("KYCDESK_BASE_URL", "kyc.example.com"), wantErr: "KYCDESK_BASE_URL"},
		{name: "metadata refresh not a duration", env: with("KYCDESK_SAML_METADATA_REFRESH", "hourly"), wantErr: "KYCDESK_SAML_METADATA_REFRESH"},
		{name: "metadata refresh too often", env: with("KYCDESK_SAML_METADATA_REFRESH", "1s"), wantErr: "at least 1m "},
		{name: "cert without key", env: with("KYCDESK_SAML_SP_KEY", ""), wantErr: "both KYCDESK_SAML_SP_CERT and KYCDESK_SAML_SP_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := saml.LoadConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if got.Enabled() != (tt.env["KYCDESK_SAML_IDP_METADATA"] != "") {
				t.Errorf("Enabled() = %v", got.Enabled())
			}
		})
	}
}
