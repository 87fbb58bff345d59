package blockpass

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/providers"
)

// sealExport makes profile.bin and meta.json the way the Blockpass
// dashboard does (per blockpass-crypto-tools): a random AES-256 key, its
// hex wrapped with RSA-OAEP/SHA-1, AES-256-CBC over the zip.
func sealExport(t *testing.T, pub *rsa.PublicKey, zipBytes []byte) (bin, meta []byte) {
	t.Helper()
	key, iv := make([]byte, 32), make([]byte, 16)
	rand.Read(key)
	rand.Read(iv)
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, []byte(hex.EncodeToString(key)), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(zipBytes)
	meta, _ = json.Marshal(ExportMeta{WrappedKey: base64.StdEncoding.EncodeToString(wrapped), IV: hex.EncodeToString(iv), ZipContentSHA256: hex.EncodeToString(sum[:])})
	return encryptCBC(key, iv, zipBytes), meta
}

func makeZip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportExport(t *testing.T) {
	key := testKey(t)
	record, err := os.ReadFile("testdata/candidate_full.json")
	if err != nil {
		t.Fatal(err)
	}
	jpeg := Extract(loadCandidate(t, "candidate_full.json")).Documents
	var selfie []byte
	for _, d := range jpeg {
		if d.Name == "selfie.jpg" {
			selfie = d.Data
		}
	}
	zipBytes := makeZip(t, map[string][]byte{
		"record.json":          record,
		"extra/profile.json":   []byte(`{"nationality":"PRT","tax_id":"123456789","score":97.5,"pep":false}`),
		"extra/selfie.jpg":     selfie,
		"extra/report.json":    []byte(`{"items":[1,2]}`),
		"extra/.DS_Store":      []byte("junk"),
		"__MACOSX/record.json": []byte("junk"),
	})
	bin, meta := sealExport(t, &key.PublicKey, zipBytes)

	got, err := DecryptExport(key, bin, meta)
	if err != nil || !bytes.Equal(got, zipBytes) {
		t.Fatalf("DecryptExport: %v (equal=%v)", err, bytes.Equal(got, zipBytes))
	}

	u, err := ImportExport(key, bin, meta)
	if err != nil {
		t.Fatal(err)
	}
	if u.Reference != "kd-7f3a9c" || u.Status != providers.StatusApproved {
		t.Errorf("record metadata: %q %q", u.Reference, u.Status)
	}
	a := attrs(u)
	for k, v := range map[string]string{
		"full_name|given_name+family_name": "Jane Doe",
		"nationality|nationality":          "PRT",
		"other|tax_id":                     "123456789",
		"other|score":                      "97.5",
		"other|pep":                        "false",
	} {
		if a[k] != v {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	names := map[string]string{}
	for _, d := range u.Documents {
		names[d.Name] = d.ContentType
	}
	if names["extra/selfie.jpg"] != "image/jpeg" || names["extra/report.json"] != "application/json" || names["selfie.jpg"] != "image/jpeg" {
		t.Errorf("documents = %v", names)
	}
	for n := range names {
		if strings.Contains(n, "DS_Store") || strings.HasPrefix(n, "__MACOSX") {
			t.Errorf("junk file imported: %s", n)
		}
	}
}

func TestImportExportErrors(t *testing.T) {
	key := testKey(t)
	other := testKey(t)
	zipBytes := makeZip(t, map[string][]byte{"a.txt": []byte("hello")})
	bin, meta := sealExport(t, &key.PublicKey, zipBytes)

	// Valid ciphertext whose last block decrypts to padding 0x00.
	var m ExportMeta
	json.Unmarshal(meta, &m)
	badPad := func() ([]byte, []byte) {
		keyHex, _ := rsa.DecryptOAEP(sha1.New(), nil, key, mustB64(t, m.WrappedKey), nil)
		k, _ := hex.DecodeString(string(keyHex))
		iv, _ := hex.DecodeString(m.IV)
		ct := encryptCBC(k, iv, append(bytes.Repeat([]byte{'x'}, 15), 0))
		return ct[:16], meta
	}
	wrongHash := func() ([]byte, []byte) {
		m2 := m
		m2.ZipContentSHA256 = strings.Repeat("0", 64)
		out, _ := json.Marshal(m2)
		return bin, out
	}
	notZip := func() ([]byte, []byte) {
		b, mt := sealExport(t, &key.PublicKey, []byte("plain text, not a zip"))
		return b, mt
	}

	tests := []struct {
		name    string
		priv    *rsa.PrivateKey
		make    func() ([]byte, []byte)
		wantErr error
		wantMsg string
	}{
		{name: "wrong key", priv: other, make: func() ([]byte, []byte) { return bin, meta }, wantErr: ErrExportKey},
		{name: "bad padding", priv: key, make: badPad, wantErr: ErrExportPadding},
		{name: "hash mismatch", priv: key, make: wrongHash, wantErr: ErrExportHash},
		{name: "truncated ciphertext", priv: key, make: func() ([]byte, []byte) { return bin[:len(bin)-3], meta }, wantMsg: "whole number of AES blocks"},
		{name: "meta not JSON", priv: key, make: func() ([]byte, []byte) { return bin, []byte("nope") }, wantMsg: "meta.json"},
		{name: "meta incomplete", priv: key, make: func() ([]byte, []byte) { return bin, []byte(`{"iv":"00"}`) }, wantMsg: "lacks"},
		{name: "no key", priv: nil, make: func() ([]byte, []byte) { return bin, meta }, wantMsg: "no private key"},
		{name: "not a zip", priv: key, make: notZip, wantMsg: "not a zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, mt := tt.make()
			_, err := ImportExport(tt.priv, b, mt)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want it to say %q", err, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "blockpass: export") {
				t.Errorf("err = %v, want the provider and call named", err)
			}
		})
	}
}

func TestImportExportLimits(t *testing.T) {
	key := testKey(t)
	files := map[string][]byte{}
	for i := 0; i <= MaxExportFiles; i++ {
		files[strings.Repeat("f", 1+i%5)+hex.EncodeToString([]byte{byte(i >> 8), byte(i)})] = []byte("x")
	}
	bin, meta := sealExport(t, &key.PublicKey, makeZip(t, files))
	if _, err := ImportExport(key, bin, meta); err == nil || !strings.Contains(err.Error(), "files") {
		t.Errorf("too many files: err = %v", err)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
