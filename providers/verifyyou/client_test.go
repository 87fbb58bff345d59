package verifyyou

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/verifyyou/sim"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRegisterAgainstSim(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ctx := context.Background()

	first, err := e.client.Register(ctx, "ref-0001")
	if err != nil {
		t.Fatal(err)
	}
	if !uuidRE.MatchString(first.UniqueID) {
		t.Errorf("unique_id %q is not a uuid", first.UniqueID)
	}
	if want := e.srv.URL + "/_sim/verifyyou/invite/" + first.UniqueID; first.InviteURL != want {
		t.Errorf("invite_url = %q, want %q", first.InviteURL, want)
	}
	if first.InviteID == "" || first.ConnectionVerified {
		t.Errorf("new registration = %+v, want an invite id and no verified connection", first)
	}

	// Registering again pulls the latest on the existing user.
	if _, err := e.sim.Accept(ctx, first.UniqueID); err != nil {
		t.Fatal(err)
	}
	again, err := e.client.Register(ctx, "ref-0001")
	if err != nil {
		t.Fatal(err)
	}
	if again.UniqueID != first.UniqueID || again.InviteURL != first.InviteURL || !again.ConnectionVerified {
		t.Errorf("re-register = %+v, want the same user, now verified (first %+v)", again, first)
	}

	other, err := e.client.Register(ctx, "ref-0002")
	if err != nil {
		t.Fatal(err)
	}
	if other.UniqueID == first.UniqueID {
		t.Error("two references share a unique_id")
	}
}

func TestRegisterRejectsBadReferenceWithoutCalling(t *testing.T) {
	e := newEnv(t, sim.Config{})
	for _, ref := range []string{"", "   ", strings.Repeat("r", maxReferenceLen+1)} {
		if _, err := e.client.Register(context.Background(), ref); err == nil {
			t.Errorf("Register(%q) succeeded", ref)
		}
	}
	if n := len(e.sim.Users()); n != 0 {
		t.Errorf("simulator has %d users, want none", n)
	}
}

func TestCheckConnectionStatusAgainstSim(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ctx := context.Background()
	reg, err := e.client.Register(ctx, "ref-0001")
	if err != nil {
		t.Fatal(err)
	}

	before, err := e.client.CheckConnectionStatus(ctx, "ref-0001", "")
	if err != nil {
		t.Fatal(err)
	}
	if before.HasConnection || before.DataRequestResponse != "" || before.UniqueID != reg.UniqueID {
		t.Errorf("before accepting: %+v", before)
	}

	if _, err := e.sim.Accept(ctx, reg.UniqueID); err != nil {
		t.Fatal(err)
	}
	for name, lookup := range map[string][2]string{"by reference": {"ref-0001", ""}, "by unique_id": {"", reg.UniqueID}, "by both": {"ref-0001", reg.UniqueID}} {
		t.Run(name, func(t *testing.T) {
			got, err := e.client.CheckConnectionStatus(ctx, lookup[0], lookup[1])
			if err != nil {
				t.Fatal(err)
			}
			u, _ := e.sim.User(reg.UniqueID)
			if !got.HasConnection || got.UniqueID != reg.UniqueID || got.DataRequestResponse != u.DataRequestResponse || got.DataRequestResponse == "" {
				t.Errorf("after accepting: %+v (sim data %q)", got, u.DataRequestResponse)
			}
		})
	}

	if _, err := e.client.CheckConnectionStatus(ctx, "", ""); err == nil {
		t.Error("no reference and no unique_id: want an error")
	}
}

