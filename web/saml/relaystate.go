package saml

import (
	"net/url"
	"strings"
)

// maxRelayStateBytes is the SAML bindings' limit on RelayState (80 bytes is the spec's minimum a
// party must accept; ADFS and others accept more, and our paths may carry a query).
const maxRelayStateBytes = 1024

// ValidRelayState reports whether s is safe to redirect to after sign-in: a same-origin relative
// path that starts with a single "/", with no "//", no backslash, no scheme or host, and no
// control characters or spaces (browsers drop tabs and newlines, which would turn "/\t/x" into
// "//x"), also after percent-decoding.
func ValidRelayState(s string) bool {
	if s == "" || len(s) > maxRelayStateBytes || s[0] != '/' {
		return false
	}
	if strings.Contains(s, "//") || strings.Contains(s, `\`) {
		return false
	}
	if hasControlOrSpace(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || hasControlOrSpace(u.Path) {
		return false
	}
	// Also judge the decoded path, so "/%2F%2Fevil.example" or "/%5Cevil.example" cannot turn into
	// a host once something along the way decodes it.
	return strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//") && !strings.Contains(u.Path, `\`)
}

func hasControlOrSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return true
		}
	}
	return false
}

// safeRelayState returns s if ValidRelayState accepts it, "/" otherwise.
func safeRelayState(s string) string {
	if ValidRelayState(s) {
		return s
	}
	return "/"
}
