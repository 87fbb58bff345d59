package blockpass

import (
	"crypto/hmac"
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

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// sampleBody is the documented user.created body.
const sampleBody = `{"guid":"5ffffc2dbaaaaf001236b200","status":"incomplete","clientId":"client_id","event":"user.created","recordId":"5ffffb44baaaaf001236b1d1","refId":"rdm-1610611387861","isPing":false,"env":"prod","webhookId":null}`

func TestHMACVector(t *testing.T) {
	raw, err := os.ReadFile("testdata/hmac_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Secret, Body  string
		XHubSignature string `json:"x_hub_signature"`
		AlsoAccept    string `json:"also_accept"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, header := range []string{v.XHubSignature, v.AlsoAccept, strings.ToUpper(v.XHubSignature)} {
		if err := CheckSignature([]byte(v.Secret), header, []byte(v.Body)); err != nil {
			t.Errorf("vector %q: %v", header, err)
		}
	}
	// The vector's body is not a Blockpass event: the signature passes and
	// the body is then refused as malformed, not as forged.
	h := http.Header{HeaderSignature: {v.XHubSignature}}
	_, err = NewVerifier(v.Secret).VerifyInbound(h, []byte(v.Body), time.Now())
	if !errors.Is(err, providers.ErrMalformed) {
		t.Errorf("vector body: err = %v, want ErrMalformed", err)
	}
}

func TestVerifyInbound(t *testing.T) {
	const secret = "whsec-test"
	body := []byte(sampleBody)
	good := sign(secret, body)
	flipped := []byte(good)
	flipped[0] ^= 1
	if flipped[0] == good[0] {
		t.Fatal("flip failed")
	}

	tests := []struct {
		name    string
		secret  string
		header  http.Header
		body    []byte
		wantErr error
		wantKey string
	}{
		{name: "bare hex", secret: secret, header: http.Header{HeaderSignature: {good}, HeaderDelivery: {"d-1"}}, body: body, wantKey: "d-1"},
		{name: "sha256= prefix", secret: secret, header: http.Header{HeaderSignature: {"sha256=" + good}}, body: body, wantKey: "5ffffc2dbaaaaf001236b200"},
		{name: "wrong secret", secret: "other", header: http.Header{HeaderSignature: {good}}, body: body, wantErr: providers.ErrBadSignature},
		{name: "flipped signature", secret: secret, header: http.Header{HeaderSignature: {string(flipped)}}, body: body, wantErr: providers.ErrBadSignature},
		{name: "body changed", secret: secret, header: http.Header{HeaderSignature: {good}}, body: []byte(strings.Replace(sampleBody, "incomplete", "approved", 1)), wantErr: providers.ErrBadSignature},
		{name: "missing header", secret: secret, header: http.Header{}, body: body, wantErr: providers.ErrBadSignature},
		{name: "not hex", secret: secret, header: http.Header{HeaderSignature: {"sha256=zz"}}, body: body, wantErr: providers.ErrBadSignature},
		{name: "no secret configured", secret: "", header: http.Header{HeaderSignature: {sign("", body)}}, body: body, wantErr: providers.ErrBadSignature},
		{name: "signed garbage", secret: secret, header: http.Header{HeaderSignature: {sign(secret, []byte("[1,2]"))}}, body: []byte("[1,2]"), wantErr: providers.ErrMalformed},
		{name: "signed but no event", secret: secret, header: http.Header{HeaderSignature: {sign(secret, []byte(`{"recordId":"x"}`))}}, body: []byte(`{"recordId":"x"}`), wantErr: providers.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewVerifier(tt.secret).VerifyInbound(tt.header, tt.body, time.Now())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Error("error names the secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !d.Verified || d.Provider != providers.Blockpass || d.Event != EventUserCreated || d.DeliveryKey != tt.wantKey || d.Ping {
				t.Errorf("delivery = %+v", d)
			}
		})
	}
}

func TestVerifyInboundKeysAndPings(t *testing.T) {
	const secret = "s"
	v := NewVerifier(secret)
	t.Run("ping", func(t *testing.T) {
		body := []byte(`{"guid":"g1","event":"user.created","isPing":true}`)
		d, err := v.VerifyInbound(http.Header{HeaderSignature: {sign(secret, body)}}, body, time.Now())
		if err != nil || !d.Ping {
			t.Fatalf("ping: %+v %v", d, err)
		}
	})
	t.Run("event from header, key from body digest", func(t *testing.T) {
		body := []byte(`{"recordId":"r1"}`)
		h := http.Header{HeaderSignature: {sign(secret, body)}, HeaderEvents: {EventUserBlocked}}
		d1, err := v.VerifyInbound(h, body, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		d2, _ := v.VerifyInbound(h, body, time.Now())
		if d1.Event != EventUserBlocked || !strings.HasPrefix(d1.DeliveryKey, "sha256:") || d1.DeliveryKey != d2.DeliveryKey {
			t.Errorf("deliveries %+v / %+v", d1, d2)
		}
	})
}

func TestEventUpdate(t *testing.T) {
	tests := []struct {
		body       string
		wantStatus providers.Status
		wantVerb   string
	}{
		{`{"event":"user.created","status":"incomplete","recordId":"r","refId":"f"}`, providers.StatusInvited, "incomplete"},
		{`{"event":"user.readyToReview","status":"waiting","recordId":"r"}`, providers.StatusInProgress, "waiting"},
		{`{"event":"user.inReview","recordId":"r"}`, providers.StatusNeedsReview, "inreview"},
		{`{"event":"review.approved","status":"approved","recordId":"r"}`, providers.StatusApproved, "approved"},
		{`{"event":"review.rejected","recordId":"r"}`, providers.StatusRejected, "rejected"},
		{`{"event":"user.blocked","status":"blocked","recordId":"r"}`, providers.StatusBlocked, "blocked"},
		{`{"event":"user.deleted","status":"approved","recordId":"r"}`, providers.StatusWithdrawn, "approved"},
		{`{"event":"user.deleted","recordId":"r"}`, providers.StatusWithdrawn, "user.deleted"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		e, err := ParseWebhook([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Name] = true
		u := e.Update()
		if u.Status != tt.wantStatus || u.ProviderStatus != tt.wantVerb || u.ProviderRef != "r" || u.Event != e.Name {
			t.Errorf("%s: %+v", tt.body, u)
		}
		if len(u.Attributes) != 0 {
			t.Error("a webhook must not carry attributes")
		}
	}
	for _, name := range Events() {
		if !seen[name] || !KnownEvent(name) {
			t.Errorf("event %s not covered", name)
		}
	}
	if len(Events()) != 7 || KnownEvent("user.updated") {
		t.Error("the documented event list has seven entries")
	}
}

func FuzzVerifyInbound(f *testing.F) {
	f.Add([]byte(sampleBody), "", false)
	f.Add([]byte(`{"isPing":true}`), "d", true)
	f.Add([]byte(`{"event":1}`), "", false)
	f.Add([]byte(`null`), "x", true)
	f.Add([]byte(`{"waitingDate":"2021-13-01","inreviewDate":99999999999999,"submitCount":"x"}`), "", true)
	const secret = "fuzz"
	v := NewVerifier(secret)
	f.Fuzz(func(t *testing.T, body []byte, delivery string, signed bool) {
		h := http.Header{HeaderDelivery: {delivery}}
		if signed {
			h.Set(HeaderSignature, "sha256="+sign(secret, body))
		} else {
			h.Set(HeaderSignature, sign("wrong", body))
		}
		d, err := v.VerifyInbound(h, body, time.Time{})
		if !signed {
			if !errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("unsigned body accepted: %+v %v", d, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("signed body: err = %v, want nil or ErrMalformed", err)
			}
			return
		}
		if d.DeliveryKey == "" || !d.Verified {
			t.Fatalf("accepted without a delivery key: %+v", d)
		}
		if e, err := ParseWebhook(body); err == nil {
			_ = e.Update()
		}
	})
}
