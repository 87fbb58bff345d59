package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/handlers"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/selfkey"
)

func TestBuildSelfKey(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	setKey := strings.Repeat("operator-chosen-key-", 3)
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, tc := range []struct {
		name    string
		sandbox bool
		vars    map[string]string
		want    providers.Mode // "" = left out
		wantSim bool
		wantErr bool
	}{
		{"sandbox without a key: a throwaway key and the wallet simulator", true, nil, providers.Sandbox, true, false},
		{"sandbox with a key: the set key wins", true, map[string]string{selfkey.EnvJWTKey: setKey}, providers.Sandbox, true, false},
		{"live with a key", false, map[string]string{selfkey.EnvJWTKey: setKey}, providers.Live, false, false},
		{"live without anything: left out", false, nil, "", false, false},
		{"live with origins but no key: refused", false, map[string]string{selfkey.EnvAllowedOrigins: "IDW"}, "", false, true},
		{"a short key: refused", false, map[string]string{selfkey.EnvJWTKey: "short"}, "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sims := map[string]http.Handler{}
			w, err := buildSelfKey(env(tc.vars), config{Sandbox: tc.sandbox, BaseURL: "https://desk.example"}, sims, nil, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if _, ok := sims[handlers.SelfKeySimPath]; ok != tc.wantSim {
				t.Fatalf("simulator mounted = %v", ok)
			}
			if tc.want == "" {
				if w != nil {
					t.Fatalf("SelfKey configured: %+v", w.adapter)
				}
				return
			}
			if w == nil || w.adapter.Mode != tc.want || w.adapter.BaseURL != "https://desk.example/selfkey" {
				t.Fatalf("adapter = %+v", w)
			}
			urls := map[string]bool{}
			for _, e := range w.adapter.Endpoints {
				urls[strings.TrimPrefix(e.URL, "https://desk.example")] = true
			}
			for _, p := range []string{"/selfkey/auth/challenge", "/selfkey/auth/challenge/{did}", "/selfkey/auth/token", "/selfkey/users",
				"/selfkey/users/file", "/selfkey/users/token", "/selfkey/login", "/selfkey/templates", "/selfkey/templates/{id}",
				"/selfkey/templates/{id}/schema.json", "/selfkey/files", "/selfkey/applications"} {
				if !urls[p] {
					t.Errorf("endpoint %s not listed for the admin", p)
				}
			}
			svc, err := w.service(selfkey.NewMemoryChallengeStore(now))
			if err != nil {
				t.Fatal(err)
			}
			// Which key signs: the operator's whenever it is set.
			tok, err := svc.Tokens().IssueWalletToken("did:eth:0xa53e8abf48e320e5a23dd731127abdabd624759d", now())
			if err != nil {
				t.Fatal(err)
			}
			mine, _ := selfkey.NewTokens([]byte(setKey), nil)
			_, err = mine.ParseWalletToken(tok, now())
			if usesSet := err == nil; usesSet != (tc.vars[selfkey.EnvJWTKey] != "") {
				t.Fatalf("token signed with the set key = %v", usesSet)
			}
		})
	}
	var none *selfKeyWallet
	if svc, err := none.service(nil); svc != nil || err != nil {
		t.Fatalf("no SelfKey: %v %v", svc, err)
	}
}
