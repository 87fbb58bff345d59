package flow

import (
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/document"
)

// providerDocLimits bounds documents providers send (larger than wallet
// uploads: reports and scans).
var providerDocLimits = document.Limits{MaxBytes: 20 << 20}

// safeDocument is the gate every provider document passes before it is
// stored: JPEG, PNG or PDF by content (not by the declared type), size and
// dimension limits checked from the header before decoding, metadata (EXIF)
// removed.
func safeDocument(d providers.Document) (providers.Document, error) {
	data, info, err := document.Sanitize(d.Data, providerDocLimits)
	if err != nil {
		return d, err
	}
	d.Data, d.ContentType = data, info.ContentType
	return d, nil
}
