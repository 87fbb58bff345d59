package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"sort"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// resourceURL is a signed, expiring download URL for one resource, shaped
// like the signed cloud-storage URLs IDfy hands out (an Expires parameter).
func (s *Server) resourceURL(public, id, kind, typ string, expires time.Time) string {
	exp := expires.Unix()
	return public + pagePrefix + "resources/" + url.PathEscape(id) + "/" + url.PathEscape(kind) + "/" + url.PathEscape(typ) +
		"?Expires=" + strconv.FormatInt(exp, 10) + "&Signature=" + s.sign(id, kind, typ, exp)
}

func (s *Server) sign(id, kind, typ string, exp int64) string {
	m := hmac.New(sha256.New, s.urlKey)
	fmt.Fprintf(m, "%s\n%s\n%s\n%d", id, kind, typ, exp)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) validSignature(id, kind, typ string, exp int64, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(s.sign(id, kind, typ, exp))
	return hmac.Equal(got, want)
}

// capturedFiles are what a finished capture yields: a selfie (PNG), the
// customer video (a stub MP4 header) and the profile report (a one-page
// PDF). They carry no personal data.
func capturedFiles(profileID string) []file {
	return []file{
		{kind: "document", typ: "profile_report", contentType: "application/pdf", data: reportPDF(profileID)},
		{kind: "image", typ: "selfie", contentType: "image/png", data: selfiePNG()},
		{kind: "video", typ: "customer", contentType: "video/mp4", data: []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")},
	}
}

func selfiePNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			img.Set(x, y, color.RGBA{R: uint8(30 * x), G: uint8(30 * y), B: 160, A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func reportPDF(profileID string) []byte {
	text := "IDfy Simulator profile report " + profileID
	stream := "BT /F1 12 Tf 40 780 Td (" + text + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length " + strconv.Itoa(len(stream)) + " >>\nstream\n" + stream + "\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var buf bytes.Buffer
	buf.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&buf, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return buf.Bytes()
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// open decrypts a compact JWE of the encrypted flow (alg=dir, A256GCM, the
// configured kid) with the simulator's key.
func (s *Server) open(compact string) ([]byte, error) {
	obj, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, err
	}
	if obj.Header.KeyID != s.cfg.KeyID {
		return nil, errors.New("unknown kid")
	}
	return obj.Decrypt(s.cfg.Key)
}

// sealJSON encrypts v's JSON as a compact JWE with the simulator's key.
func (s *Server) sealJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: s.cfg.Key, KeyID: s.cfg.KeyID}, nil)
	if err != nil {
		return "", err
	}
	obj, err := enc.Encrypt(b)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}
