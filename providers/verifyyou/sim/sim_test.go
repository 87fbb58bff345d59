package sim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testKey = "sim-key"

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC) }
	}
	cfg.Sleep = func(context.Context, time.Duration) error { return nil }
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	s := New(cfg)
	srv.Config.Handler = s
	srv.Start()
	t.Cleanup(srv.Close)
	return s, srv
}

// post calls an API path and decodes the JSON reply.
func post(t *testing.T, base, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("API-KEY", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: reply is not JSON: %v", path, err)
	}
	return resp.StatusCode, out
}

func TestAPIErrors(t *testing.T) {
	_, srv := newTestServer(t, Config{})
	tests := []struct {
		name   string
		path   string
		key    string
		body   string
		status int
		code   string
	}{
		{"missing key", PathRegister, "", `{"reference_id":"r"}`, 401, CodeInvalidAPIKey},
		{"wrong key", PathRegister, "nope", `{"reference_id":"r"}`, 401, CodeInvalidAPIKey},
		{"not JSON", PathRegister, testKey, `reference_id=r`, 400, CodeInvalidRequest},
		{"JSON array", PathRegister, testKey, `["r"]`, 400, CodeInvalidRequest},
		{"missing reference", PathRegister, testKey, `{}`, 400, CodeInvalidRequest},
		{"blank reference", PathRegister, testKey, `{"reference_id":"  "}`, 400, CodeInvalidRequest},
		{"reference not a string", PathRegister, testKey, `{"reference_id":7}`, 400, CodeInvalidRequest},
		{"reference too long", PathRegister, testKey, `{"reference_id":"` + strings.Repeat("r", maxIDLen+1) + `"}`, 400, CodeInvalidRequest},
		{"status without id", PathCheckConnectionStatus, testKey, `{}`, 400, CodeInvalidRequest},
		{"status of unknown reference", PathCheckConnectionStatus, testKey, `{"reference_id":"ghost"}`, 404, CodeDoesNotExist},
		{"status of unknown unique_id", PathCheckConnectionStatus, testKey, `{"unique_id":"ghost"}`, 404, CodeDoesNotExist},
		{"updates without cursor", PathCheckForUpdates, testKey, `{}`, 400, CodeInvalidRequest},
		{"updates with negative cursor", PathCheckForUpdates, testKey, `{"last_refresh_timestamp_s":-1}`, 400, CodeInvalidRequest},
		{"updates with text cursor", PathCheckForUpdates, testKey, `{"last_refresh_timestamp_s":"soon"}`, 400, CodeInvalidRequest},
		{"unknown path", "/v1/business_connect_user/nope", testKey, `{}`, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := post(t, srv.URL, tt.path, tt.key, tt.body)
			if status != tt.status || out["status"] != "failure" || out["failure_code"] != tt.code || out["failure_reason"] == "" {
				t.Errorf("got %d %v, want %d %s", status, out, tt.status, tt.code)
			}
		})
	}

	resp, err := http.Get(srv.URL + PathRegister)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET register: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestAPIFlow(t *testing.T) {
	s, srv := newTestServer(t, Config{})
	status, reg := post(t, srv.URL, PathRegister, testKey, `{"reference_id":"ref-1"}`)
	if status != 200 || reg["status"] != "success" || reg["connection_verified"] != false {
		t.Fatalf("register: %d %v", status, reg)
	}
	uid, _ := reg["unique_id"].(string)
	if reg["invite_url"] != srv.URL+"/_sim/verifyyou/invite/"+uid || reg["invite_id"] == "" {
		t.Errorf("register: %v", reg)
	}
	// The v1 field name registers the same user.
	if _, again := post(t, srv.URL, PathRegister, testKey, `{"reference_user_id":"ref-1"}`); again["unique_id"] != uid {
		t.Errorf("reference_user_id: %v", again)
	}
	if _, err := s.Accept(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	_, st := post(t, srv.URL, PathCheckConnectionStatus, testKey, `{"unique_id":"`+uid+`"}`)
	if st["has_connection"] != true || st["unique_id"] != uid || st["data_request_response"] == "" {
		t.Errorf("status: %v", st)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(st["data_request_response"].(string)), &data); err != nil || data["humanness_score"] == nil {
		t.Errorf("data_request_response %v is not the sample JSON", st["data_request_response"])
	}
	if status, mismatch := post(t, srv.URL, PathCheckConnectionStatus, testKey, `{"reference_id":"ref-1","unique_id":"other"}`); status != 400 {
		t.Errorf("mismatched ids: %d %v", status, mismatch)
	}
	// The number may come quoted, as the seed writes it.
	if status, up := post(t, srv.URL, PathCheckForUpdates, testKey, `{"last_refresh_timestamp_s":"0"}`); status != 200 || up["timestamp_s"] != float64(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("updates: %d %v", status, up)
	}

	s.SetMaintenance(true)
	if status, out := post(t, srv.URL, PathRegister, testKey, `{"reference_id":"ref-1"}`); status != 503 || out["failure_code"] != CodeServiceUnavailable {
		t.Errorf("maintenance: %d %v", status, out)
	}
}

func TestUpdateFeedIsHalfOpen(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 500, time.UTC)
	s, srv := newTestServer(t, Config{Now: func() time.Time { return now }})
	_, reg := post(t, srv.URL, PathRegister, testKey, `{"reference_id":"ref-1"}`)
	if _, err := s.Accept(context.Background(), reg["unique_id"].(string)); err != nil {
		t.Fatal(err)
	}
	t0 := now.Unix()
	feed := func(since int64) []any {
		t.Helper()
		_, out := post(t, srv.URL, PathCheckForUpdates, testKey, `{"last_refresh_timestamp_s":`+jsonInt(since)+`}`)
		return out["connections_to_update"].([]any)
	}
	if got := feed(0); len(got) != 0 {
		t.Errorf("same second: %v, want nothing yet", got)
	}
	now = now.Add(time.Second)
	if got := feed(t0); len(got) != 1 || got[0] != "ref-1" {
		t.Errorf("next second: %v", got)
	}
	if got := feed(t0 + 1); len(got) != 0 {
		t.Errorf("after the cursor: %v", got)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestControlErrors(t *testing.T) {
	s, srv := newTestServer(t, Config{})
	ctx := context.Background()
	if _, err := s.Accept(ctx, "ghost"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("unknown user: %v", err)
	}
	_, reg := post(t, srv.URL, PathRegister, testKey, `{"reference_id":"ref-1"}`)
	uid := reg["unique_id"].(string)
	if _, err := s.Delete(ctx, uid); !errors.Is(err, ErrInvalidState) {
		t.Errorf("delete before accept: %v", err)
	}
	if _, err := s.Deverify(ctx, uid); !errors.Is(err, ErrInvalidState) {
		t.Errorf("deverify before accept: %v", err)
	}
	d, err := s.Accept(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	// No webhook URL configured: the change stands, nothing is sent.
	if d.Delivered || d.Attempts != 0 || d.Err == "" {
		t.Errorf("delivery without a URL: %+v", d)
	}
	if _, err := s.Accept(ctx, uid); !errors.Is(err, ErrInvalidState) {
		t.Errorf("accept twice: %v", err)
	}
}

func TestWebhookSignatureAndPath(t *testing.T) {
	var gotPath, gotSig, gotType string
	var gotBody []byte
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotSig, gotType = r.URL.Path, r.Header.Get(HeaderSignature), r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
	}))
	defer app.Close()
	s, srv := newTestServer(t, Config{WebhookBaseURL: app.URL + "/webhooks/verifyyou/", WebhookSecret: "shh"})
	_, reg := post(t, srv.URL, PathRegister, testKey, `{"reference_id":"ref-1"}`)
	if _, err := s.Accept(context.Background(), reg["unique_id"].(string)); err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte("shh"))
	mac.Write(gotBody)
	if gotPath != "/webhooks/verifyyou/connection_verified" || gotType != "application/json" || gotSig != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("webhook %s %s %s", gotPath, gotType, gotSig)
	}
	var body struct {
		TransactionID string            `json:"transaction_id"`
		Payload       map[string]string `json:"payload"`
	}
	if err := json.Unmarshal(gotBody, &body); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body.TransactionID, "ewh:") || body.Payload["event"] != "connection_verified" || body.Payload["reference_id"] != "ref-1" || body.Payload["unique_id"] != reg["unique_id"] {
		t.Errorf("body %s", gotBody)
	}
	if ds := s.Deliveries(); len(ds) != 1 || !ds[0].Delivered || ds[0].URL != app.URL+"/webhooks/verifyyou/connection_verified" {
		t.Errorf("deliveries %+v", ds)
	}
}

