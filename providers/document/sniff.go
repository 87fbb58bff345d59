package document

import (
	"bytes"
	"fmt"
	"strings"
)

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	pdfMagic  = []byte("%PDF-")
)

// Sniff returns the content type of data judged by its leading bytes only:
// JPEG, PNG or PDF. Anything else, including an empty file, is
// ErrUnsupportedType, whatever type the sender declared.
func Sniff(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, jpegMagic):
		return JPEG, nil
	case bytes.HasPrefix(data, pngMagic):
		return PNG, nil
	case bytes.HasPrefix(data, pdfMagic):
		return PDF, nil
	}
	return "", fmt.Errorf("sniff: %w", ErrUnsupportedType)
}

// MatchesDeclared reports whether a sender's declared content type agrees
// with what Sniff found. No declaration, or the generic
// application/octet-stream, declares nothing and agrees with anything;
// parameters and case are ignored, and the common aliases of JPEG count as
// JPEG.
func MatchesDeclared(declared, sniffed string) bool {
	declared, _, _ = strings.Cut(declared, ";")
	switch declared = strings.ToLower(strings.TrimSpace(declared)); declared {
	case "", "application/octet-stream":
		return true
	case "image/jpg", "image/pjpeg":
		declared = JPEG
	}
	return declared == sniffed
}
