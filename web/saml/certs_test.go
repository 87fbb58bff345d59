package saml_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

func TestLoadKeyPair(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := samltest.KeyPair(t, "sp")
	certFile, keyFile := samltest.WriteKeyPair(t, dir, cert, key)
	if c, k, err := saml.LoadKeyPair(certFile, keyFile); err != nil || !c.Equal(cert) || !k.Equal(key) {
		t.Fatalf("PKCS#1 pair: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if _, _, err := saml.ParseKeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})); err != nil {
		t.Errorf("PKCS#8 key: %v", err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, keyPEM := range map[string][]byte{
		"key of another certificate": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}),
		"1024-bit key":               pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}),
		"not PEM":                    []byte("hello"),
	} {
		if _, _, err := saml.ParseKeyPair(certPEM, keyPEM); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, _, err := saml.LoadKeyPair(filepath.Join(dir, "missing.pem"), keyFile); err == nil {
		t.Error("missing certificate file accepted")
	}
}

func TestLoadIDPMetadata(t *testing.T) {
	t.Parallel()
	idp := samltest.StartIdP(t, samltest.Options{})
	ctx := context.Background()
	md, err := saml.LoadIDPMetadata(ctx, &http.Client{Timeout: 5 * time.Second}, idp.MetadataURL)
	if err != nil || md.EntityID != idp.MetadataURL {
		t.Fatalf("from URL: %v", err)
	}
	resp, err := http.Get(idp.MetadataURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	entity := string(raw)

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if md, err := saml.LoadIDPMetadata(ctx, nil, write("idp.xml", entity)); err != nil || md.EntityID != idp.MetadataURL {
		t.Errorf("from file: %v", err)
	}
	aggregate := `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + stripXMLHeader(entity) + `</EntitiesDescriptor>`
	if md, err := saml.LoadIDPMetadata(ctx, nil, write("all.xml", aggregate)); err != nil || md.EntityID != idp.MetadataURL {
		t.Errorf("from an EntitiesDescriptor: %v", err)
	}

	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	tests := map[string]string{
		"plain http to a remote host": "http://adfs.example.com/metadata.xml",
		"404":                         notFound.URL + "/metadata",
		"missing file":                filepath.Join(dir, "nope.xml"),
		"not metadata":                write("junk.xml", "<html/>"),
		"no signing certificate":      write("nocert.xml", strings.ReplaceAll(entity, "X509Certificate", "X509Nothing")),
		"too large":                   write("big.xml", strings.Repeat(" ", 1<<20+1)),
		"empty source":                "",
	}
	for name, source := range tests {
		if _, err := saml.LoadIDPMetadata(ctx, nil, source); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func stripXMLHeader(s string) string {
	if strings.HasPrefix(s, "<?xml") {
		if i := strings.Index(s, "?>"); i >= 0 {
			return s[i+2:]
		}
	}
	return s
}

func TestSelfSignedKeyPair(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cert, key, err := saml.SelfSignedKeyPair("kycdesk sandbox SP", now)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 || cert.Subject.CommonName != "kycdesk sandbox SP" || !cert.NotBefore.Before(now) || !cert.NotAfter.After(now.AddDate(0, 11, 0)) {
		t.Errorf("cert %v (%v..%v), key %d bits", cert.Subject, cert.NotBefore, cert.NotAfter, key.N.BitLen())
	}
	if !cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Error("certificate is not for the key")
	}
}
