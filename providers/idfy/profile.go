package idfy

import (
	"bytes"
	"encoding/json"
	"time"
)

// Profile is IDfy's Get Profile object, as far as KYC Desk reads it. The
// decoder ignores unknown keys (IDfy adds keys without notice) and is
// lenient about value types: a field that changes from a string to a number
// or an object is kept as text instead of failing the whole profile.
type Profile struct {
	ProfileID      string
	ReferenceID    string
	Status         string // verbatim
	ReviewerAction string // verbatim; "" when null
	// Comments is status_description.comments (or status_description
	// itself when it is a string).
	Comments         string
	StatusDetail     string
	CaptureLink      string
	CaptureExpiresAt time.Time
	CompletedAt      time.Time
	PerformedBy      string
	Resources        Resources
}

// Resources are a profile's captured items. Image, video and document
// values are signed URLs that expire: download them promptly.
type Resources struct {
	Documents []ResourceRef
	Images    []ResourceRef
	Videos    []ResourceRef
	Text      []ResourceRef
}

// ResourceRef is one entry of a profile's resources.
type ResourceRef struct {
	Kind string // "document", "image", "video" or "text"
	// Type is the entry's "type" (selfie, ind_pan, profile_report) or,
	// where IDfy uses "attr" (videos, text), its attr.
	Type string
	// Value is the URL for files, the text for text (an object such as a
	// name is kept as its compact JSON).
	Value string
}

type wireRef struct {
	Type  lenientString `json:"type"`
	Attr  lenientString `json:"attr"`
	Value lenientString `json:"value"`
}

type wireProfile struct {
	ProfileID         lenientString `json:"profile_id"`
	ReferenceID       lenientString `json:"reference_id"`
	Status            lenientString `json:"status"`
	ReviewerAction    lenientString `json:"reviewer_action"`
	StatusDescription lenientObject `json:"status_description"`
	StatusDetail      lenientString `json:"status_detail"`
	CaptureLink       lenientString `json:"capture_link"`
	CaptureExpiresAt  lenientString `json:"capture_expires_at"`
	ProfileData       lenientObject `json:"profile_data"`
	Resources         struct {
		Documents lenientList `json:"documents"`
		Images    lenientList `json:"images"`
		Videos    lenientList `json:"videos"`
		Text      lenientList `json:"text"`
	} `json:"resources"`
}

// UnmarshalJSON decodes IDfy's profile JSON leniently (see Profile).
func (p *Profile) UnmarshalJSON(b []byte) error {
	var w wireProfile
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Profile{
		ProfileID:        string(w.ProfileID),
		ReferenceID:      string(w.ReferenceID),
		Status:           string(w.Status),
		ReviewerAction:   string(w.ReviewerAction),
		StatusDetail:     string(w.StatusDetail),
		CaptureLink:      string(w.CaptureLink),
		CaptureExpiresAt: parseTime(string(w.CaptureExpiresAt)),
		CompletedAt:      parseTime(w.ProfileData.field("completed_at")),
		PerformedBy:      w.ProfileData.field("performed_by"),
		Comments:         w.StatusDescription.field("comments"),
	}
	if p.Comments == "" {
		p.Comments = w.StatusDescription.text
	}
	p.Resources = Resources{
		Documents: w.Resources.Documents.refs("document"),
		Images:    w.Resources.Images.refs("image"),
		Videos:    w.Resources.Videos.refs("video"),
		Text:      w.Resources.Text.refs("text"),
	}
	return nil
}

// lenientString takes a JSON string, number, bool or null as text, and
// keeps an object or array as its compact JSON.
type lenientString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *lenientString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = lenientString(v)
	case b[0] == '{' || b[0] == '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return err
		}
		*s = lenientString(buf.String())
	default:
		*s = lenientString(b)
	}
	return nil
}

// lenientObject is an object whose string fields are read on demand; any
// other JSON value is kept as text.
type lenientObject struct {
	fields map[string]lenientString
	text   string
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *lenientObject) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, &o.fields)
	}
	var s lenientString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	o.text = string(s)
	return nil
}

func (o lenientObject) field(name string) string { return string(o.fields[name]) }

// lenientList is a list of resource entries; a value of another shape
// (null, an object) is an empty list, and entries that are not objects are
// skipped.
type lenientList []wireRef

// UnmarshalJSON implements json.Unmarshaler.
func (l *lenientList) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if json.Unmarshal(b, &items) != nil {
		*l = nil
		return nil
	}
	out := make(lenientList, 0, len(items))
	for _, raw := range items {
		var r wireRef
		if json.Unmarshal(raw, &r) == nil {
			out = append(out, r)
		}
	}
	*l = out
	return nil
}

func (l lenientList) refs(kind string) []ResourceRef {
	var out []ResourceRef
	for _, r := range l {
		t := string(r.Type)
		if t == "" {
			t = string(r.Attr)
		}
		out = append(out, ResourceRef{Kind: kind, Type: t, Value: string(r.Value)})
	}
	return out
}
