package selfkey

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzRecover(f *testing.F) {
	v := loadVector(f)
	f.Add(v.Nonce, v.Signature)
	f.Add("", "0x"+strings.Repeat("00", 65))
	f.Add("n", strings.TrimPrefix(v.Signature, "0x")[:128]+"00")
	f.Fuzz(func(t *testing.T, nonce, sig string) {
		addr, pub, err := Recover(nonce, sig)
		if err != nil {
			return
		}
		if len(addr) != 42 || len(pub) != 65 || AddressOf(pub) != addr {
			t.Fatalf("inconsistent recovery: %s %x", addr, pub)
		}
		if nonce != v.Nonce && sig == v.Signature && addr == v.Address {
			t.Fatalf("the vector's signature recovered its signer over another nonce")
		}
	})
}

func FuzzParseSignatureBody(f *testing.F) {
	f.Add([]byte(`{"signature":"0xab"}`))
	f.Add([]byte(`{"signature":{"value":"0xab","keyId":"did:eth:0x1#keys-1"}}`))
	f.Add([]byte(`{"signature":[1]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sig, err := ParseSignatureBody(body)
		if err == nil && strings.TrimSpace(sig.Value) == "" {
			t.Fatal("empty signature accepted")
		}
	})
}

func FuzzParseUserMultipart(f *testing.F) {
	jpg := makeJPEG(f, 4, 4)
	ct, body := buildForm(f,
		formField{name: "attributes", contentType: "application/json", data: []byte(finalAttributes)},
		formField{name: "$document-1", contentType: "image/jpeg", data: jpg},
	)
	_, boundary, _ := strings.Cut(ct, "boundary=")
	f.Add(boundary, body)
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"attributes\"\r\n\r\n\"[]\"\r\n--b--\r\n"))
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"$document-1\"; filename=\"x\"\r\n\r\n\xff\xd8\xff\r\n--b--\r\n"))
	l := NewLimits(64<<10, 256<<10)
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		req, err := ParseUserMultipart("multipart/form-data; boundary=\""+boundary+"\"", bytes.NewReader(body), l)
		if err != nil {
			return
		}
		for name, up := range req.Uploads {
			if int64(len(up.Data)) > l.MaxFileBytes {
				t.Fatalf("upload %q over the limit", name)
			}
			switch up.ContentType {
			case "image/jpeg", "image/png", "application/pdf":
			default:
				t.Fatalf("upload %q has type %q", name, up.ContentType)
			}
		}
		_, _ = req.Extract(l)
	})
}
