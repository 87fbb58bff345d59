package blockpass

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// Errors ImportExport wraps, so callers can tell staff what went wrong.
var (
	ErrExportKey     = errors.New("cannot unwrap the export key: wrong private key or corrupt meta.json")
	ErrExportPadding = errors.New("bad padding after decryption: wrong key, wrong IV or corrupt profile.bin")
	ErrExportHash    = errors.New("decrypted content does not match zipContentSHA256")
)

// Limits on what an export may expand to; a zip is outside input.
const (
	MaxExportFiles     = 1000
	MaxExportFileBytes = 32 << 20
	MaxExportBytes     = 256 << 20
)

// ExportMeta is an export's meta.json.
type ExportMeta struct {
	// WrappedKey is base64 RSA-OAEP (SHA-1, MGF1-SHA-1) of the AES-256 key
	// written as ASCII hex.
	WrappedKey string `json:"wrappedKey"`
	// IV is the AES-CBC IV in hex.
	IV string `json:"iv"`
	// ZipContentSHA256 is the hex SHA-256 of the decrypted zip.
	ZipContentSHA256 string `json:"zipContentSHA256"`
}

// DecryptExport opens an "Advanced Data Encryption" profile export with the
// customer-owned private key (blockpass-crypto-tools): unwrap the AES key,
// AES-256-CBC-decrypt profile.bin, strip PKCS#7 and check the SHA-256 of
// the resulting zip. It returns the zip bytes.
func DecryptExport(priv *rsa.PrivateKey, profileBin, metaJSON []byte) ([]byte, error) {
	if priv == nil {
		return nil, errors.New("blockpass: export: no private key configured")
	}
	var meta ExportMeta
	if err := json.Unmarshal(metaJSON, &meta); err != nil {
		return nil, fmt.Errorf("blockpass: export: meta.json: %w", err)
	}
	if meta.WrappedKey == "" || meta.IV == "" || meta.ZipContentSHA256 == "" {
		return nil, errors.New("blockpass: export: meta.json lacks wrappedKey, iv or zipContentSHA256")
	}
	wrapped, err := base64.StdEncoding.DecodeString(strings.TrimSpace(meta.WrappedKey))
	if err != nil {
		return nil, errors.New("blockpass: export: meta.json: wrappedKey is not base64")
	}
	unwrapped, err := rsa.DecryptOAEP(sha1.New(), nil, priv, wrapped, nil)
	if err != nil {
		return nil, fmt.Errorf("blockpass: export: %w", ErrExportKey)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(unwrapped)))
	if err != nil || len(key) != 32 {
		return nil, errors.New("blockpass: export: unwrapped key is not 64 hex digits (an AES-256 key)")
	}
	iv, err := hex.DecodeString(strings.TrimSpace(meta.IV))
	if err != nil || len(iv) != 16 {
		return nil, errors.New("blockpass: export: meta.json: iv is not 32 hex digits")
	}
	plain, err := decryptCBC(key, iv, profileBin)
	if errors.Is(err, errBadPadding) {
		return nil, fmt.Errorf("blockpass: export: %w", ErrExportPadding)
	}
	if err != nil {
		return nil, fmt.Errorf("blockpass: export: profile.bin: %w", err)
	}
	sum := sha256.Sum256(plain)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), strings.TrimSpace(meta.ZipContentSHA256)) {
		return nil, fmt.Errorf("blockpass: export: %w", ErrExportHash)
	}
	return plain, nil
}

// ImportExport decrypts an export (see DecryptExport) and returns its files
// as one update. A JSON file holding a candidate record (with identities,
// bare or in the API's {"data":…} envelope) is extracted like an API reply;
// a JSON object of plain values becomes attributes named by meaning where
// the key is a known identity name; every other file (images, PDFs, other
// JSON) becomes a document with a sniffed content type. The export's file
// layout is not documented, hence the generic reading.
func ImportExport(priv *rsa.PrivateKey, profileBin, metaJSON []byte) (providers.Update, error) {
	plain, err := DecryptExport(priv, profileBin, metaJSON)
	if err != nil {
		return providers.Update{}, err
	}
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		return providers.Update{}, fmt.Errorf("blockpass: export: decrypted content is not a zip: %w", err)
	}
	if len(zr.File) > MaxExportFiles {
		return providers.Update{}, fmt.Errorf("blockpass: export: %d files, more than %d", len(zr.File), MaxExportFiles)
	}
	var u providers.Update
	total := 0
	files := append([]*zip.File(nil), zr.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		name := path.Clean(strings.TrimLeft(strings.ReplaceAll(f.Name, "\\", "/"), "/"))
		if f.FileInfo().IsDir() || strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(path.Base(name), ".") {
			continue
		}
		data, err := readZipFile(f)
		if err != nil {
			return providers.Update{}, fmt.Errorf("blockpass: export: %s: %w", name, err)
		}
		if total += len(data); total > MaxExportBytes {
			return providers.Update{}, fmt.Errorf("blockpass: export: expands to more than %d bytes", MaxExportBytes)
		}
		importFile(&u, name, data)
	}
	return u, nil
}

// readZipFile reads one entry, refusing more than MaxExportFileBytes
// whatever its header claims.
func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxExportFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxExportFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxExportFileBytes)
	}
	return data, nil
}

// importFile adds one export file to u.
func importFile(u *providers.Update, name string, data []byte) {
	if strings.EqualFold(path.Ext(name), ".json") {
		if cand, ok := candidateJSON(data); ok {
			x := Extract(cand)
			if u.Reference == "" {
				u.Reference, u.ProviderRef, u.ProviderStatus, u.Status, u.At = x.Reference, x.ProviderRef, x.ProviderStatus, x.Status, x.At
			}
			u.Attributes = append(u.Attributes, x.Attributes...)
			u.Documents = append(u.Documents, x.Documents...)
			u.Certificates = append(u.Certificates, x.Certificates...)
			return
		}
		if attrs, ok := flatAttributes(data); ok {
			u.Attributes = append(u.Attributes, attrs...)
			return
		}
		u.Documents = append(u.Documents, providers.Document{Name: name, ContentType: "application/json", Data: data})
		return
	}
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	u.Documents = append(u.Documents, providers.Document{Name: name, ContentType: ct, Data: data})
}

// candidateJSON reads a candidate record with identities, bare or wrapped
// in the API envelope.
func candidateJSON(data []byte) (Candidate, bool) {
	var wrapped struct {
		Data *Candidate `json:"data"`
	}
	if json.Unmarshal(data, &wrapped) == nil && wrapped.Data != nil && len(wrapped.Data.Identities) > 0 {
		return *wrapped.Data, true
	}
	var cand Candidate
	if json.Unmarshal(data, &cand) == nil && len(cand.Identities) > 0 {
		return cand, true
	}
	return Candidate{}, false
}

// flatAttributes reads a JSON object whose values are all strings, numbers
// or booleans as attributes.
func flatAttributes(data []byte) ([]providers.Attribute, bool) {
	var obj map[string]any
	if json.Unmarshal(data, &obj) != nil || len(obj) == 0 {
		return nil, false
	}
	var out []providers.Attribute
	for _, k := range sortedKeys(obj) {
		var v string
		switch t := obj[k].(type) {
		case string:
			v = t
		case float64:
			v = strconv.FormatFloat(t, 'f', -1, 64)
		case bool:
			v = strconv.FormatBool(t)
		case nil:
			continue
		default:
			return nil, false
		}
		out = append(out, stringAttributes(k, v)...)
	}
	return out, true
}
