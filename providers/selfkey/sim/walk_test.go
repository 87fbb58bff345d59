package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/selfkey"
	"github.com/kycdesk/kycdesk/providers/selfkey/sim"
)

func newWallet(t *testing.T, seed byte) *sim.Wallet {
	t.Helper()
	w, err := sim.NewWallet(rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWalkEndToEnd(t *testing.T) {
	for _, mode := range []struct {
		name              string
		legacy, userFiles bool
	}{{"did, multipart users", false, false}, {"legacy public key", true, false}, {"did, users/file then JSON", false, true}} {
		legacy := mode.legacy
		t.Run(mode.name, func(t *testing.T) {
			rp := newRelyingParty(t, selfkey.Config{AllowedOrigins: []string{"IDW"}})
			srv := httptest.NewServer(rp.handler())
			defer srv.Close()
			w := newWallet(t, 1)
			w.Legacy = legacy
			w.UserFiles = mode.userFiles
			w.Meta = map[string]any{"reference": "ref-42"}
			res, err := w.Walk(context.Background(), srv.URL, srv.Client())
			if err != nil {
				t.Fatalf("Walk: %v (steps %v)", err, res.Steps)
			}
			wantPaths := []string{"GET /auth/challenge/" + w.Subject(), "POST /auth/challenge"}
			if mode.userFiles {
				wantPaths = append(wantPaths, "POST /users/file")
			}
			wantPaths = append(wantPaths, "POST /users", "GET /templates", "GET /templates/standard", "POST /files", "POST /applications")
			if len(res.Steps) != len(wantPaths) {
				t.Fatalf("steps = %v", res.Steps)
			}
			for i, s := range res.Steps {
				if s.Method+" "+s.Path != wantPaths[i] || s.Status >= 300 {
					t.Errorf("step %d = %+v, want %s", i, s, wantPaths[i])
				}
			}
			for _, h := range rp.headers {
				if !strings.HasPrefix(h.Get("User-Agent"), "SelfKeyIDW/") || h.Get("Origin") != "IDW" {
					t.Fatalf("wallet headers = %v", h)
				}
			}
			sub := w.DID()
			if legacy {
				sub = w.PublicKeyHex()
			}
			rp.mu.Lock()
			// Unlock on every path: a t.Fatalf while holding the lock would
			// leave the fake server's handlers blocked forever.
			locked := true
			defer func() {
				if locked {
					rp.mu.Unlock()
				}
			}()
			user, ok := rp.users[sub]
			if !ok || rp.meta[sub] != "ref-42" {
				t.Fatalf("no user for %s (have %d users), meta %q", sub, len(rp.users), rp.meta[sub])
			}
			attrs := map[string]string{}
			for _, a := range user.Attributes {
				attrs[a.Meaning] = a.Value
			}
			if attrs["first_name"] != "Ada" || attrs["last_name"] != "Lovelace" || attrs["date_of_birth"] != "1990-12-10" || attrs["nationality"] != "GB" {
				t.Fatalf("user attributes = %v", attrs)
			}
			userDocs := user.Documents
			if mode.userFiles {
				if len(userDocs) != 0 || len(user.FileRefs) != 1 || rp.files[user.FileRefs[0].FileID].owner != sub {
					t.Fatalf("user file refs = %+v", user.FileRefs)
				}
				f := rp.files[user.FileRefs[0].FileID].upload
				userDocs = append(userDocs, providers.Document{Name: user.FileRefs[0].Name, ContentType: f.ContentType, Data: f.Data})
			}
			if len(userDocs) != 1 || userDocs[0].Name != "passport.image" || bytes.Contains(userDocs[0].Data, []byte(sim.SampleEXIFMarker)) || userDocs[0].ContentType != "image/jpeg" {
				t.Fatalf("user document missing or not sanitised")
			}
			app, ok := rp.applications[res.ApplicationID]
			if !ok || app.owner != sub || app.template != "standard" || len(app.documents) != 1 {
				t.Fatalf("application %q = %+v", res.ApplicationID, app)
			}
			if app.documents[0].Name != "passport.image" || bytes.Contains(app.documents[0].Data, []byte(sim.SampleEXIFMarker)) {
				t.Fatalf("application document %s not sanitised", app.documents[0].Name)
			}
			rp.mu.Unlock()
			locked = false
			if res.UserToken == "" || res.FileID == "" {
				t.Fatalf("result = %+v", res)
			}
			// The browser side: the user token opens one session.
			for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
				resp, err := srv.Client().Post(srv.URL+"/login", "application/json", strings.NewReader(`{"token":"`+res.UserToken+`"}`))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("login %d: status %d, want %d", i, resp.StatusCode, want)
				}
			}
		})
	}
}

