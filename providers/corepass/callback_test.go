package corepass

import (
	"bytes"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/kycdesk/kycdesk/providers"
)

// signWith signs msg as the connector does: base64(Ed448(SHA3-256(msg)) ‖ pub).
func signWith(priv ed448.PrivateKey, msg []byte) string {
	d := sha3.Sum256(msg)
	sig := ed448.Sign(priv, d[:], "")
	return base64.StdEncoding.EncodeToString(append(sig, testPub(priv)...))
}

// signedBody appends the signature of the compact JSON object msg as its
// last member.
func signedBody(priv ed448.PrivateKey, msg string) []byte {
	return []byte(strings.TrimSuffix(msg, "}") + `,"signature":"` + signWith(priv, []byte(msg)) + `"}`)
}

func vectorClient(t *testing.T) *Client {
	t.Helper()
	return New(Config{URL: "http://connector.invalid", PubKey: loadVectors(t).pubKey(t)}, nil, nil)
}

func TestStatusCallbackVectors(t *testing.T) {
	v := loadVectors(t)
	c := vectorClient(t)
	for i, s := range v.StatusCallbacks {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if s.Valid {
				msg, _, err := splitSignature([]byte(s.Body))
				if err != nil {
					t.Fatal(err)
				}
				if string(msg) != s.SignedMessage {
					t.Errorf("signed message\n got %s\nwant %s", msg, s.SignedMessage)
				}
				if d := sha3.Sum256(msg); hex.EncodeToString(d[:]) != s.SHA3 {
					t.Errorf("sha3 = %x, want %s", d, s.SHA3)
				}
			}
			d, u, err := c.ParseInbound(http.Header{"Content-Type": {"application/json"}}, []byte(s.Body), beforeSamples)
			if !s.Valid {
				if !errors.Is(err, providers.ErrBadSignature) {
					t.Fatalf("%s: err = %v, want ErrBadSignature", s.Why, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Provider != providers.CorePass || d.Event != EventStatus || !d.Verified || !strings.HasPrefix(d.DeliveryKey, "status:") {
				t.Errorf("delivery = %+v", d)
			}
			if u.ProviderRef != "ab148af5f9cdad10beddb05fbec4a3bef02577130e56:SH_EMAIL" {
				t.Errorf("ProviderRef = %q", u.ProviderRef)
			}
			if u.Status != MapStatus(u.ProviderStatus) || u.Event != EventStatus || !u.At.Equal(beforeSamples) {
				t.Errorf("update = %+v", u)
			}
		})
	}
	// The two samples in detail.
	u, err := c.ParseStatusCallback([]byte(v.StatusCallbacks[2].Body), beforeSamples)
	if err != nil {
		t.Fatal(err)
	}
	if u.ProviderStatus != "INITIATE_SUBMITTED" || u.TxHash != "0xd90eb185877e47238380f613e3ac77f4cdb6a293ae21019fea7ac1b9ce12a94e" ||
		len(u.Certificates) != 1 || u.Certificates[0].Value != u.TxHash {
		t.Errorf("update = %+v", u)
	}
}

func TestStatusCallbackRefusals(t *testing.T) {
	v := loadVectors(t)
	body := v.StatusCallbacks[0].Body // ACCEPTED, deadline 1677255437
	var m struct {
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(m.Signature)
	withSig := func(b []byte) string {
		return strings.Replace(body, m.Signature, base64.StdEncoding.EncodeToString(b), 1)
	}
	flipped := bytes.Clone(sig)
	flipped[10] ^= 0x01
	other := testKey()
	otherSigner := withSig(append(bytes.Clone(sig[:114]), testPub(other)...))
	selfSigned := string(signedBody(other, v.StatusCallbacks[0].SignedMessage))

	tests := []struct {
		name string
		body string
		pub  []byte
		now  time.Time
		want error
	}{
		{"flipped signature bit", withSig(flipped), nil, beforeSamples, providers.ErrBadSignature},
		{"flipped body bit", strings.Replace(body, `"fields":["2114`, `"fields":["3114`, 1), nil, beforeSamples, providers.ErrBadSignature},
		{"embedded signer key swapped", otherSigner, nil, beforeSamples, providers.ErrBadSignature},
		{"validly signed by another key", selfSigned, nil, beforeSamples, providers.ErrBadSignature},
		{"pinned key differs", body, testPub(other), beforeSamples, providers.ErrBadSignature},
		{"no pinned key", body, []byte{}, beforeSamples, providers.ErrBadSignature},
		{"truncated signature", withSig(sig[:170]), nil, beforeSamples, providers.ErrBadSignature},
		{"signature without key", withSig(sig[:114]), nil, beforeSamples, providers.ErrBadSignature},
		{"signature not base64", strings.Replace(body, m.Signature, "!!!", 1), nil, beforeSamples, providers.ErrBadSignature},
		{"no signature", v.StatusCallbacks[0].SignedMessage, nil, beforeSamples, providers.ErrBadSignature},
		{"past deadline", body, nil, time.Unix(1677255438, 0), providers.ErrExpired},
		{"not JSON", "user=ab14", nil, beforeSamples, providers.ErrMalformed},
		{"JSON array", `["status"]`, nil, beforeSamples, providers.ErrMalformed},
		{"repeated key", strings.Replace(body, `{"user"`, `{"status":"FINISH_SUCCESS","user"`, 1), nil, beforeSamples, providers.ErrMalformed},
		{"trailing data", body + "{}", nil, beforeSamples, providers.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := tc.pub
			if pub == nil {
				pub = v.pubKey(t)
			}
			c := New(Config{PubKey: pub}, nil, nil)
			_, err := c.ParseStatusCallback([]byte(tc.body), tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "corepass: status callback: ") {
				t.Errorf("error lacks context: %v", err)
			}
		})
	}
	// The deadline is inclusive.
	if _, err := vectorClient(t).ParseStatusCallback([]byte(body), time.Unix(1677255437, 0)); err != nil {
		t.Errorf("at the deadline: %v", err)
	}
}

func TestStatusCallbackWhitespaceAndKeys(t *testing.T) {
	v := loadVectors(t)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(v.StatusCallbacks[2].Body), "", "  "); err != nil {
		t.Fatal(err)
	}
	c := vectorClient(t)
	d1, err := c.VerifyInbound(http.Header{}, pretty.Bytes(), beforeSamples)
	if err != nil {
		t.Fatalf("pretty-printed sample: %v", err)
	}
	d2, err := c.VerifyInbound(http.Header{}, []byte(v.StatusCallbacks[2].Body), beforeSamples)
	if err != nil || d1.DeliveryKey != d2.DeliveryKey {
		t.Errorf("delivery keys differ for the same callback: %v", err)
	}
	d0, _ := c.VerifyInbound(http.Header{}, []byte(v.StatusCallbacks[0].Body), beforeSamples)
	if d0.DeliveryKey == d2.DeliveryKey {
		t.Error("ACCEPTED and INITIATE_SUBMITTED share a delivery key")
	}
}