func TestDoesNotExistIsTyped(t *testing.T) {
	e := newEnv(t, sim.Config{})
	for name, lookup := range map[string][2]string{"reference": {"never-registered", ""}, "unique_id": {"", "7c4e2f8a-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}} {
		t.Run(name, func(t *testing.T) {
			_, err := e.client.CheckConnectionStatus(context.Background(), lookup[0], lookup[1])
			var nr *NotRegisteredError
			if !errors.As(err, &nr) || !errors.Is(err, ErrNotRegistered) {
				t.Fatalf("err = %v, want a *NotRegisteredError", err)
			}
			var apiErr *providers.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != CodeDoesNotExist || apiErr.Call != callCheckStatus || apiErr.Provider != providers.VerifyYou {
				t.Fatalf("APIError = %+v, want DOES_NOT_EXIST from check_connection_status", apiErr)
			}
			if msg := err.Error(); !strings.Contains(msg, "DOES_NOT_EXIST") || !strings.Contains(msg, "register it first") {
				t.Errorf("message %q does not explain the error", msg)
			}
		})
	}
	if _, err := e.client.Refresh(context.Background(), "never-registered", ""); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Refresh: err = %v, want ErrNotRegistered", err)
	}
}

func TestAPIErrorsFromSim(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ctx := context.Background()

	t.Run("bad API key", func(t *testing.T) {
		c := newClient(e.srv.URL, "wrong-key-value", e.clock)
		_, err := c.Register(ctx, "ref-0001")
		apiErr := asAPIError(t, err)
		if apiErr.Code != sim.CodeInvalidAPIKey || apiErr.HTTPStatus != http.StatusUnauthorized || apiErr.Call != callRegister {
			t.Errorf("APIError = %+v", apiErr)
		}
		if strings.Contains(err.Error(), "wrong-key-value") {
			t.Error("the error shows the API key")
		}
	})
	t.Run("missing API key", func(t *testing.T) {
		c := newClient(e.srv.URL, "", e.clock)
		_, err := c.CheckForUpdates(ctx, 0)
		if apiErr := asAPIError(t, err); apiErr.Code != sim.CodeInvalidAPIKey {
			t.Errorf("APIError = %+v", apiErr)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		var out struct{}
		err := e.client.call(ctx, callRegister, PathRegister, map[string]any{"reference_id": 42}, &out)
		apiErr := asAPIError(t, err)
		if apiErr.Code != sim.CodeInvalidRequest || apiErr.HTTPStatus != http.StatusBadRequest || apiErr.Message == "" {
			t.Errorf("APIError = %+v", apiErr)
		}
	})
	t.Run("maintenance", func(t *testing.T) {
		e.sim.SetMaintenance(true)
		defer e.sim.SetMaintenance(false)
		_, err := e.client.CheckConnectionStatus(ctx, "ref-0001", "")
		apiErr := asAPIError(t, err)
		if apiErr.Code != sim.CodeServiceUnavailable || apiErr.HTTPStatus != http.StatusServiceUnavailable {
			t.Errorf("APIError = %+v", apiErr)
		}
	})
}

func asAPIError(t *testing.T, err error) *providers.APIError {
	t.Helper()
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want a *providers.APIError", err)
	}
	return apiErr
}

// stub serves one canned reply and records the request.
type stub struct {
	status int
	body   string
	got    *http.Request
	gotRaw []byte
}

func (s *stub) start(t *testing.T) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.got = r
		s.gotRaw, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
	}))
	t.Cleanup(srv.Close)
	return newClient(srv.URL, testAPIKey, newClock())
}

func TestRequestShape(t *testing.T) {
	s := &stub{status: 200, body: `{"status":"success","unique_id":"u1","invite_id":"i1","invite_url":"https://vy.example/i1","connection_verified":false}`}
	c := s.start(t)
	if _, err := c.Register(context.Background(), "ref-0001"); err != nil {
		t.Fatal(err)
	}
	if s.got.Method != http.MethodPost || s.got.URL.Path != PathRegister {
		t.Errorf("request %s %s", s.got.Method, s.got.URL.Path)
	}
	if got := s.got.Header.Get("API-KEY"); got != testAPIKey {
		t.Errorf("API-KEY header = %q", got)
	}
	if ct := s.got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(s.gotRaw, &body); err != nil || body["reference_id"] != "ref-0001" || len(body) != 1 {
		t.Errorf("body = %s", s.gotRaw)
	}
}

