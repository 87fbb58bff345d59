package verifyyou

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

type vector struct {
	Body      string `json:"body"`
	Secret    string `json:"secret"`
	Signature string `json:"verifyyou_X-Hub-Signature-256"`
}

func loadVector(t *testing.T) vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/hmac_webhook_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func header(sig string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return h
}

func signHex(secret, body string) string {
	return hex.EncodeToString(Sign([]byte(secret), []byte(body)))
}

var at = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func TestVerifyInboundVector(t *testing.T) {
	v := loadVector(t)
	d, err := NewVerifier(v.Secret).VerifyInbound(header(v.Signature), []byte(v.Body), at)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(v.Body))
	want := providers.Delivery{Provider: providers.VerifyYou, Event: "connection_verified", DeliveryKey: "sha256:" + hex.EncodeToString(sum[:]), Verified: true}
	if d != want {
		t.Errorf("delivery = %+v, want %+v", d, want)
	}

	// The seed's Python sample compares the bare hexdigest with the whole
	// header; the two can never be equal, which is why the prefix is
	// stripped before comparing.
	if signHex(v.Secret, v.Body) == v.Signature {
		t.Error("the seed's comparison would succeed; the comment in webhook.go is wrong")
	}

	u, err := ParseWebhook("connection_verified", []byte(v.Body))
	if err != nil {
		t.Fatal(err)
	}
	if u.Reference != "ref-0001" || u.ProviderRef != "7c4e2f8a-1b3d-4e5f-8a9b-0c1d2e3f4a5b" || u.Status != providers.StatusApproved ||
		u.Event != "connection_verified" || u.ProviderStatus != "connection_verified" {
		t.Errorf("update = %+v", u)
	}
}

func TestVerifyInbound(t *testing.T) {
	body := `{"payload":{"event":"connection_deleted","unique_id":"u1","reference_id":"r1"}}`
	good := signHex(testSecret, body)
	flipped := []byte(good)
	if flipped[0] == 'a' {
		flipped[0] = 'b'
	} else {
		flipped[0] = 'a'
	}
	tests := []struct {
		name    string
		secret  string
		sig     string
		body    string
		wantErr error
	}{
		{name: "good", sig: "sha256=" + good},
		{name: "good, upper-case prefix and hex", sig: "SHA256=" + strings.ToUpper(good)},
		{name: "good, bare hex", sig: good},
		{name: "good, surrounding spaces", sig: " sha256=" + good + " "},
		{name: "flipped digit", sig: "sha256=" + string(flipped), wantErr: providers.ErrBadSignature},
		{name: "wrong secret", sig: "sha256=" + signHex("other", body), wantErr: providers.ErrBadSignature},
		{name: "body changed after signing", sig: "sha256=" + good, body: strings.Replace(body, "r1", "r2", 1), wantErr: providers.ErrBadSignature},
		{name: "missing header", sig: "", wantErr: providers.ErrBadSignature},
		{name: "other algorithm", sig: "sha1=" + good, wantErr: providers.ErrBadSignature},
		{name: "truncated", sig: "sha256=" + good[:62], wantErr: providers.ErrBadSignature},
		{name: "not hex", sig: "sha256=" + strings.Repeat("zz", 32), wantErr: providers.ErrBadSignature},
		{name: "prefix only", sig: "sha256=", wantErr: providers.ErrBadSignature},
		{name: "no secret configured", secret: "-", sig: "sha256=" + signHex("", body), wantErr: providers.ErrBadSignature},
		{name: "signed but not JSON", sig: "sha256=" + signHex(testSecret, "hello"), body: "hello", wantErr: providers.ErrMalformed},
		{name: "signed but bad event name", sig: "sha256=" + signHex(testSecret, `{"payload":{"event":"../x"}}`), body: `{"payload":{"event":"../x"}}`, wantErr: providers.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := testSecret
			if tt.secret == "-" {
				secret = ""
			}
			b := body
			if tt.body != "" {
				b = tt.body
			}
			d, err := NewVerifier(secret).VerifyInbound(header(tt.sig), []byte(b), at)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testSecret) {
					t.Error("the error shows the secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !d.Verified || d.Event != "connection_deleted" || d.Provider != providers.VerifyYou || !strings.HasPrefix(d.DeliveryKey, "sha256:") {
				t.Errorf("delivery = %+v", d)
			}
		})
	}
}

