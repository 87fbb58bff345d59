package blockpass

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Blockpass candidate statuses (seed, verbatim).
const (
	StatusIncomplete      = "incomplete"
	StatusWaiting         = "waiting"
	StatusInReview        = "inreview"
	StatusApproved        = "approved"
	StatusRejected        = "rejected"
	StatusBlocked         = "blocked"
	StatusReviewRequested = "review_requested"
)

// Identity attribute value types Blockpass sends.
const (
	IdentityString = "string"
	IdentityBase64 = "base64"
)

// Candidate is one KYC Connect record as the Dashboard API returns it. List
// calls usually carry metadata only; single fetches carry Identities and
// certificates when the API key's scope allows it. Unknown fields are
// ignored.
type Candidate struct {
	Status      string `json:"status"`
	RefID       string `json:"refId"`
	RecordID    string `json:"recordId"`
	BlockPassID string `json:"blockPassID"`
	SubmitCount int    `json:"submitCount"`
	IsArchived  bool   `json:"isArchived"`

	WaitingDate  Date `json:"waitingDate"`
	InreviewDate Date `json:"inreviewDate"`
	ApprovedDate Date `json:"approvedDate"`
	// WillArchiveAtDate is the documented name; WillArchiveAt is accepted
	// too. Use ArchiveAt to read either.
	WillArchiveAtDate Date `json:"willArchiveAtDate"`
	WillArchiveAt     Date `json:"willArchiveAt"`

	CustomFields map[string]any      `json:"customFields,omitempty"`
	Identities   map[string]Identity `json:"identities,omitempty"`
	// Certs is the documented key; Blockpass's own script reads
	// Certificates. Use AllCerts to read both.
	Certs        map[string]JSONText `json:"certs,omitempty"`
	Certificates map[string]JSONText `json:"certificates,omitempty"`
}

// Identity is one identity attribute: Type is "string" or "base64". A
// string Value may itself hold JSON (address, phone).
type Identity struct {
	Type  string   `json:"type"`
	Value JSONText `json:"value"`
}

// ArchiveAt is when Blockpass will archive the record (zero when no
// "archive after extract" is configured on the API key).
func (c Candidate) ArchiveAt() time.Time {
	if !c.WillArchiveAtDate.IsZero() {
		return c.WillArchiveAtDate.Time
	}
	return c.WillArchiveAt.Time
}

// AllCerts merges Certs and Certificates (Certs wins on a clash).
func (c Candidate) AllCerts() map[string]string {
	if len(c.Certs) == 0 && len(c.Certificates) == 0 {
		return nil
	}
	out := make(map[string]string, len(c.Certs)+len(c.Certificates))
	for k, v := range c.Certificates {
		out[k] = string(v)
	}
	for k, v := range c.Certs {
		out[k] = string(v)
	}
	return out
}

// LastChange is the latest of the record's dates, zero if it has none.
func (c Candidate) LastChange() time.Time {
	var last time.Time
	for _, d := range []Date{c.WaitingDate, c.InreviewDate, c.ApprovedDate} {
		if d.After(last) {
			last = d.Time
		}
	}
	return last
}

// JSONText is a value that is usually a JSON string (certs, identity
// values) but is accepted as any JSON: a string decodes to its text,
// anything else to its raw JSON text, null to "".
type JSONText string

// UnmarshalJSON implements json.Unmarshaler.
func (t *JSONText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = JSONText(s)
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return err
		}
		*t = JSONText(buf.String())
	}
	return nil
}

// Date is a Blockpass date. It decodes RFC 3339 strings (with or without
// fractions), Unix seconds or milliseconds and null; an unrecognised value
// decodes to the zero time rather than failing the whole record, since a
// date is never worth losing a listing over.
type Date struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Date) UnmarshalJSON(b []byte) error {
	d.Time = time.Time{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				d.Time = t.UTC()
				return nil
			}
		}
		return nil
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if n > 1e11 || n < -1e11 {
			d.Time = time.UnixMilli(n).UTC()
		} else {
			d.Time = time.Unix(n, 0).UTC()
		}
	}
	return nil
}

// MarshalJSON implements json.Marshaler: RFC 3339, or null when zero.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.UTC().Format(time.RFC3339Nano))
}
