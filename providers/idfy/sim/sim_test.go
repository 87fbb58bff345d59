package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	cfg.PublicURL = ts.URL
	if cfg.APIKey == "" {
		cfg.APIKey, cfg.AccountID = "key", "acct"
	}
	s := New(cfg)
	h = s
	return s, ts
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, ts *httptest.Server, method, path, body string, creds bool) reply {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if creds {
		req.Header.Set("api-key", "key")
		req.Header.Set("account-id", "acct")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func TestAPIErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	ok := `{"reference_id":"r1","config":{"id":"c"},"data":{"a":"1","b":"2"}}`
	if r := call(t, ts, "POST", PathSyncCreate, ok, true); r.status != http.StatusOK {
		t.Fatalf("setup create: %d %s", r.status, r.raw)
	}
	tests := []struct {
		name, method, path, body string
		creds                    bool
		wantStatus               int
		wantCode                 string
	}{
		{"no credentials", "POST", PathSyncCreate, ok, false, 401, "UNAUTHORIZED"},
		{"no credentials on get", "GET", "/profiles/x", "", false, 401, "UNAUTHORIZED"},
		{"not JSON", "POST", PathSyncCreate, `{"reference_id":`, true, 400, "BAD_REQUEST"},
		{"no reference_id", "POST", PathSyncCreate, `{"config":{"id":"c"}}`, true, 422, "UNPROCESSABLE_ENTITY"},
		{"no config id", "POST", PathSyncCreate, `{"reference_id":"r2"}`, true, 422, "UNPROCESSABLE_ENTITY"},
		{"data not an object", "POST", PathSyncCreate, `{"reference_id":"r2","config":{"id":"c"},"data":[1]}`, true, 422, "UNPROCESSABLE_ENTITY"},
		{"three resources on the sync call", "POST", PathSyncCreate, `{"reference_id":"r3","config":{"id":"c"},"data":{"a":"1","b":"2","c":"3"}}`, true, 422, "TOO_MANY_RESOURCES"},
		{"duplicate reference_id", "POST", PathAsyncCreate, ok, true, 409, "DUPLICATE_REFERENCE_ID"},
		{"encrypted_data on the plain call", "POST", PathSyncCreate, `{"reference_id":"r4","config":{"id":"c"},"encrypted_data":"x"}`, true, 400, "BAD_REQUEST"},
		{"encrypted call without a key", "POST", PathEncryptedSyncCreate, `{"reference_id":"r5","config":{"id":"c"},"encrypted_data":"x"}`, true, 403, "FORBIDDEN"},
		{"unknown profile", "GET", "/profiles/nope", "", true, 404, "NOT_FOUND"},
		{"unknown endpoint", "GET", "/v3/tasks", "", true, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, tt.method, tt.path, tt.body, tt.creds)
			if r.status != tt.wantStatus || r.body["error"] != tt.wantCode {
				t.Errorf("got %d %s, want %d %s", r.status, r.raw, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestSyncAndAsyncReplies(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	sync := call(t, ts, "POST", PathSyncCreate, `{"reference_id":"s","config":{"id":"c"},"data":{"a":"1"}}`, true)
	async := call(t, ts, "POST", PathAsyncCreate, `{"reference_id":"a","config":{"id":"c"},"data":{"a":"1","b":"2","c":"3"}}`, true)
	if sync.status != http.StatusOK || async.status != http.StatusAccepted {
		t.Fatalf("statuses %d %d", sync.status, async.status)
	}
	for _, r := range []reply{sync, async} {
		id, _ := r.body["profile_id"].(string)
		link, _ := r.body["capture_link"].(string)
		if len(id) != 36 || !strings.HasPrefix(link, ts.URL+"/_sim/idfy/capture/"+id+"?t=") || r.body["capture_expires_at"] == "" {
			t.Errorf("reply %s", r.raw)
		}
	}
	st, _ := s.ProfileByReference("a")
	if !st.Async || st.Resources != 3 || st.Status != StatusCapturePending {
		t.Errorf("state %+v", st)
	}
}

func TestFailNext(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	s.FailNext(http.StatusTooManyRequests, 1)
	s.FailNext(http.StatusServiceUnavailable, 1)
	if r := call(t, ts, "GET", "/profiles/x", "", true); r.status != 429 || r.header.Get("Retry-After") != "0" {
		t.Errorf("first: %d", r.status)
	}
	if r := call(t, ts, "GET", "/profiles/x", "", true); r.status != 503 {
		t.Errorf("second: %d", r.status)
	}
	if r := call(t, ts, "GET", "/profiles/x", "", true); r.status != 404 {
		t.Errorf("third: %d", r.status)
	}
}

func seal(t *testing.T, kid string, key []byte, plain string) string {
	t.Helper()
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: kid}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEncryptedCreateAndGet(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	s, ts := newTestServer(t, Config{KeyID: "kid-9", Key: key})
	data := seal(t, "kid-9", key, `{"name":"Asha Rao","dob":"1990-02-03"}`)
	payload := seal(t, "kid-9", key, `{"security_questions":[]}`)
	tests := []struct {
		name, body string
		wantStatus int
		wantCode   string
	}{
		{"plain data on the encrypted call", `{"reference_id":"e0","config":{"id":"c"},"data":{"a":"1"}}`, 400, "BAD_REQUEST"},
		{"wrong key", `{"reference_id":"e1","config":{"id":"c"},"encrypted_data":"` + seal(t, "kid-9", bytes.Repeat([]byte{8}, 32), `{}`) + `"}`, 400, "DECRYPTION_FAILED"},
		{"wrong kid", `{"reference_id":"e2","config":{"id":"c"},"encrypted_data":"` + seal(t, "kid-8", key, `{}`) + `"}`, 400, "DECRYPTION_FAILED"},
		{"bad payload", `{"reference_id":"e3","config":{"id":"c"},"encrypted_data":"` + data + `","encrypted_payload":"garbage"}`, 400, "DECRYPTION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, "POST", PathEncryptedSyncCreate, tt.body, true)
			if r.status != tt.wantStatus || r.body["error"] != tt.wantCode {
				t.Errorf("got %d %s", r.status, r.raw)
			}
		})
	}
	r := call(t, ts, "POST", PathEncryptedSyncCreate, `{"reference_id":"e4","config":{"id":"c"},"encrypted_data":"`+data+`","encrypted_payload":"`+payload+`"}`, true)
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.body["profile_id"].(string)
	if err := s.FinishCapture(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	got := call(t, ts, "GET", "/profiles/"+id, "", true)
	if got.body["status"] != StatusCompleted || got.body["resources"] != nil || strings.Contains(got.raw, "Asha") {
		t.Fatalf("plain part of the encrypted reply: %s", got.raw)
	}
	obj, err := jose.ParseEncryptedCompact(got.body["encrypted_data"].(string), []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := obj.Decrypt(key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(plain), `"attr":"name","value":"Asha Rao"`) || !strings.Contains(string(plain), "profile_report") {
		t.Errorf("decrypted details %s", plain)
	}
}

func TestGoDrivers(t *testing.T) {
	ctx := context.Background()
	s, ts := newTestServer(t, Config{})
	r := call(t, ts, "POST", PathSyncCreate, `{"reference_id":"g","config":{"id":"c"}}`, true)
	id := r.body["profile_id"].(string)
	steps := []struct {
		name    string
		do      func() error
		want    string
		wantErr error
	}{
		{"review before capture", func() error { return s.Review(ctx, id, ReviewerApproved) }, StatusCapturePending, ErrState},
		{"start", func() error { return s.StartCall(ctx, id) }, StatusInProgress, nil},
		{"start twice", func() error { return s.StartCall(ctx, id) }, StatusInProgress, ErrState},
		{"cancel back to pending", func() error { return s.CancelCapture(ctx, id) }, StatusCapturePending, nil},
		{"finish", func() error { return s.FinishCapture(ctx, id) }, StatusCompleted, nil},
		{"reject", func() error { return s.Review(ctx, id, ReviewerRejected) }, StatusCompleted, nil},
		{"review twice", func() error { return s.Review(ctx, id, ReviewerApproved) }, StatusCompleted, ErrState},
		{"expire after completion", func() error { return s.ExpireCapture(ctx, id) }, StatusCompleted, ErrState},
		{"purge", func() error { return s.Purge(ctx, id) }, StatusPurged, nil},
		{"unknown profile", func() error { return s.Purge(ctx, "nope") }, StatusPurged, ErrNotFound},
	}
	for _, st := range steps {
		err := st.do()
		if st.wantErr != nil && !errors.Is(err, st.wantErr) {
			t.Errorf("%s: err = %v, want %v", st.name, err, st.wantErr)
		}
		if st.wantErr == nil && err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
		if p, _ := s.Profile(id); p.Status != st.want {
			t.Errorf("%s: status %q, want %q", st.name, p.Status, st.want)
		}
	}
	if err := s.Review(ctx, id, "maybe"); err == nil || errors.Is(err, ErrState) {
		t.Errorf("review action maybe: %v, want a refusal of the action", err)
	}
	if p, _ := s.Profile(id); p.ReviewerAction != ReviewerRejected || p.Files != 0 {
		t.Errorf("after purge: %+v", p)
	}
}

func TestCaptureExpiresOnTheClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, ts := newTestServer(t, Config{Now: clock, CaptureTTL: time.Hour})
	r := call(t, ts, "POST", PathSyncCreate, `{"reference_id":"x","config":{"id":"c"}}`, true)
	id := r.body["profile_id"].(string)
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if got := call(t, ts, "GET", "/profiles/"+id, "", true); got.body["status"] != StatusCaptureExpired {
		t.Errorf("status %v", got.body["status"])
	}
	if err := s.FinishCapture(context.Background(), id); !errors.Is(err, ErrState) {
		t.Errorf("finish after expiry: %v", err)
	}
}

func TestPagesCarryTheSimulatorLabel(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	r := call(t, ts, "POST", PathSyncCreate, `{"reference_id":"p","config":{"id":"c"}}`, true)
	st, _ := s.Profile(r.body["profile_id"].(string))
	for _, target := range []string{ts.URL + "/_sim/idfy/", st.CaptureLink, ts.URL + "/_sim/idfy/capture/nope"} {
		resp, err := ts.Client().Get(target)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `data-testid="sim-label">Simulator<`) {
			t.Errorf("%s has no Simulator label", target)
		}
		if strings.Contains(string(body), "<script") {
			t.Errorf("%s has a script", target)
		}
	}
}