func TestWalkWithVectorKey(t *testing.T) {
	raw, err := os.ReadFile("../testdata/vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		DID        string `json:"did"`
		PrivateKey string `json:"test_private_key"`
		PublicKey  string `json:"public_key_uncompressed"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	w, err := sim.WalletFromKeyHex(v.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if w.DID() != v.DID || w.PublicKeyHex() != v.PublicKey {
		t.Fatalf("wallet identity %s %s", w.DID(), w.PublicKeyHex())
	}
	rp := newRelyingParty(t, selfkey.Config{})
	srv := httptest.NewServer(rp.handler())
	defer srv.Close()
	if _, err := w.Walk(context.Background(), srv.URL, srv.Client()); err != nil {
		t.Fatal(err)
	}
}

func TestWalkRefusedOrigin(t *testing.T) {
	rp := newRelyingParty(t, selfkey.Config{AllowedOrigins: []string{"https://desk.example.org"}})
	srv := httptest.NewServer(rp.handler())
	defer srv.Close()
	_, err := newWallet(t, 2).Walk(context.Background(), srv.URL, srv.Client())
	se, ok := err.(*sim.StepError)
	if !ok || se.Status != http.StatusForbidden || se.Code != "forbidden" {
		t.Fatalf("err = %v", err)
	}
}

func TestNegativeHelpers(t *testing.T) {
	ctx := context.Background()
	rp := newRelyingParty(t, selfkey.Config{})
	srv := httptest.NewServer(rp.handler())
	defer srv.Close()
	w := newWallet(t, 3)
	tests := []struct {
		name   string
		run    func() (sim.Attempt, error)
		status int
		code   string
	}{
		{"another key", func() (sim.Attempt, error) { return w.ForeignSignature(ctx, srv.URL, srv.Client()) }, 401, "signature_invalid"},
		{"malformed signature", func() (sim.Attempt, error) { return w.MalformedSignature(ctx, srv.URL, srv.Client()) }, 400, "signature_invalid"},
		{"replayed challenge", func() (sim.Attempt, error) { return w.ReplayChallenge(ctx, srv.URL, srv.Client()) }, 401, "token_invalid"},
		{"expired challenge", func() (sim.Attempt, error) {
			return w.ExpiredChallenge(ctx, srv.URL, srv.Client(), func() { rp.clock.Advance(selfkey.ChallengeTTL + selfkey.ClockLeeway + 1e9) })
		}, 401, "token_invalid"},
		{"challenge as wallet token", func() (sim.Attempt, error) { return w.ChallengeAsWalletToken(ctx, srv.URL, srv.Client()) }, 401, "token_invalid"},
		{"wallet token as challenge", func() (sim.Attempt, error) { return w.WalletTokenAsChallenge(ctx, srv.URL, srv.Client()) }, 401, "token_invalid"},
		{"tampered wallet token", func() (sim.Attempt, error) { return w.TamperedWalletToken(ctx, srv.URL, srv.Client()) }, 401, "token_invalid"},
		{"no token", func() (sim.Attempt, error) { return w.NoToken(ctx, srv.URL, srv.Client()) }, 401, "token_missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.run()
			if err != nil {
				t.Fatalf("setup failed: %v", err)
			}
			if a.Status != tt.status || a.Code != tt.code || a.Message == "" {
				t.Fatalf("attempt = %+v, want %d %s", a, tt.status, tt.code)
			}
		})
	}
}

func TestTamperSubject(t *testing.T) {
	forged, err := sim.TamperSubject("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", "b")
	if err != nil || !strings.HasPrefix(forged, "eyJhbGciOiJIUzI1NiJ9.") || !strings.HasSuffix(forged, ".c2ln") || strings.Contains(forged, ".eyJzdWIiOiJhIn0.") {
		t.Fatalf("TamperSubject = %s, %v", forged, err)
	}
}
