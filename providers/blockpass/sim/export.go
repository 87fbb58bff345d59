package sim

import (
	"archive/zip"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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
	"sort"
)

// ErrNoExportKey is returned when the simulator has no export public key.
var ErrNoExportKey = errors.New("no export public key configured")

// EncryptExport seals files as a Blockpass "Advanced Data Encryption"
// profile export (blockpass-crypto-tools): the files zipped, a random
// AES-256 key whose hex is wrapped to pub with RSA-OAEP/SHA-1,
// AES-256-CBC with PKCS#7 over the zip, and meta.json with the wrapped key,
// the IV and the zip's SHA-256. random nil means crypto/rand.
func EncryptExport(random io.Reader, pub *rsa.PublicKey, files map[string][]byte) (profileBin, metaJSON []byte, err error) {
	if pub == nil {
		return nil, nil, ErrNoExportKey
	}
	if random == nil {
		random = rand.Reader
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			return nil, nil, err
		}
		if _, err := w.Write(files[name]); err != nil {
			return nil, nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	plain := buf.Bytes()
	key, iv := make([]byte, 32), make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(random, key); err != nil {
		return nil, nil, err
	}
	if _, err := io.ReadFull(random, iv); err != nil {
		return nil, nil, err
	}
	wrapped, err := rsa.EncryptOAEP(sha1.New(), random, pub, []byte(hex.EncodeToString(key)), nil)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, err
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := make([]byte, len(plain)+n)
	copy(padded, plain)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(padded, padded)
	sum := sha256.Sum256(plain)
	metaJSON, err = json.Marshal(map[string]string{
		"wrappedKey":       base64.StdEncoding.EncodeToString(wrapped),
		"iv":               hex.EncodeToString(iv),
		"zipContentSHA256": hex.EncodeToString(sum[:]),
	})
	return padded, metaJSON, err
}

// Export is the dashboard's encrypted export of one candidate, made with
// Config.ExportPublicKey: a zip holding the record as the API returns it
// in full (profile.json) and its pictures as files. Blockpass does not
// document the zip's layout; this one is the simulator's.
func (s *Server) Export(recordID string) (profileBin, metaJSON []byte, err error) {
	if s.cfg.ExportPublicKey == nil {
		return nil, nil, ErrNoExportKey
	}
	s.mu.Lock()
	rec := s.lookupLocked(recordID, true)
	if rec == nil {
		s.mu.Unlock()
		return nil, nil, ErrNotFound
	}
	w := rec.wire(s.cfg.Now(), true, ScopeAll)
	s.mu.Unlock()
	files := map[string][]byte{}
	for name, id := range w.Identities {
		if id.Type != "base64" {
			continue
		}
		data, err := base64.StdEncoding.DecodeString(id.Value)
		if err != nil {
			return nil, nil, err
		}
		ext := ".jpg"
		if http.DetectContentType(data) == "image/png" {
			ext = ".png"
		}
		files["pictures/"+name+ext] = data
	}
	profile, err := json.Marshal(w)
	if err != nil {
		return nil, nil, err
	}
	files["profile.json"] = profile
	return EncryptExport(s.cfg.Rand, s.cfg.ExportPublicKey, files)
}

// exportDownload serves GET /_sim/blockpass/export/{recordId}/{file}: the
// two files of the candidate's export. Both come from one export, made on
// the first request and kept, as a download from the dashboard would be.
func (s *Server) exportDownload(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("recordId"), r.PathValue("file")
	if file != "profile.bin" && file != "meta.json" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	ex, ok := s.exports[id]
	s.mu.Unlock()
	if !ok {
		bin, meta, err := s.Export(id)
		switch {
		case errors.Is(err, ErrNotFound):
			http.Error(w, "no candidate with that recordId", http.StatusNotFound)
			return
		case errors.Is(err, ErrNoExportKey):
			http.Error(w, "this simulator has no export key configured", http.StatusConflict)
			return
		case err != nil:
			http.Error(w, "export failed", http.StatusInternalServerError)
			return
		}
		ex = exportFiles{bin: bin, meta: meta}
		s.mu.Lock()
		s.exports[id] = ex
		s.mu.Unlock()
	}
	body, ct := ex.bin, "application/octet-stream"
	if file == "meta.json" {
		body, ct = ex.meta, "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file))
	_, _ = w.Write(body)
}

// exportFiles is one export's two files.
type exportFiles struct{ bin, meta []byte }
