package selfkey

import (
	"github.com/kycdesk/kycdesk/providers/document"
)

// Default bounds for the non-file parts of a request.
const (
	DefaultMaxJSONBytes = 1 << 20
	DefaultMaxParts     = 32
	// maxAttributes bounds the attributes of one request.
	maxAttributes = 100
)

// Limits bound what a wallet request may carry. Requests are read into
// memory within these bounds; nothing is written to disk.
type Limits struct {
	MaxFileBytes    int64 // one document
	MaxRequestBytes int64 // the whole body
	MaxJSONBytes    int64 // one JSON part or body other than a document
	MaxParts        int   // multipart parts
	Document        document.Limits
}

// NewLimits returns Limits for the given file and request bounds (0 takes
// the default) and default bounds for the rest.
func NewLimits(maxFileBytes, maxRequestBytes int64) Limits {
	if maxFileBytes <= 0 {
		maxFileBytes = DefaultMaxFileBytes
	}
	if maxRequestBytes <= 0 {
		maxRequestBytes = DefaultMaxRequestBytes
	}
	return Limits{
		MaxFileBytes:    maxFileBytes,
		MaxRequestBytes: maxRequestBytes,
		MaxJSONBytes:    DefaultMaxJSONBytes,
		MaxParts:        DefaultMaxParts,
		Document:        document.Limits{MaxBytes: maxFileBytes},
	}
}

func (l Limits) withDefaults() Limits {
	d := NewLimits(l.MaxFileBytes, l.MaxRequestBytes)
	if l.MaxJSONBytes > 0 {
		d.MaxJSONBytes = l.MaxJSONBytes
	}
	if l.MaxParts > 0 {
		d.MaxParts = l.MaxParts
	}
	if l.Document != (document.Limits{}) {
		d.Document = l.Document
	}
	d.Document.MaxBytes = d.MaxFileBytes
	return d
}
