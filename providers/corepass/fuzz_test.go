package corepass

import (
	"net/http"
	"os"
	"testing"
	"time"
)

// FuzzVerifyStatusCallback feeds arbitrary bodies to the inbound verifier:
// it must never panic, and anything it accepts must carry a delivery key.
func FuzzVerifyStatusCallback(f *testing.F) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"user":"x","fields":[],"status":"A","deadline":1,"signature":"AAAA"}`))
	f.Add([]byte(`{"signature":1}`))
	f.Add([]byte(`{"a":{"b":[1,2,{"c":null}]},"signature":""}`))
	f.Add([]byte(`[`))
	pub := make([]byte, 57)
	c := New(Config{PubKey: pub}, nil, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ct := range []string{"application/json", "multipart/form-data; boundary=b"} {
			d, err := c.VerifyInbound(http.Header{"Content-Type": {ct}}, body, time.Unix(1677255400, 0))
			if err == nil && d.DeliveryKey == "" {
				t.Fatal("accepted without a delivery key")
			}
		}
	})
}

// FuzzParseDataCallback feeds arbitrary content types and bodies (JSON and
// multipart) to the data-callback parser: it must never panic.
func FuzzParseDataCallback(f *testing.F) {
	f.Add("multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"user\":\"a\",\"signature\":\"b\"}\r\n--xyz--\r\n"))
	f.Add("multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nab\r\n--xyz\r\nContent-Disposition: form-data; name=\"items\"\r\n\r\n[\"SH_EMAIL\"]\r\n--xyz--\r\n"))
	f.Add("application/json", []byte(`{"user":"ab","infos":[{"fieldID":"SH_EMAIL","fieldValue":1}],"deadline":1,"signature":"x"}`))
	c := New(Config{PubKey: make([]byte, 57)}, nil, nil)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		u, err := c.ParseDataCallback(contentType, body, time.Unix(1677255400, 0))
		if err == nil && u.ProviderRef == "" {
			t.Fatal("accepted without a provider ref")
		}
	})
}
