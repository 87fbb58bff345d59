package idfy

import (
	"errors"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Webhook
		wantKey string
	}{
		{name: "profile status update (testdata)", body: string(readTestdata(t, "webhook_profile_status.json")),
			want:    Webhook{Event: EventProfileStatusUpdate, ProfileID: "5adf39fa-9d38-4337-9362-fd052f09b7fe", ReferenceID: "kd-idfy-7Q2M9X", Status: "completed", ReviewerAction: "approved"},
			wantKey: "5adf39fa-9d38-4337-9362-fd052f09b7fe|completed|approved"},
		{name: "session update (testdata)", body: string(readTestdata(t, "webhook_session_update.json")),
			want:    Webhook{Event: EventSessionUpdate, ProfileID: "5adf39fa-9d38-4337-9362-fd052f09b7fe", ReferenceID: "kd-idfy-7Q2M9X", Status: "in_progress"},
			wantKey: "5adf39fa-9d38-4337-9362-fd052f09b7fe|in_progress|"},
		{name: "explicit event key kept verbatim", body: `{"event_type":"VKYC_CALL_DROPPED","profile_id":"p1","status":"capture_pending"}`,
			want: Webhook{Event: "VKYC_CALL_DROPPED", ProfileID: "p1", Status: "capture_pending"}, wantKey: "p1|capture_pending|"},
		{name: "nested under profile", body: `{"type":"profile_status_update","profile":{"profile_id":"p2","status":"completed","reviewer_action":"rejected"}}`,
			want: Webhook{Event: "profile_status_update", ProfileID: "p2", Status: "completed", ReviewerAction: "rejected"}, wantKey: "p2|completed|rejected"},
		{name: "nested under data", body: `{"data":{"profile_id":"p3","status":"in_progress"}}`,
			want: Webhook{Event: EventProfileStatusUpdate, ProfileID: "p3", Status: "in_progress"}, wantKey: "p3|in_progress|"},
		{name: "odd types tolerated", body: `{"profile_id":"p4","status":"completed","reviewer_action":null,"resources":"gone","session_id":null}`,
			want: Webhook{Event: EventProfileStatusUpdate, ProfileID: "p4", Status: "completed"}, wantKey: "p4|completed|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if got.DeliveryKey() != tt.wantKey {
				t.Errorf("key %q, want %q", got.DeliveryKey(), tt.wantKey)
			}
		})
	}
}

func TestParseWebhookMalformed(t *testing.T) {
	for _, body := range []string{``, `not json`, `[]`, `{}`, `{"status":"completed"}`, `{"profile_id":""}`, `{"profile_id":"../x"}`, `{"profile_id":".."}`, `{"profile_id":"a b"}`, `{"profile_id":{"a":1}}`, `null`} {
		if _, err := ParseWebhook([]byte(body)); !errors.Is(err, providers.ErrMalformed) {
			t.Errorf("ParseWebhook(%q) err = %v, want ErrMalformed", body, err)
		}
	}
}

