package sim_test

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/providers/selfkey"
	"github.com/kycdesk/kycdesk/providers/selfkey/sim"
)

func TestControlPage(t *testing.T) {
	rp := newRelyingParty(t, selfkey.Config{})
	app := httptest.NewServer(rp.handler())
	defer app.Close()
	mux := http.NewServeMux()
	simSrv := sim.New(sim.Config{TargetURL: app.URL, HTTPClient: app.Client(), Rand: rand.NewChaCha8([32]byte{7})})
	mux.Handle("/sandbox/selfkey/", http.StripPrefix("/sandbox/selfkey", simSrv))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()

	get := func(path string) (int, string) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, page := get("/sandbox/selfkey/")
	if status != 200 || !strings.Contains(page, "Simulator") || !strings.Contains(page, app.URL) {
		t.Fatalf("page %d: %s", status, page)
	}
	status, page = get("/sandbox/selfkey/_sim/?ref=ref-9")
	if status != 200 || !strings.Contains(page, `value="ref-9"`) {
		t.Fatalf("reference not prefilled: %d", status)
	}
	for _, kind := range []string{"walk", "replay", "foreign-signature"} {
		resp, err := client.PostForm(srv.URL+"/sandbox/selfkey/_sim/walk", url.Values{"kind": {kind}, "reference": {"ref-9"}, "mode": {"did"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/sandbox/selfkey/_sim/" {
			t.Fatalf("%s: after redirect %d at %s", kind, resp.StatusCode, resp.Request.URL.Path)
		}
		if kind == "walk" && !strings.Contains(string(b), "Application app-1 submitted") {
			t.Fatalf("walk result not shown: %s", b)
		}
		if kind != "walk" && !strings.Contains(string(b), "Refused as expected") {
			t.Fatalf("%s: refusal not shown", kind)
		}
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.applications) != 1 || len(rp.meta) != 1 {
		t.Fatalf("applications %d", len(rp.applications))
	}
	for _, ref := range rp.meta {
		if ref != "ref-9" {
			t.Fatalf("reference %q", ref)
		}
	}
	if status, _ := get("/sandbox/selfkey/_sim/nope"); status != 404 {
		t.Fatalf("unknown path: %d", status)
	}
}
