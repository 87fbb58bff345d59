package saml

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	crewsaml "github.com/crewjam/saml"
)

// maxMetadataBytes bounds IdP metadata read from a file or URL.
const maxMetadataBytes = 1 << 20

// metadataTimeout bounds fetching IdP metadata when the caller passes no client.
const metadataTimeout = 10 * time.Second

// minRSABits is the smallest SP key we accept.
const minRSABits = 2048

// Certs is the key material New needs: our signing key pair and the IdP's metadata (which carries
// the IdP certificates we trust).
type Certs struct {
	SPCert      *x509.Certificate
	SPKey       *rsa.PrivateKey
	IDPMetadata *crewsaml.EntityDescriptor
}

// LoadCerts reads the SP key pair from cfg.SPCertFile and cfg.SPKeyFile and the IdP metadata from
// cfg.IDPMetadata. client fetches a metadata URL; nil means a client with a 10 s timeout.
func LoadCerts(ctx context.Context, cfg Config, client *http.Client) (Certs, error) {
	if cfg.SPCertFile == "" || cfg.SPKeyFile == "" {
		return Certs{}, errors.New("saml: load certs: KYCDESK_SAML_SP_CERT and KYCDESK_SAML_SP_KEY are required")
	}
	cert, key, err := LoadKeyPair(cfg.SPCertFile, cfg.SPKeyFile)
	if err != nil {
		return Certs{}, err
	}
	md, err := LoadIDPMetadata(ctx, client, cfg.IDPMetadata)
	if err != nil {
		return Certs{}, err
	}
	return Certs{SPCert: cert, SPKey: key, IDPMetadata: md}, nil
}

// LoadKeyPair reads a PEM certificate and a PEM RSA private key (PKCS#1 or PKCS#8, at least 2048
// bits) that belong together.
func LoadKeyPair(certFile, keyFile string) (*x509.Certificate, *rsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: read SP certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: read SP key: %w", err)
	}
	return ParseKeyPair(certPEM, keyPEM)
}

// ParseKeyPair parses what LoadKeyPair reads.
func ParseKeyPair(certPEM, keyPEM []byte) (*x509.Certificate, *rsa.PrivateKey, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, errors.New("saml: parse SP certificate: no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: parse SP certificate: %w", err)
	}
	block, _ = pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, errors.New("saml: parse SP key: no PEM block")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		var k any
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		if err == nil {
			var ok bool
			if key, ok = k.(*rsa.PrivateKey); !ok {
				return nil, nil, fmt.Errorf("saml: parse SP key: want an RSA key, got %T", k)
			}
		}
	default:
		return nil, nil, fmt.Errorf("saml: parse SP key: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("saml: parse SP key: %w", err)
	}
	if key.N.BitLen() < minRSABits {
		return nil, nil, fmt.Errorf("saml: parse SP key: RSA key has %d bits, want at least %d", key.N.BitLen(), minRSABits)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, errors.New("saml: parse SP key pair: the key does not belong to the certificate")
	}
	return cert, key, nil
}

// LoadIDPMetadata reads IdP metadata from source: an https URL (plain http only for a loopback
// host, since whoever can change the metadata can sign users in) or a file path.
func LoadIDPMetadata(ctx context.Context, client *http.Client, source string) (*crewsaml.EntityDescriptor, error) {
	if source == "" {
		return nil, errors.New("saml: load IdP metadata: KYCDESK_SAML_IDP_METADATA is empty")
	}
	var data []byte
	if strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "http://") {
		var err error
		if data, err = fetchMetadata(ctx, client, source); err != nil {
			return nil, err
		}
	} else {
		f, err := os.Open(source)
		if err != nil {
			return nil, fmt.Errorf("saml: load IdP metadata: %w", err)
		}
		defer f.Close()
		if data, err = readLimited(f, maxMetadataBytes); err != nil {
			return nil, fmt.Errorf("saml: load IdP metadata %s: %w", source, err)
		}
	}
	md, err := ParseIDPMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("saml: load IdP metadata %s: %w", source, err)
	}
	return md, nil
}

func fetchMetadata(ctx context.Context, client *http.Client, source string) ([]byte, error) {
	u, err := url.Parse(source)
	if err != nil {
		return nil, fmt.Errorf("saml: fetch IdP metadata: %w", err)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("saml: fetch IdP metadata: refusing plain http for %s (use https)", u.Host)
	}
	if client == nil {
		client = &http.Client{Timeout: metadataTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return nil, fmt.Errorf("saml: fetch IdP metadata: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("saml: fetch IdP metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("saml: fetch IdP metadata %s: status %d", u.Redacted(), resp.StatusCode)
	}
	data, err := readLimited(resp.Body, maxMetadataBytes)
	if err != nil {
		return nil, fmt.Errorf("saml: fetch IdP metadata %s: %w", u.Redacted(), err)
	}
	return data, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readLimited reads r fully, failing if it holds more than max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return data, nil
}

// ParseIDPMetadata parses an EntityDescriptor, or the first IdP in an EntitiesDescriptor, and
// checks that it names an entity ID, an SSO endpoint and at least one signing certificate.
func ParseIDPMetadata(data []byte) (*crewsaml.EntityDescriptor, error) {
	var ed crewsaml.EntityDescriptor
	if err := xml.Unmarshal(data, &ed); err != nil {
		var eds crewsaml.EntitiesDescriptor
		if err2 := xml.Unmarshal(data, &eds); err2 != nil {
			return nil, fmt.Errorf("parse metadata: %w", err)
		}
		found := false
		for _, e := range eds.EntityDescriptors {
			if len(e.IDPSSODescriptors) > 0 {
				ed, found = e, true
				break
			}
		}
		if !found {
			return nil, errors.New("parse metadata: no IdP in EntitiesDescriptor")
		}
	}
	if ed.EntityID == "" {
		return nil, errors.New("parse metadata: no entityID")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, errors.New("parse metadata: no IDPSSODescriptor")
	}
	hasSSO, hasCert := false, false
	for _, d := range ed.IDPSSODescriptors {
		hasSSO = hasSSO || len(d.SingleSignOnServices) > 0
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "" || kd.Use == "signing" {
				hasCert = hasCert || len(kd.KeyInfo.X509Data.X509Certificates) > 0
			}
		}
	}
	if !hasSSO {
		return nil, errors.New("parse metadata: no SingleSignOnService")
	}
	if !hasCert {
		return nil, errors.New("parse metadata: no signing certificate")
	}
	return &ed, nil
}

// SelfSignedKeyPair makes a throwaway RSA-2048 key and a self-signed certificate for it, valid
// from an hour before now for a year: for sandbox mode and tests, where no SP key is configured.
func SelfSignedKeyPair(commonName string, now time.Time) (*x509.Certificate, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, minRSABits)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("saml: generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: parse certificate: %w", err)
	}
	return cert, key, nil
}

// parseBase64Cert parses a certificate as metadata carries it: base64 DER, possibly wrapped.
func parseBase64Cert(data string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(data), ""))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
