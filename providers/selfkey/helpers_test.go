package selfkey

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// vector is the SelfKey known-answer vector (from the shared providers.json).
type vector struct {
	Address    string `json:"address"`
	DID        string `json:"did"`
	Nonce      string `json:"nonce"`
	PublicKey  string `json:"public_key_uncompressed"`
	Signature  string `json:"signature"`
	PrivateKey string `json:"test_private_key"`
}

func loadVector(t testing.TB) vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// newKey makes a deterministic secp256k1 key from seed.
func newKey(t testing.TB, seed uint64) *secp256k1.PrivateKey {
	t.Helper()
	k, err := secp256k1.GeneratePrivateKeyFromRand(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// personalSign is what the wallet does: EIP-191 over msg, 0x r s v with
// v = 27/28, or 0/1 when legacyV.
func personalSign(k *secp256k1.PrivateKey, msg string, legacyV bool) string {
	c := ecdsa.SignCompact(k, PersonalHash([]byte(msg)), false)
	v := c[0]
	if legacyV {
		v -= 27
	}
	return "0x" + hex.EncodeToString(append(append([]byte(nil), c[1:]...), v))
}

func didOf(k *secp256k1.PrivateKey) string {
	return "did:eth:" + AddressOf(k.PubKey().SerializeUncompressed())
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// newTestService builds a Service over a memory store and a pinned clock.
func newTestService(t testing.TB, cfg Config, resolver DIDResolver) (*Service, *clock) {
	t.Helper()
	c := newClock()
	if cfg.JWTKey == nil {
		cfg.JWTKey = testKey
	}
	s, err := NewService(cfg, Deps{Store: NewMemoryChallengeStore(c.Now), Resolver: resolver, Now: c.Now, Rand: rand.NewChaCha8([32]byte{9})})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// fakeResolver maps did:selfkey ids to controller addresses.
type fakeResolver map[string]string

func (f fakeResolver) Controller(_ context.Context, s Subject) (string, error) {
	a, ok := f[s.ID]
	if !ok {
		return "", ErrDIDNotFound
	}
	return a, nil
}

// makeJPEG encodes a small image at run time.
func makeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 5), uint8(y * 3), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withEXIF inserts an APP1 EXIF segment carrying secret after SOI.
func withEXIF(jpg []byte, secret string) []byte {
	payload := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), secret...)
	n := len(payload) + 2
	seg := append([]byte{0xFF, 0xE1, byte(n >> 8), byte(n)}, payload...)
	out := append([]byte(nil), jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}