func TestClientVerifyInboundUsesConfiguredSecret(t *testing.T) {
	v := loadVector(t)
	c := New(Config{URL: "http://127.0.0.1:1", APIKey: "k", WebhookSecret: v.Secret}, nil, nil)
	if _, err := c.VerifyInbound(header(v.Signature), []byte(v.Body), at); err != nil {
		t.Fatal(err)
	}
	c = New(Config{URL: "http://127.0.0.1:1", APIKey: "k"}, nil, nil)
	if _, err := c.VerifyInbound(header(v.Signature), []byte(v.Body), at); !errors.Is(err, providers.ErrBadSignature) {
		t.Fatalf("without a secret: err = %v", err)
	}
}

func TestDeliveryKeys(t *testing.T) {
	verify := func(body string) providers.Delivery {
		t.Helper()
		d, err := NewVerifier(testSecret).VerifyInbound(header("sha256="+signHex(testSecret, body)), []byte(body), at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	seed := `{"payload":{"event":"connection_verified","unique_id":"u1","reference_id":"r1"}}`
	v1a := `{"transaction_id":"ewh:a1","user_id":"bcu_1","reference_user_id":"r1","type":"USER_VERIFICATION_COMPLETED","payload":{},"created_at":"2026-02-26T20:17:13.123Z"}`
	v1b := strings.Replace(v1a, "ewh:a1", "ewh:b2", 1)

	// A replay (or a retry) of the same delivery has the same key, so the
	// inbox stores it once.
	if a, b := verify(seed), verify(seed); a.DeliveryKey != b.DeliveryKey {
		t.Errorf("replayed seed body: keys %q and %q differ", a.DeliveryKey, b.DeliveryKey)
	}
	if got := verify(v1a).DeliveryKey; got != "txn:ewh:a1" {
		t.Errorf("v1 key = %q", got)
	}
	if verify(v1a).DeliveryKey == verify(v1b).DeliveryKey {
		t.Error("two transactions share a key")
	}
	if d := verify(v1a); d.Event != "USER_VERIFICATION_COMPLETED" {
		t.Errorf("v1 event = %q", d.Event)
	}
}

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		body    string
		want    providers.Update
		wantErr bool
	}{
		{name: "connection_verified", event: "connection_verified",
			body: `{"payload":{"event":"connection_verified","unique_id":"u1","reference_id":"r1"}}`,
			want: providers.Update{Reference: "r1", ProviderRef: "u1", Event: "connection_verified", ProviderStatus: "connection_verified", Status: providers.StatusApproved}},
		{name: "connection_deleted", event: "connection_deleted",
			body: `{"payload":{"event":"connection_deleted","unique_id":"u1","reference_id":"r1"}}`,
			want: providers.Update{Reference: "r1", ProviderRef: "u1", Event: "connection_deleted", ProviderStatus: "connection_deleted", Status: providers.StatusWithdrawn}},
		{name: "deverification", event: "deverification",
			body: `{"transaction_id":"ewh:1","payload":{"event":"deverification","unique_id":"u1","reference_id":"r1"}}`,
			want: providers.Update{Reference: "r1", ProviderRef: "u1", Event: "deverification", ProviderStatus: "deverification", Status: providers.StatusBlocked}},
		{name: "signed body wins over the path", event: "connection_verified",
			body: `{"payload":{"event":"connection_deleted","unique_id":"u1","reference_id":"r1"}}`,
			want: providers.Update{Reference: "r1", ProviderRef: "u1", Event: "connection_deleted", ProviderStatus: "connection_deleted", Status: providers.StatusWithdrawn}},
		{name: "event only in the path", event: "connection_deleted",
			body: `{"payload":{"unique_id":"u1"}}`,
			want: providers.Update{ProviderRef: "u1", Event: "connection_deleted", ProviderStatus: "connection_deleted", Status: providers.StatusWithdrawn}},
		{name: "unknown event kept verbatim", event: "",
			body: `{"payload":{"event":"connection_paused","unique_id":"u1","reference_id":"r1"}}`,
			want: providers.Update{Reference: "r1", ProviderRef: "u1", Event: "connection_paused", ProviderStatus: "connection_paused", Status: providers.StatusNeedsReview}},
		{name: "public v1", event: "USER_VERIFICATION_DENIED",
			body: `{"transaction_id":"ewh:x","user_id":"bcu_1","reference_user_id":"r1","type":"USER_VERIFICATION_DENIED","payload":{},"created_at":"2026-02-26T20:17:13.123Z"}`,
			want: providers.Update{Reference: "r1", ProviderRef: "bcu_1", Event: "USER_VERIFICATION_DENIED", ProviderStatus: "USER_VERIFICATION_DENIED", Status: providers.StatusRejected,
				At: time.Date(2026, 2, 26, 20, 17, 13, 123000000, time.UTC)}},
		{name: "no user", event: "connection_verified", body: `{"payload":{"event":"connection_verified"}}`, wantErr: true},
		{name: "no event anywhere", event: "", body: `{"payload":{"unique_id":"u1"}}`, wantErr: true},
		{name: "bad path event", event: "connection verified<script>", body: `{"payload":{"unique_id":"u1"}}`, wantErr: true},
		{name: "long path event", event: strings.Repeat("e", maxEventLen+1), body: `{"payload":{"unique_id":"u1"}}`, wantErr: true},
		{name: "not JSON", event: "connection_verified", body: `payload=1`, wantErr: true},
		{name: "JSON array", event: "connection_verified", body: `[1]`, wantErr: true},
		{name: "payload of the wrong type", event: "connection_verified", body: `{"payload":"x"}`, wantErr: true},
		{name: "empty", event: "connection_verified", body: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook(tt.event, []byte(tt.body))
			if tt.wantErr {
				if !errors.Is(err, providers.ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.At.Equal(tt.want.At) {
				t.Errorf("At = %v, want %v", got.At, tt.want.At)
			}
			got.At, tt.want.At = time.Time{}, time.Time{}
			if got.Reference != tt.want.Reference || got.ProviderRef != tt.want.ProviderRef || got.Event != tt.want.Event ||
				got.ProviderStatus != tt.want.ProviderStatus || got.Status != tt.want.Status {
				t.Errorf("update = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzVerifyAndParse feeds arbitrary bodies, signatures and path events to
// the verifier and the parser: neither may panic, a failure is always one
// of the documented errors, and what passes is well formed.
func FuzzVerifyAndParse(f *testing.F) {
	f.Add([]byte(`{"payload":{"event":"connection_verified","unique_id":"u","reference_id":"r"}}`), "connection_verified", true, "")
	f.Add([]byte(`{"transaction_id":"ewh:1","user_id":"bcu","type":"USER_DELETED","payload":{}}`), "USER_DELETED", true, "")
	f.Add([]byte(`{"payload":null}`), "", true, "")
	f.Add([]byte(`{"payload":{"event":1}}`), "x", false, "sha256=00")
	f.Add([]byte("\x00\xff"), "../..", false, "sha256=")
	v := NewVerifier(testSecret)
	f.Fuzz(func(t *testing.T, body []byte, event string, sign bool, sig string) {
		if sign {
			sig = "sha256=" + hex.EncodeToString(Sign([]byte(testSecret), body))
		}
		d, err := v.VerifyInbound(header(sig), body, at)
		if err != nil {
			if !errors.Is(err, providers.ErrBadSignature) && !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("undocumented error %v", err)
			}
			if sign && errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("a correct signature was refused: %v", err)
			}
		} else if !sign && !strings.Contains(strings.ToLower(sig), hex.EncodeToString(Sign([]byte(testSecret), body))) {
			t.Fatalf("a wrong signature %q was accepted", sig)
		} else if !d.Verified || d.DeliveryKey == "" {
			t.Fatalf("delivery %+v", d)
		}
		u, err := ParseWebhook(event, body)
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if !u.Status.Valid() || u.ProviderStatus == "" || (u.Reference == "" && u.ProviderRef == "") {
			t.Fatalf("update %+v", u)
		}
	})
}
