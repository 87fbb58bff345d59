package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func fixedNow() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Now = fixedNow
	if cfg.APIKey == "" {
		cfg.APIKey = "k"
	}
	return New(cfg)
}

// get calls the API directly on the handler.
func get(t *testing.T, s *Server, path string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/kyc/1.0/connect/"+s.ClientID()+path, nil)
	req.Header.Set("Authorization", "k")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func TestSeedIsDeterministicAndLazy(t *testing.T) {
	a, b := newTestServer(t, Config{}), newTestServer(t, Config{MaxLimit: 5000})
	a.Seed(100_000)
	b.Seed(100_000)
	_, pa := get(t, a, "/recordId/"+SeedRecordID(77_777))
	_, pb := get(t, b, "/recordId/"+SeedRecordID(77_777))
	if !bytes.Equal(pa, pb) {
		t.Error("the same seed gave different candidates")
	}
	if len(a.seedState) != 1 {
		t.Errorf("%d seeded candidates stored; only the one fetched in full (now archiving) should be", len(a.seedState))
	}

	// Page through all 100,000 without decoding: count the records.
	total := 0
	for skip := 0; ; skip += 5000 {
		code, body := get(t, b, fmt.Sprintf("/applicants?skip=%d&limit=5000", skip))
		if code != 200 {
			t.Fatalf("page at %d: %d", skip, code)
		}
		n := bytes.Count(body, []byte(`"recordId"`))
		if n == 0 {
			break
		}
		total += n
	}
	if total != 100_000 {
		t.Errorf("paged %d records, want 100000", total)
	}
	if len(b.seedState) != 1 {
		t.Errorf("listing stored %d candidates, want only the one fetched in full", len(b.seedState))
	}
}

func TestSeedPopulation(t *testing.T) {
	s := newTestServer(t, Config{})
	s.Seed(70)
	counts := map[string]int{}
	refless, archived := 0, 0
	for i := 0; i < 70; i++ {
		_, body := get(t, s, "/recordId/"+SeedRecordID(i))
		var env struct {
			Data struct {
				Status     string                  `json:"status"`
				RefID      string                  `json:"refId"`
				IsArchived bool                    `json:"isArchived"`
				Identities map[string]wireIdentity `json:"identities"`
				Certs      map[string]string       `json:"certs"`
				Certifs    map[string]string       `json:"certificates"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatal(err)
		}
		d := env.Data
		counts[d.Status]++
		if d.RefID == "" {
			refless++
		}
		if d.IsArchived {
			archived++
			if len(d.Identities) != 0 {
				t.Errorf("archived seed %d has identities", i)
			}
			continue
		}
		if d.Status != StatusIncomplete {
			var addr Address
			if err := json.Unmarshal([]byte(d.Identities["address"].Value), &addr); err != nil || addr.City == "" {
				t.Errorf("seed %d: address is not JSON-in-string: %q", i, d.Identities["address"].Value)
			}
			if d.Identities["selfie"].Type != "base64" {
				t.Errorf("seed %d: selfie type %q", i, d.Identities["selfie"].Type)
			}
		}
		if d.Status == StatusApproved && len(d.Certs)+len(d.Certifs) != 2 {
			t.Errorf("seed %d approved without certificates", i)
		}
	}
	for _, st := range statuses() {
		if counts[st] != 10 {
			t.Errorf("%s: %d of 70", st, counts[st])
		}
	}
	if refless != 7 || archived == 0 {
		t.Errorf("refless %d, archived %d", refless, archived)
	}
}

func TestControlErrors(t *testing.T) {
	s := newTestServer(t, Config{})
	if _, err := s.Submit("a/b", FakePerson(1)); !errors.Is(err, ErrBadRefID) {
		t.Errorf("refId with slash: %v", err)
	}
	id, err := s.Register("kd-1", FakePerson(1))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Register("kd-1", FakePerson(2)); again != id {
		t.Error("registering twice made a second candidate")
	}
	if err := s.Review(id, ActionApprove); !errors.Is(err, ErrNotSubmitted) {
		t.Errorf("approving an incomplete candidate: %v", err)
	}
	if err := s.Review(id, "promote"); !errors.Is(err, ErrBadAction) {
		t.Errorf("bad action: %v", err)
	}
	if err := s.Review("nope", ActionApprove); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown record: %v", err)
	}
	if err := s.Delete("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
	if err := s.Redeliver("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("redeliver unknown: %v", err)
	}
	if c, ok := s.Lookup(id); !ok || c.Status != StatusIncomplete || c.RefID != "kd-1" {
		t.Errorf("Lookup = %+v", c)
	}
	// No webhook URL: deliveries are listed, not sent.
	if d := s.Deliveries(); len(d) != 1 || d[0].Event != EventUserCreated || d[0].StatusCode != 0 || d[0].Attempts != 1 {
		t.Errorf("deliveries = %+v", d)
	}
}

func TestDeleteSeededKeepsListingConsistent(t *testing.T) {
	s := newTestServer(t, Config{})
	s.Seed(10)
	if err := s.Delete(SeedRecordID(2)); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, s, "/applicants?limit=100")
	if code != 200 || bytes.Contains(body, []byte(SeedRecordID(2))) || !bytes.Contains(body, []byte(`"total":9`)) {
		t.Errorf("listing after delete: %s", body)
	}
	if code, _ := get(t, s, "/refId/"+SeedRefID(2)); code != http.StatusNotFound {
		t.Errorf("deleted by refId: %d", code)
	}
}

func TestAPIGuards(t *testing.T) {
	s := newTestServer(t, Config{RateLimitEvery: 3, RetryAfter: 2 * time.Second})
	s.Seed(2)
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"ok", "/kyc/1.0/connect/" + DefaultClientID + "/applicants", "k", 200},
		{"no key", "/kyc/1.0/connect/" + DefaultClientID + "/applicants", "", 401},
		{"third call limited", "/kyc/1.0/connect/" + DefaultClientID + "/applicants", "k", 429},
		{"wrong key", "/kyc/1.0/connect/" + DefaultClientID + "/applicants", "Bearer k", 401},
		{"wrong service", "/kyc/1.0/connect/other/applicants", "k", 404},
		{"sixth call limited", "/kyc/1.0/connect/" + DefaultClientID + "/applicants?limit=0", "k", 429},
		{"bad limit", "/kyc/1.0/connect/" + DefaultClientID + "/applicants?limit=0", "k", 400},
		{"bad skip", "/kyc/1.0/connect/" + DefaultClientID + "/applicants?skip=-1", "k", 400},
		{"ninth call limited", "/kyc/1.0/connect/" + DefaultClientID + "/refId/" + SeedRefID(0), "k", 429},
		{"by refId", "/kyc/1.0/connect/" + DefaultClientID + "/refId/" + SeedRefID(0), "k", 200},
		{"unknown refId", "/kyc/1.0/connect/" + DefaultClientID + "/refId/nobody", "k", 404},
		{"POST not allowed", "", "k", 405},
	}
	for _, tt := range tests {
		method, path := http.MethodGet, tt.path
		if path == "" {
			method, path = http.MethodPost, "/kyc/1.0/connect/"+DefaultClientID+"/applicants"
		}
		req := httptest.NewRequest(method, path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.want)
		}
		if rec.Code == 429 && (rec.Header().Get("Retry-After") != "2" || !strings.Contains(rec.Body.String(), `"retryAfter":2`)) {
			t.Errorf("%s: 429 without Retry-After: %v %s", tt.name, rec.Header(), rec.Body)
		}
	}
	if s.APICalls() != len(tests)-1 { // the 405 never reaches the API
		t.Errorf("APICalls = %d", s.APICalls())
	}
}

// TestPagesUnderStripPrefix drives the HTML pages as the app mounts them.
func TestPagesUnderStripPrefix(t *testing.T) {
	var s *Server
	mux := http.NewServeMux()
	mux.Handle("/sandbox/blockpass/", http.StripPrefix("/sandbox/blockpass", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.ServeHTTP(w, r) })))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	s = newTestServer(t, Config{PublicURL: ts.URL + "/sandbox/blockpass/"})
	s.Seed(3)

	link := strings.ReplaceAll(s.ConnectPattern(), "{refId}", "kd-9")
	if link != ts.URL+"/sandbox/blockpass/_sim/blockpass/connect/kd-9" {
		t.Fatalf("link = %s", link)
	}
	resp, err := http.PostForm(link, url.Values{"given_name": {"Grace"}, "family_name": {"Hopper"}, "dob": {"12/09/1906"}, "email": {"g@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/sandbox/blockpass/_sim/blockpass/connect/kd-9" {
		t.Fatalf("submit landed on %d %s", resp.StatusCode, resp.Request.URL.Path)
	}
	c, ok := s.LookupRef("kd-9")
	if !ok || c.Status != StatusWaiting || c.Person.GivenName != "Grace" {
		t.Fatalf("after submit: %+v", c)
	}

	console := s.ConsoleURL()
	resp, err = http.PostForm(strings.TrimSuffix(console, "/")+"/operator", url.Values{"recordId": {c.RecordID}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/sandbox/blockpass/_sim/blockpass/" || !strings.Contains(body, "Simulator") || !strings.Contains(body, "approved") {
		t.Fatalf("console after approve: %d %s", resp.StatusCode, resp.Request.URL.Path)
	}
	resp, _ = http.PostForm(strings.TrimSuffix(console, "/")+"/operator", url.Values{"recordId": {SeedRecordID(1)}, "action": {"delete"}})
	resp.Body.Close()
	if _, ok := s.Lookup(SeedRecordID(1)); ok || resp.StatusCode != 200 {
		t.Errorf("delete from the console: %d", resp.StatusCode)
	}
	resp, _ = http.PostForm(strings.TrimSuffix(console, "/")+"/operator", url.Values{"recordId": {"nope"}, "action": {"approve"}})
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown record from the console: %d", resp.StatusCode)
	}

	resp, _ = http.PostForm(strings.TrimSuffix(console, "/")+"/settings", url.Values{"action": {"ratelimit_on"}})
	resp.Body.Close()
	if code, _ := get(t, s, "/applicants"); code != 429 {
		t.Errorf("rate limit toggle: %d", code)
	}
	resp, _ = http.PostForm(strings.TrimSuffix(console, "/")+"/settings", url.Values{"action": {"ratelimit_off"}})
	resp.Body.Close()
	if code, _ := get(t, s, "/applicants"); code != 200 {
		t.Errorf("rate limit off: %d", code)
	}

	if err := s.Review(c.RecordID, ActionBlock); err != nil {
		t.Fatal(err)
	}
	resp, _ = http.Get(link)
	if body := readAll(t, resp); !strings.Contains(body, "cannot be submitted again") || strings.Contains(body, "<form") {
		t.Error("blocked user still offered the form")
	}
	resp, _ = http.PostForm(link, url.Values{"given_name": {"G"}, "family_name": {"H"}, "dob": {"12/09/1906"}, "email": {"g@example.com"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("blocked resubmission: %d", resp.StatusCode)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