func TestVerifyInbound(t *testing.T) {
	body := readTestdata(t, "webhook_profile_status.json")
	plain, _ := New(Config{}, nil, nil)
	withSecret, _ := New(Config{WebhookSecret: "s3cret", WebhookHeader: "X-Idfy-Token"}, nil, nil)
	defaultHeader, _ := New(Config{WebhookSecret: "s3cret"}, nil, nil)
	hdr := func(k, v string) http.Header {
		h := http.Header{}
		if k != "" {
			h.Set(k, v)
		}
		return h
	}
	tests := []struct {
		name         string
		c            *Client
		h            http.Header
		body         []byte
		wantErr      error
		wantVerified bool
	}{
		{name: "no secret: a trigger", c: plain, h: hdr("", ""), body: body},
		{name: "secret matches", c: withSecret, h: hdr("X-Idfy-Token", "s3cret"), body: body, wantVerified: true},
		{name: "default header name", c: defaultHeader, h: hdr(DefaultWebhookHeader, "s3cret"), body: body, wantVerified: true},
		{name: "secret wrong", c: withSecret, h: hdr("X-Idfy-Token", "s3cres"), body: body, wantErr: providers.ErrBadSignature},
		{name: "secret prefix only", c: withSecret, h: hdr("X-Idfy-Token", "s3c"), body: body, wantErr: providers.ErrBadSignature},
		{name: "secret missing", c: withSecret, h: hdr("", ""), body: body, wantErr: providers.ErrBadSignature},
		{name: "secret in another header", c: withSecret, h: hdr(DefaultWebhookHeader, "s3cret"), body: body, wantErr: providers.ErrBadSignature},
		{name: "malformed body", c: plain, h: hdr("", ""), body: []byte(`{"status":"completed"}`), wantErr: providers.ErrMalformed},
		{name: "secret checked before the body", c: withSecret, h: hdr("", ""), body: []byte(`nonsense`), wantErr: providers.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.c.VerifyInbound(tt.h, tt.body, time.Now())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := providers.Delivery{Provider: providers.IDfy, Event: EventProfileStatusUpdate,
				DeliveryKey: "5adf39fa-9d38-4337-9362-fd052f09b7fe|completed|approved", Verified: tt.wantVerified}
			if d != want {
				t.Errorf("delivery %+v, want %+v", d, want)
			}
		})
	}
}

func TestVerifyInboundEncryptedBody(t *testing.T) {
	key := testKey(3)
	c, err := New(Config{KeyID: "kid-3", Key: key}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewSealer("kid-3", key)
	sealed, _ := s.Seal([]byte(`{"profile_id":"p9","status":"completed","reviewer_action":null}`))
	d, err := c.VerifyInbound(http.Header{}, []byte(`{"encrypted_data":"`+sealed+`"}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.DeliveryKey != "p9|completed|" {
		t.Errorf("key %q", d.DeliveryKey)
	}
	other, _ := NewSealer("kid-3", testKey(4))
	bad, _ := other.Seal([]byte(`{"profile_id":"p9"}`))
	if _, err := c.VerifyInbound(http.Header{}, []byte(`{"encrypted_data":"`+bad+`"}`), time.Now()); !errors.Is(err, providers.ErrMalformed) {
		t.Errorf("wrong-key body: err = %v, want ErrMalformed", err)
	}
}

func TestAllowedRemote(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("34.93.0.0/16"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.1.2.3/32")}
	tests := []struct {
		allow  []netip.Prefix
		remote string
		want   bool
	}{
		{nil, "203.0.113.9:443", true},
		{allow, "34.93.10.20:55012", true},
		{allow, "34.93.10.20", true},
		{allow, "[2001:db8::5]:8443", true},
		{allow, "2001:db8::5", true},
		{allow, "[::ffff:34.93.1.1]:80", true},
		{allow, "10.1.2.3:1", true},
		{allow, "10.1.2.4:1", false},
		{allow, "34.94.0.1:80", false},
		{allow, "", false},
		{allow, "idfy.com:443", false},
	}
	for _, tt := range tests {
		if got := AllowedRemote(tt.allow, tt.remote); got != tt.want {
			t.Errorf("AllowedRemote(%v, %q) = %v, want %v", len(tt.allow), tt.remote, got, tt.want)
		}
	}
	c, _ := New(Config{AllowedIPs: allow}, nil, nil)
	if c.AllowsRemote("8.8.8.8:53") || !c.AllowsRemote("34.93.0.1:53") {
		t.Error("AllowsRemote ignores the configured list")
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"profile_id":"p1","status":"completed","reviewer_action":"approved"}`))
	f.Add([]byte(`{"profile":{"profile_id":"p2"},"type":"x"}`))
	f.Add([]byte(`{"data":{"profile_id":1.5e3},"session":{}}`))
	f.Add([]byte(`{"profile_id":null}`))
	f.Add([]byte(`[{"profile_id":"p"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if w.ProfileID == "" || w.Event == "" {
			t.Fatalf("accepted without a profile id or event: %+v", w)
		}
		again, err := ParseWebhook(body)
		if err != nil || again.DeliveryKey() != w.DeliveryKey() {
			t.Fatal("DeliveryKey not stable")
		}
	})
}