func TestStatusCallbackUnknownField(t *testing.T) {
	priv := testKey()
	c := New(Config{PubKey: testPub(priv)}, nil, nil)
	msg := `{"user":"ab148af5f9cdad10beddb05fbec4a3bef02577130e56","fields":["` + FieldHash("SH_Passport_DOB") + `","` + FieldHash("SH_Other") +
		`"],"status":"VALIDITY_FAILED","expiration":1700000900,"deadline":1700000180,"newField":{"a":[1,2]}}`
	u, err := c.ParseStatusCallback(signedBody(priv, msg), time.Unix(1700000000, 0))
	if err != nil {
		t.Fatalf("a member added by CorePass must stay covered and verify: %v", err)
	}
	want := "ab148af5f9cdad10beddb05fbec4a3bef02577130e56:SH_Passport_DOB," + FieldHash("SH_Other")
	if u.ProviderRef != want || u.Status != providers.StatusFailed || !strings.Contains(u.Reason, "VALIDITY_FAILED") {
		t.Errorf("update = %+v", u)
	}
	// Re-signed with a later deadline (a retry): same delivery key.
	retry := strings.Replace(msg, `"deadline":1700000180`, `"deadline":1700000240`, 1)
	d1, err1 := c.VerifyInbound(http.Header{}, signedBody(priv, msg), time.Unix(1700000000, 0))
	d2, err2 := c.VerifyInbound(http.Header{}, signedBody(priv, retry), time.Unix(1700000000, 0))
	if err1 != nil || err2 != nil || d1.DeliveryKey != d2.DeliveryKey {
		t.Errorf("retry key: %v %v %q %q", err1, err2, d1.DeliveryKey, d2.DeliveryKey)
	}
}

