// Package document is the safe handling of uploaded identity documents that
// every provider shares: it accepts only JPEG, PNG and PDF recognised by
// their content (never by the declared type), bounds size and image
// dimensions by reading only the image header before anything is decoded,
// and removes embedded metadata (EXIF, XMP, comments, thumbnails) from
// images without re-encoding them.
package document

import (
	"errors"
)

// Content types this package accepts.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	PDF  = "application/pdf"
)

// Errors returned by Sniff, Check, StripEXIF, StripPNGMetadata and
// Sanitize; callers match them with errors.Is.
var (
	ErrTooLarge        = errors.New("document: file too large")
	ErrUnsupportedType = errors.New("document: unsupported file type")
	ErrDimensions      = errors.New("document: image dimensions out of bounds")
	ErrMalformed       = errors.New("document: malformed file")
)
