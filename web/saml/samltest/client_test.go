package samltest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
)

// TestClientFollowsOnlySAMLAndLoginForms checks that the client posts auto-submitting SAML forms
// and login forms it has credentials for, and stops at any other form (a sign-out button, say).
func TestClientFollowsOnlySAMLAndLoginForms(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	mux := http.NewServeMux()
	record := func(r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		posts = append(posts, r.URL.Path+"?"+r.PostForm.Encode())
	}
	recorded := func() []string {
		mu.Lock()
		defer mu.Unlock()
		p := append([]string(nil), posts...)
		posts = nil
		return p
	}
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			record(r)
			_, _ = io.WriteString(w, body)
		}
	}
	mux.Handle("/start", page(`<form method="post" action="/login"><input type="hidden" name="SAMLRequest" value="req">`+
		`<input name="username"><input type="password" name="password"><input type="submit" value="Go"></form>`))
	mux.Handle("/login", page(`<html><form method="post" action="acs"><input type="hidden" name="SAMLResponse" value="resp">`+
		`<input type="hidden" name="RelayState" value="/home"></form><script>submit()</script></html>`))
	mux.HandleFunc("/acs", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		http.Redirect(w, r, "/home", http.StatusSeeOther)
	})
	mux.Handle("/home", page(`<form method="post" action="/logout"><input type="hidden" name="csrf" value="t"><button>Sign out</button></form>`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	c := NewClient("alice", "pw")
	var tampered []string
	c.Tamper = func(action *url.URL, form url.Values) { tampered = append(tampered, action.Path) }
	got, err := c.Get(context.Background(), srv.URL+"/start")
	if err != nil {
		t.Fatal(err)
	}
	if got.URL.Path != "/home" || got.Status != http.StatusOK {
		t.Errorf("ended at %s (%d), want /home", got.URL, got.Status)
	}
	want := []string{
		"/login?SAMLRequest=req&password=pw&username=alice",
		"/acs?RelayState=%2Fhome&SAMLResponse=resp",
	}
	if sent := recorded(); !slices.Equal(sent, want) {
		t.Errorf("posted %q, want %q (and never /logout)", sent, want)
	}
	if len(tampered) != 2 || tampered[1] != "/acs" {
		t.Errorf("Tamper saw %q", tampered)
	}

	anon := NewClient("", "")
	anon.Credentials = nil
	got, err = anon.Get(context.Background(), srv.URL+"/start")
	if sent := recorded(); err != nil || got.URL.Path != "/start" || len(sent) != 0 {
		t.Errorf("without credentials: err %v, ended at %v, posted %q; want to stop at the login form", err, got.URL, sent)
	}
}