func TestEnvelopeDecoding(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string // an APIError with this code
		wantHTTP int
		wantErr  error // or an error wrapping this
		wantAny  bool  // or any error
	}{
		{name: "failure envelope with HTTP 200", status: 200, body: `{"status":"failure","failure_code":"RATE_LIMITED","failure_reason":"slow down"}`, wantCode: "RATE_LIMITED", wantHTTP: 200},
		{name: "DOES_NOT_EXIST with HTTP 200", status: 200, body: `{"status":"failure","failure_code":"DOES_NOT_EXIST","failure_reason":"no user"}`, wantCode: CodeDoesNotExist, wantHTTP: 200, wantErr: ErrNotRegistered},
		{name: "failure envelope with HTTP 400", status: 400, body: `{"status":"failure","failure_code":"INVALID_REQUEST","failure_reason":"Missing required field"}`, wantCode: "INVALID_REQUEST", wantHTTP: 400},
		{name: "plain 500 after retries", status: 500, body: `upstream broke`, wantCode: "", wantHTTP: 500},
		{name: "plain 404", status: 404, body: `<html>not found</html>`, wantCode: "", wantHTTP: 404},
		{name: "not JSON", status: 200, body: `<html>`, wantAny: true},
		{name: "unknown status", status: 200, body: `{"status":"pending"}`, wantErr: providers.ErrMalformed},
		{name: "success without fields", status: 200, body: `{"status":"success"}`, wantErr: providers.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := (&stub{status: tt.status, body: tt.body}).start(t)
			_, err := c.Register(context.Background(), "ref-0001")
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantHTTP != 0 {
				apiErr := asAPIError(t, err)
				if apiErr.Code != tt.wantCode || apiErr.HTTPStatus != tt.wantHTTP {
					t.Errorf("APIError = %+v", apiErr)
				}
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "verifyyou: register") {
				t.Errorf("error %q does not name provider and call", err)
			}
		})
	}
}

func TestPublicV1Spellings(t *testing.T) {
	ctx := context.Background()
	t.Run("register user_id", func(t *testing.T) {
		c := (&stub{status: 200, body: `{"status":"success","invite_url":"https://verifyyou.com/invite/x","user_id":"bcu_123","connection_verified":false,"extra":1}`}).start(t)
		reg, err := c.Register(ctx, "user_123")
		if err != nil || reg.UniqueID != "bcu_123" || reg.InviteURL != "https://verifyyou.com/invite/x" {
			t.Fatalf("reg = %+v, err = %v", reg, err)
		}
	})
	t.Run("simple_data_request_response", func(t *testing.T) {
		c := (&stub{status: 200, body: `{"status":"success","has_connection":true,"simple_data_request_response":[{"result":{"humanness_score":21},"type":"GET_HUMANNESS_SCORE_AND_UNIQUE_HUMAN_ID"}]}`}).start(t)
		cs, err := c.CheckConnectionStatus(ctx, "", "bcu_123")
		if err != nil {
			t.Fatal(err)
		}
		if !cs.HasConnection || cs.UniqueID != "bcu_123" || !strings.Contains(cs.DataRequestResponse, `"humanness_score":21`) {
			t.Errorf("status = %+v", cs)
		}
	})
	t.Run("data_request_response as an object", func(t *testing.T) {
		c := (&stub{status: 200, body: `{"status":"success","unique_id":"u","has_connection":true,"data_request_response":{"a":1}}`}).start(t)
		cs, err := c.CheckConnectionStatus(ctx, "r", "")
		if err != nil || cs.DataRequestResponse != `{"a":1}` {
			t.Errorf("status = %+v, err = %v", cs, err)
		}
	})
	t.Run("timestamp_s as a string", func(t *testing.T) {
		c := (&stub{status: 200, body: `{"status":"success","connections_to_update":["a","b","a",""],"timestamp_s":"1777888999"}`}).start(t)
		up, err := c.CheckForUpdates(ctx, 5)
		if err != nil || up.Cursor != 1777888999 || strings.Join(up.Connections, ",") != "a,b" {
			t.Errorf("updates = %+v, err = %v", up, err)
		}
	})
}

