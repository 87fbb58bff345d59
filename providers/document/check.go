package document

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
)

// Default bounds, suited to photos and scans of identity documents.
const (
	DefaultMaxBytes  = 10 << 20
	DefaultMaxSide   = 12000
	DefaultMaxPixels = 60_000_000
)

// Limits bounds an uploaded file. A zero field takes its default.
type Limits struct {
	MaxBytes  int64 // whole file
	MaxWidth  int   // image width in pixels
	MaxHeight int   // image height in pixels
	MaxPixels int64 // width*height, the memory a decoder would need
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxWidth <= 0 {
		l.MaxWidth = DefaultMaxSide
	}
	if l.MaxHeight <= 0 {
		l.MaxHeight = DefaultMaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	return l
}

// Info describes a file that passed Check. Width and Height are zero for
// a PDF.
type Info struct {
	ContentType string
	Width       int
	Height      int
}

// Check accepts data when it is no larger than l.MaxBytes, is a JPEG, PNG or
// PDF by content, and, for images, has dimensions within l as read from the
// image header alone (image.DecodeConfig), so a decompression bomb is
// refused before any pixel is decoded.
func Check(data []byte, l Limits) (Info, error) {
	l = l.withDefaults()
	if int64(len(data)) > l.MaxBytes {
		return Info{}, fmt.Errorf("check: %d bytes over %d: %w", len(data), l.MaxBytes, ErrTooLarge)
	}
	ct, err := Sniff(data)
	if err != nil {
		return Info{}, fmt.Errorf("check: %w", err)
	}
	info := Info{ContentType: ct}
	var cfg image.Config
	switch ct {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case PNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	default:
		return info, nil
	}
	if err != nil {
		return Info{}, fmt.Errorf("check: read %s header: %v: %w", ct, err, ErrMalformed)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > l.MaxWidth || cfg.Height > l.MaxHeight ||
		int64(cfg.Width)*int64(cfg.Height) > l.MaxPixels {
		return Info{}, fmt.Errorf("check: %dx%d: %w", cfg.Width, cfg.Height, ErrDimensions)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	return info, nil
}

// Sanitize runs Check and then removes metadata from images (StripEXIF for
// JPEG, StripPNGMetadata for PNG). A PDF is returned unchanged: stripping
// its metadata would mean rewriting it.
func Sanitize(data []byte, l Limits) ([]byte, Info, error) {
	info, err := Check(data, l)
	if err != nil {
		return nil, Info{}, err
	}
	var out []byte
	switch info.ContentType {
	case JPEG:
		out, err = StripEXIF(data)
	case PNG:
		out, err = StripPNGMetadata(data)
	default:
		out = data
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("sanitize: %w", err)
	}
	return out, info, nil
}