// The end user drives the simulator through its pages, mounted under a
// prefix as the app mounts it.
func TestInvitePagesUnderPrefix(t *testing.T) {
	var events []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events = append(events, r.URL.Path)
	}))
	defer app.Close()

	mux := http.NewServeMux()
	front := httptest.NewUnstartedServer(mux)
	public := "http://" + front.Listener.Addr().String() + "/sandbox/verifyyou"
	s := New(Config{PublicURL: public, APIKey: testKey, WebhookBaseURL: app.URL + "/webhooks/verifyyou", WebhookSecret: "shh",
		Sleep: func(context.Context, time.Duration) error { return nil }})
	mux.Handle("/sandbox/verifyyou/", http.StripPrefix("/sandbox/verifyyou", s))
	front.Start()
	defer front.Close()

	_, reg := post(t, public, PathRegister, testKey, `{"reference_id":"ref-1"}`)
	invite := reg["invite_url"].(string)
	if invite != public+"/_sim/verifyyou/invite/"+reg["unique_id"].(string) {
		t.Fatalf("invite_url %s", invite)
	}

	page := get(t, invite, http.StatusOK)
	for _, want := range []string{"Simulator", `data-testid="accept"`, "not connected"} {
		if !strings.Contains(page, want) {
			t.Errorf("invite page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page needs no script")
	}

	// Pressing the buttons: each form posts and is redirected back.
	for _, step := range []struct{ action, state, control, event string }{
		{"accept", "connected", `data-testid="delete"`, "connection_verified"},
		{"delete", "not connected", `data-testid="accept"`, "connection_deleted"},
		{"accept", "connected", `data-testid="deverify"`, "connection_verified"},
		{"deverify", "deverified by VerifyYou", "cannot be accepted again", "deverification"},
	} {
		page := submit(t, invite, step.action)
		if !strings.Contains(page, `<span data-testid="state">`+step.state+`</span>`) || !strings.Contains(page, step.control) ||
			!strings.Contains(page, "Last webhook: "+step.event) || !strings.Contains(page, "delivered (HTTP 200)") ||
			!strings.Contains(page, `data-testid="message"`) {
			t.Errorf("after %s the page reads:\n%s", step.action, page)
		}
	}
	if want := []string{"/webhooks/verifyyou/connection_verified", "/webhooks/verifyyou/connection_deleted", "/webhooks/verifyyou/connection_verified", "/webhooks/verifyyou/deverification"}; strings.Join(events, " ") != strings.Join(want, " ") {
		t.Errorf("webhooks %v, want %v", events, want)
	}

	// Accepting after deverification is refused on the page.
	resp, err := http.PostForm(invite+"/accept", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	conflict, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(conflict), "not possible") {
		t.Errorf("accept after deverification: %d\n%s", resp.StatusCode, conflict)
	}
	// Its link back leads to the invite page.
	back, err := url.Parse(invite + "/accept")
	if err != nil {
		t.Fatal(err)
	}
	if ref, _ := url.Parse("../" + reg["unique_id"].(string)); back.ResolveReference(ref).String() != invite || !strings.Contains(string(conflict), `href="../`+reg["unique_id"].(string)+`"`) {
		t.Errorf("conflict page link back is wrong:\n%s", conflict)
	}

	get(t, public+"/_sim/verifyyou/invite/ghost", http.StatusNotFound)
	if list := get(t, public+"/_sim/verifyyou/", http.StatusOK); !strings.Contains(list, "ref-1") || !strings.Contains(list, "Simulator") {
		t.Errorf("list page:\n%s", list)
	}
	resp, err = http.PostForm(invite+"/explode", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown action: %d", resp.StatusCode)
	}
	if len(s.Users()) != 1 {
		t.Errorf("users %+v", s.Users())
	}
}

func get(t *testing.T, u string, want int) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d", u, resp.StatusCode, want)
	}
	return string(b)
}

// submit posts an action form and follows the 303 back to the page.
func submit(t *testing.T, invite, action string) string {
	t.Helper()
	resp, err := http.PostForm(invite+"/"+action, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != mustPath(t, invite) || resp.Request.Method != http.MethodGet {
		t.Fatalf("%s: ended at %s %s with %d", action, resp.Request.Method, resp.Request.URL, resp.StatusCode)
	}
	return string(b)
}

func mustPath(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Path
}