const dataUser = "ab432e666932c53128d9f73712b058a7a8f7df52f5cb"

func dataMessage(t *testing.T, deadline int64, withImage bool) string {
	t.Helper()
	infos := `[{"fieldID":"SH_DriverLicense_DOB","fieldValue":"1986-09-06","pepper":"3734ab"},` +
		`{"fieldID":"SH_DriverLicense_AML_Check","fieldValue":"passed","pepper":"3735"},` +
		`{"fieldID":"` + FieldHash("SH_EMAIL") + `","fieldValue":"a\u0026b@example.com","pepper":"3736"}`
	if withImage {
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
		infos += `,{"fieldID":"SH_DriverLicense_FaceImage","fieldValue":"` + base64.StdEncoding.EncodeToString(png) + `","pepper":"3737"}`
	}
	infos += "]"
	return fmt.Sprintf(`{"user":"%s","infos":%s,"deadline":%d,"expiration":1700000900}`, dataUser, infos, deadline)
}

func multipartBody(t *testing.T, fields [][2]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, _ := w.CreateFormFile("SH_DriverLicense_DocumentImage", "doc.png")
	fw.Write([]byte("unsigned file part"))
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func TestDataCallback(t *testing.T) {
	priv := testKey()
	c := New(Config{PubKey: testPub(priv)}, nil, nil)
	now := time.Unix(1700000000, 0)
	msg := dataMessage(t, 1700000180, true)
	body := signedBody(priv, msg)
	sig := signWith(priv, []byte(msg))

	var cb dataCallback
	if err := json.Unmarshal([]byte(msg), &cb); err != nil {
		t.Fatal(err)
	}
	infosJSON, _ := json.Marshal(cb.Infos)
	ctSingle, single := multipartBody(t, [][2]string{{"data", string(body)}})
	ctFields, perField := multipartBody(t, [][2]string{{"user", dataUser}, {"infos", string(infosJSON)},
		{"deadline", "1700000180"}, {"expiration", "1700000900"}, {"signature", sig}})

	tests := []struct {
		name, contentType string
		body              []byte
	}{
		{"json", "application/json", body},
		{"multipart with the JSON in one field", ctSingle, single},
		{"multipart with one field per member", ctFields, perField},
	}
	var keys []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, u, err := c.ParseInbound(http.Header{"Content-Type": {tc.contentType}}, tc.body, now)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, d.DeliveryKey)
			if d.Event != EventData || !d.Verified {
				t.Errorf("delivery = %+v", d)
			}
			if u.Status != providers.StatusNeedsReview || u.ProviderStatus != StatusDataReceived {
				t.Errorf("status = %s / %s", u.Status, u.ProviderStatus)
			}
			wantRef := dataUser + ":SH_DriverLicense_AML_Check,SH_DriverLicense_DOB,SH_DriverLicense_FaceImage,SH_EMAIL"
			if u.ProviderRef != wantRef {
				t.Errorf("ref = %s", u.ProviderRef)
			}
			want := []providers.Attribute{
				{Meaning: MeaningDateOfBirth, Name: "SH_DriverLicense_DOB", Value: "1986-09-06", Pepper: "3734ab"},
				{Meaning: MeaningAMLCheck, Name: "SH_DriverLicense_AML_Check", Value: "passed", Pepper: "3735"},
				{Meaning: MeaningEmail, Name: "SH_EMAIL", Value: "a&b@example.com", Pepper: "3736"},
				{Meaning: MeaningFaceImage, Name: "SH_DriverLicense_FaceImage", Value: "", Pepper: "3737"},
			}
			if fmt.Sprint(u.Attributes) != fmt.Sprint(want) {
				t.Errorf("attributes\n got %+v\nwant %+v", u.Attributes, want)
			}
			if len(u.Documents) != 1 || u.Documents[0].Name != "SH_DriverLicense_FaceImage" || u.Documents[0].ContentType != "image/png" {
				t.Errorf("documents = %+v", u.Documents)
			}
			if len(u.Certificates) != 1 || u.Certificates[0].Value != "passed" {
				t.Errorf("certificates = %+v", u.Certificates)
			}
		})
	}
	if len(keys) == 3 && (keys[0] != keys[1] || keys[1] != keys[2]) {
		t.Errorf("one delivery, three shapes, keys differ: %v", keys)
	}

	// A retry re-signed with a new deadline deduplicates.
	retry := signedBody(priv, dataMessage(t, 1700000240, true))
	d, err := c.VerifyInbound(http.Header{"Content-Type": {"application/json"}}, retry, now)
	if err != nil || len(keys) == 0 || d.DeliveryKey != keys[0] {
		t.Errorf("retry: %v, key %q vs %v", err, d.DeliveryKey, keys)
	}
}

