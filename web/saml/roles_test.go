package saml_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/web/saml"
)

func TestParseRoleMap(t *testing.T) {
	tests := []struct {
		in      string
		want    []saml.RoleRule
		wantErr string
	}{
		{in: "", want: nil},
		{in: "kyc-checkers=checker,kyc-admins=admin", want: []saml.RoleRule{{"kyc-checkers", "checker"}, {"kyc-admins", "admin"}}},
		{in: " makers = maker , links=link_creator,audit=auditor,", want: []saml.RoleRule{{"makers", "maker"}, {"links", "link_creator"}, {"audit", "auditor"}}},
		{
			in:   "CN=KYC Admins,OU=Groups,DC=corp=admin;CN=KYC Checkers,OU=Groups,DC=corp=checker",
			want: []saml.RoleRule{{"CN=KYC Admins,OU=Groups,DC=corp", "admin"}, {"CN=KYC Checkers,OU=Groups,DC=corp", "checker"}},
		},
		{in: "kyc-admins=root", wantErr: `unknown role "root"`},
		{in: "kyc-admins", wantErr: "want value=role"},
		{in: "=admin", wantErr: "empty attribute value"},
		{in: "a=admin,a=checker", wantErr: "mapped twice"},
		{in: ",,", wantErr: "no entries"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := saml.ParseRoleMap(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRoleFor(t *testing.T) {
	rules := []saml.RoleRule{{"kyc-admins", "admin"}, {"kyc-checkers", "checker"}}
	id := saml.Identity{
		Attributes: map[string][]string{
			"http://schemas.xmlsoap.org/claims/Group": {"staff", "kyc-checkers"},
			"urn:oid:1.3.6.1.4.1.5923.1.1.1.7":        {"kyc-admins"},
		},
		FriendlyNames: map[string]string{"urn:oid:1.3.6.1.4.1.5923.1.1.1.7": "eduPersonEntitlement"},
	}
	tests := []struct {
		name, attribute, want string
		rules                 []saml.RoleRule
		ok                    bool
	}{
		{"by Name", "http://schemas.xmlsoap.org/claims/Group", "checker", rules, true},
		{"by FriendlyName", "eduPersonEntitlement", "admin", rules, true},
		{"first rule wins", "http://schemas.xmlsoap.org/claims/Group", "maker", []saml.RoleRule{{"staff", "maker"}, {"kyc-checkers", "checker"}}, true},
		{"no matching value", "http://schemas.xmlsoap.org/claims/Group", "", []saml.RoleRule{{"kyc-admins", "admin"}}, false},
		{"attribute absent", "memberOf", "", rules, false},
		{"value compared exactly", "http://schemas.xmlsoap.org/claims/Group", "", []saml.RoleRule{{"KYC-Checkers", "checker"}}, false},
		{"no rules", "http://schemas.xmlsoap.org/claims/Group", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := saml.RoleFor(id, saml.RoleMapping{Attribute: tt.attribute, Rules: tt.rules})
			if got != tt.want || ok != tt.ok {
				t.Fatalf("RoleFor = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