func TestStartAndRefreshAgainstSim(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ctx := context.Background()

	started, err := e.client.Start(ctx, providers.StartRequest{Reference: "ref-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if started.ProviderRef == "" || started.Link != e.sim.InviteURL(started.ProviderRef) || started.QRPNG != nil ||
		started.Status != providers.StatusInvited || started.ProviderStatus != StatusRegistered || len(started.Notes) != 0 {
		t.Errorf("started = %+v", started)
	}

	withExtras, err := e.client.Start(ctx, providers.StartRequest{Reference: "ref-0001", ReturnURL: "https://desk.example/done", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if withExtras.ProviderRef != started.ProviderRef || len(withExtras.Notes) != 2 {
		t.Errorf("restart = %+v, want the same user and two notes", withExtras)
	}

	steps := []struct {
		name   string
		act    func() error
		status providers.Status
		ps     string
		attrs  int
	}{
		{"registered", func() error { return nil }, providers.StatusInvited, StatusNotConnected, 0},
		{"accepted", func() error { _, err := e.sim.Accept(ctx, started.ProviderRef); return err }, providers.StatusApproved, EventConnectionVerified, 1},
		{"deleted", func() error { _, err := e.sim.Delete(ctx, started.ProviderRef); return err }, providers.StatusInvited, StatusNotConnected, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.act(); err != nil {
				t.Fatal(err)
			}
			u, err := e.client.Refresh(ctx, "ref-0001", "")
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != st.status || u.ProviderStatus != st.ps || len(u.Attributes) != st.attrs ||
				u.Reference != "ref-0001" || u.ProviderRef != started.ProviderRef || !u.At.Equal(e.clock.Now()) {
				t.Errorf("update = %+v", u)
			}
			if st.attrs == 1 && (u.Attributes[0].Meaning != AttrDataRequestResponse || u.Attributes[0].Value == "") {
				t.Errorf("attribute = %+v", u.Attributes[0])
			}
		})
	}

	again, err := e.client.Start(ctx, providers.StartRequest{Reference: "ref-0001"})
	if err != nil || again.Status != providers.StatusInvited {
		t.Errorf("start after delete = %+v, %v", again, err)
	}
	if _, err := e.sim.Accept(ctx, started.ProviderRef); err != nil {
		t.Fatal(err)
	}
	if s, err := e.client.Start(ctx, providers.StartRequest{Reference: "ref-0001"}); err != nil || s.Status != providers.StatusApproved || s.ProviderStatus != EventConnectionVerified {
		t.Errorf("start of a verified user = %+v, %v", s, err)
	}
}

func TestRefreshConnectedWithoutData(t *testing.T) {
	c := (&stub{status: 200, body: `{"status":"success","unique_id":"u1","has_connection":true,"data_request_response":""}`}).start(t)
	u, err := c.Refresh(context.Background(), "", "u1")
	if err != nil || u.Status != providers.StatusInProgress || u.ProviderStatus != StatusConnected || u.ProviderRef != "u1" {
		t.Errorf("update = %+v, err = %v", u, err)
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		in   string
		want providers.Status
		ok   bool
	}{
		{"registered", providers.StatusInvited, true},
		{"not_connected", providers.StatusInvited, true},
		{"connected", providers.StatusInProgress, true},
		{"connection_verified", providers.StatusApproved, true},
		{"connection_deleted", providers.StatusWithdrawn, true},
		{"deverification", providers.StatusBlocked, true},
		{"USER_VERIFICATION_COMPLETED", providers.StatusApproved, true},
		{"USER_VERIFICATION_REVOKED", providers.StatusWithdrawn, true},
		{"USER_DELETED", providers.StatusWithdrawn, true},
		{"USER_VERIFICATION_DENIED", providers.StatusRejected, true},
		{"USER_VERIFICATION_DETERMINED_UNFULFILLABLE", providers.StatusBlocked, true},
		{" Connection_Verified ", providers.StatusApproved, true},
		{"something_new", providers.StatusNeedsReview, false},
		{"", providers.StatusNeedsReview, false},
	}
	for _, tt := range tests {
		got, ok := MapStatus(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("MapStatus(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// The adapter satisfies the provider interfaces.
var (
	_ providers.Starter         = (*Client)(nil)
	_ providers.Refresher       = (*Client)(nil)
	_ providers.InboundVerifier = (*Client)(nil)
	_ providers.InboundVerifier = (*Verifier)(nil)
)
