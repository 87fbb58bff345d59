package sim

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

// SampleEXIFMarker is written into the EXIF segment of SampleJPEG, so a
// test can prove that what we store no longer carries it.
const SampleEXIFMarker = "SIMULATOR-EXIF GPS 48.8584N 2.2945E"

// SampleJPEG is a small generated "document" image (made at run time,
// not a real document) with an EXIF APP1 segment carrying SampleEXIFMarker.
func SampleJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 60))
	for y := 0; y < 60; y++ {
		for x := 0; x < 96; x++ {
			c := color.RGBA{R: 200, G: 210, B: 230, A: 255}
			if y > 40 || (x > 8 && x < 30 && y > 10 && y < 36) {
				c = color.RGBA{R: 60, G: 70, B: 110, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}) // writing to memory cannot fail
	plain := buf.Bytes()
	payload := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), SampleEXIFMarker...)
	n := len(payload) + 2
	out := append([]byte{}, plain[:2]...)
	out = append(out, 0xFF, 0xE1, byte(n>>8), byte(n))
	out = append(out, payload...)
	return append(out, plain[2:]...)
}

// DefaultProfile is the made-up applicant the wallet submits, by schema
// short name.
func DefaultProfile() map[string]any {
	return map[string]any{
		"first-name":    "Ada",
		"last-name":     "Lovelace",
		"email":         "ada.lovelace@example.org",
		"date-of-birth": "1990-12-10",
		"nationality":   map[string]any{"country": "GB", "denonym": "British"},
		"passport":      map[string]any{"issued": "2021-02-19", "expires": "2031-02-19"},
	}
}

// fileSchema reports whether a SelfKey schema carries a document image.
func fileSchema(name string) bool {
	switch name {
	case "passport", "national-id", "drivers-license", "utility-bill", "bank-statement",
		"tax-certificate", "birth-certificate", "voice-id", "fingerprint":
		return true
	}
	return false
}
