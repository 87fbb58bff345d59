package saml_test

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/web/saml"
)

func TestValidRelayState(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"/", true},
		{"/applicants", true},
		{"/applicants?status=open&q=a%20b#top", true},
		{"/a/b/c", true},
		{"", false},
		{"applicants", false},
		{"https://evil.example/", false},
		{"http:/evil.example", false},
		{"javascript:alert(1)", false},
		{"//evil.example", false},
		{"/a//b", false},
		{`/\evil.example`, false},
		{`\\evil.example`, false},
		{"/%2F%2Fevil.example", false},
		{"/%5Cevil.example", false},
		{"/\t/evil.example", false},
		{"/a\r\nLocation: x", false},
		{"/a b", false},
		{"/%0a", false},
		{"/" + strings.Repeat("a", 1024), false},
	}
	for _, tt := range tests {
		if got := saml.ValidRelayState(tt.in); got != tt.want {
			t.Errorf("ValidRelayState(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
