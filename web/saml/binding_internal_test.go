package saml

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckBinding(t *testing.T) {
	secret, hash, err := newBinding()
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := newBinding()
	tests := []struct {
		name       string
		cookie     *http.Cookie // nil: none sent
		storedHash string
		ok         bool
	}{
		{"matching cookie", &http.Cookie{Name: BindingCookieName, Value: secret}, hash, true},
		{"no cookie", nil, hash, false},
		{"empty cookie", &http.Cookie{Name: BindingCookieName, Value: ""}, hash, false},
		{"another secret", &http.Cookie{Name: BindingCookieName, Value: other}, hash, false},
		{"the hash itself as the cookie", &http.Cookie{Name: BindingCookieName, Value: hash}, hash, false},
		{"right value under another name", &http.Cookie{Name: "kycdesk_session", Value: secret}, hash, false},
		// A request saved before migration 011 is unbound; no cookie can match it, not even an empty one.
		{"unbound request, cookie sent", &http.Cookie{Name: BindingCookieName, Value: secret}, "", false},
		{"unbound request, empty cookie", &http.Cookie{Name: BindingCookieName, Value: ""}, "", false},
		{"empty cookie against the hash of the empty string", &http.Cookie{Name: BindingCookieName, Value: ""}, bindingHash(""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, ACSPath, nil)
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			err := checkBinding(r, tt.storedHash)
			if tt.ok != (err == nil) {
				t.Fatalf("checkBinding = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrUnbound) {
				t.Errorf("refused as %v, want ErrUnbound", err)
			}
			if err != nil && tt.cookie != nil && tt.cookie.Value != "" && strings.Contains(err.Error(), tt.cookie.Value) {
				t.Errorf("the refusal's detail holds the cookie value: %v", err)
			}
		})
	}
}