func TestDataCallbackSeedSnippetVariant(t *testing.T) {
	priv := testKey()
	c := New(Config{PubKey: testPub(priv)}, nil, nil)
	// What the seed's Go snippet hashes: untagged struct, json.NewEncoder, "\n".
	seedMsg := `{"User":"` + dataUser + `","Infos":[{"fieldID":"SH_DriverLicense_DOB","fieldValue":"1986-09-06","pepper":"3734"}],"Deadline":1700000180,"Expiration":1700000900}` + "\n"
	body := `{"user":"` + dataUser + `","infos":[{"fieldID":"SH_DriverLicense_DOB","fieldValue":"1986-09-06","pepper":"3734"}],"deadline":1700000180,"expiration":1700000900,"signature":"` + signWith(priv, []byte(seedMsg)) + `"}`
	u, err := c.ParseDataCallback("application/json", []byte(body), time.Unix(1700000000, 0))
	if err != nil || len(u.Attributes) != 1 {
		t.Fatalf("seed-snippet signature: %v", err)
	}
	// The fallback never covers an extra member: tampering with one fails.
	extra := strings.Replace(body, `"deadline"`, `"error":"","deadline"`, 1)
	if _, err := c.ParseDataCallback("application/json", []byte(extra), time.Unix(1700000000, 0)); !errors.Is(err, providers.ErrBadSignature) {
		t.Errorf("extra member: err = %v", err)
	}
}

func TestDataCallbackError(t *testing.T) {
	priv := testKey()
	c := New(Config{PubKey: testPub(priv)}, nil, nil)
	now := time.Unix(1700000000, 0)
	for _, e := range []string{"INITIATED_FAILED", "VALIDITY_FAILED", "CONFIRM_FAILED", "CONFIRMED_FAILED"} {
		t.Run(e, func(t *testing.T) {
			msg := `{"user":"ab06b37c90098790e90bbcd56a701e50ec8b51b6bd5e","items":["SH_EMAIL"],"error":"` + e + `","deadline":1700000180,"expiration":1700000900}`
			ct, form := multipartBody(t, [][2]string{{"data", string(signedBody(priv, msg))}})
			u, err := c.ParseDataCallback(ct, form, now)
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != providers.StatusFailed || u.ProviderStatus != e || !strings.Contains(u.Reason, e) ||
				u.ProviderRef != "ab06b37c90098790e90bbcd56a701e50ec8b51b6bd5e:SH_EMAIL" || len(u.Attributes) != 0 {
				t.Errorf("update = %+v", u)
			}
		})
	}
}

func TestDataCallbackRefusals(t *testing.T) {
	priv := testKey()
	now := time.Unix(1700000000, 0)
	msg := dataMessage(t, 1700000180, false)
	body := signedBody(priv, msg)
	other := ed448.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed448.SeedSize))
	tests := []struct {
		name, ct string
		body     []byte
		pub      []byte
		now      time.Time
		want     error
	}{
		{"value changed", "application/json", bytes.Replace(body, []byte("1986-09-06"), []byte("1986-09-07"), 1), testPub(priv), now, providers.ErrBadSignature},
		{"other signer", "application/json", signedBody(other, msg), testPub(priv), now, providers.ErrBadSignature},
		{"past deadline", "application/json", body, testPub(priv), time.Unix(1700000181, 0), providers.ErrExpired},
		{"no boundary", "multipart/form-data", body, testPub(priv), now, providers.ErrMalformed},
		{"broken multipart", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nbad"), testPub(priv), now, providers.ErrMalformed},
		{"multipart without user", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--xyz--\r\n"), testPub(priv), now, providers.ErrMalformed},
		{"neither infos nor error", "application/json", signedBody(priv, `{"user":"`+dataUser+`","deadline":1700000180}`), testPub(priv), now, providers.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{PubKey: tc.pub}, nil, nil)
			_, err := c.ParseDataCallback(tc.ct, tc.body, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
