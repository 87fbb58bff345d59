package blockpass

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// Attribute meanings this adapter produces. Identity keys it does not know
// keep their Blockpass name as Attribute.Name with MeaningOther.
const (
	MeaningFullName     = "full_name"
	MeaningGivenName    = "given_name"
	MeaningFamilyName   = "family_name"
	MeaningDateOfBirth  = "date_of_birth"
	MeaningEmail        = "email"
	MeaningPhone        = "phone"
	MeaningPhoneCountry = "phone_country"
	MeaningAddress      = "address"
	MeaningAddressLine  = "address_line"
	MeaningAddressExtra = "address_extra"
	MeaningCity         = "city"
	MeaningState        = "state"
	MeaningPostalCode   = "postal_code"
	MeaningCountry      = "country"
	MeaningNationality  = "nationality"
	MeaningOther        = "other"
)

// CertBlockPassID names the Certificate that carries the candidate's
// blockPassID: providers.Update has no field for a third identifier, and
// the id is metadata that survives archiving at Blockpass too.
const CertBlockPassID = "blockPassID"

// Extract turns a candidate into a provider-neutral update: the verbatim
// and the normalised status, identity attributes named by meaning (with a
// full_name composed from given_name and family_name, the MM/DD/YYYY date
// of birth as YYYY-MM-DD, the JSON-in-string address and phone split into
// their parts), base64 images as documents with a sniffed content type, and
// certificates. An archived candidate yields metadata and certificates only.
//
// Certificates survive archiving on our side, so their Value is the
// certificate JSON with personal fields (names, dates of birth, addresses,
// ...) redacted; the raw certificate is kept as a Document (cert-<slug>.json)
// which, like every document, is deleted on archive. A base64 value that
// does not decode is kept as a text document (<name>.b64) rather than lost.
func Extract(c Candidate) providers.Update {
	u := providers.Update{
		Reference:      c.RefID,
		ProviderRef:    c.RecordID,
		ProviderStatus: c.Status,
		Status:         MapStatus(c.Status),
		At:             c.LastChange(),
	}
	if c.BlockPassID != "" {
		u.Certificates = append(u.Certificates, providers.Certificate{Name: CertBlockPassID, Value: c.BlockPassID})
	}
	certs := c.AllCerts()
	for _, slug := range sortedKeys(certs) {
		raw := certs[slug]
		u.Certificates = append(u.Certificates, providers.Certificate{Name: slug, Value: redactCert(raw)})
		if !c.IsArchived {
			u.Documents = append(u.Documents, providers.Document{Name: "cert-" + slug + ".json", ContentType: "application/json", Data: []byte(raw)})
		}
	}
	if c.IsArchived {
		return u
	}
	var given, family string
	for _, name := range sortedKeys(c.Identities) {
		id := c.Identities[name]
		value := string(id.Value)
		if id.Type == IdentityBase64 {
			u.Documents = append(u.Documents, decodeDocument(name, value))
			continue
		}
		switch name {
		case "given_name":
			given = strings.TrimSpace(value)
		case "family_name":
			family = strings.TrimSpace(value)
		}
		u.Attributes = append(u.Attributes, stringAttributes(name, value)...)
	}
	if full := strings.TrimSpace(given + " " + family); full != "" {
		u.Attributes = append([]providers.Attribute{{Meaning: MeaningFullName, Name: "given_name+family_name", Value: full}}, u.Attributes...)
	}
	return u
}

// stringAttributes maps one string identity to its attributes.
func stringAttributes(name, value string) []providers.Attribute {
	switch name {
	case "given_name":
		return []providers.Attribute{{Meaning: MeaningGivenName, Name: name, Value: strings.TrimSpace(value)}}
	case "family_name":
		return []providers.Attribute{{Meaning: MeaningFamilyName, Name: name, Value: strings.TrimSpace(value)}}
	case "dob":
		return []providers.Attribute{{Meaning: MeaningDateOfBirth, Name: name, Value: normaliseDOB(value)}}
	case "email":
		return []providers.Attribute{{Meaning: MeaningEmail, Name: name, Value: strings.TrimSpace(value)}}
	case "nationality":
		return []providers.Attribute{{Meaning: MeaningNationality, Name: name, Value: strings.TrimSpace(value)}}
	case "phone":
		return phoneAttributes(name, value)
	case "address":
		return addressAttributes(name, value)
	}
	return []providers.Attribute{{Meaning: MeaningOther, Name: name, Value: value}}
}

// normaliseDOB turns the documented MM/DD/YYYY into YYYY-MM-DD; any other
// form is kept as sent.
func normaliseDOB(v string) string {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"01/02/2006", "1/2/2006", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Format("2006-01-02")
		}
	}
	return v
}

// phone is the JSON-in-string phone value.
type phone struct {
	CountryCode  string `json:"countryCode"`
	CountryCode2 string `json:"countryCode2"`
	PhoneNumber  string `json:"phoneNumber"`
	Number       string `json:"number"`
}

func phoneAttributes(name, value string) []providers.Attribute {
	var p phone
	if err := json.Unmarshal([]byte(value), &p); err != nil {
		return []providers.Attribute{{Meaning: MeaningPhone, Name: name, Value: strings.TrimSpace(value)}}
	}
	number := strings.TrimSpace(p.PhoneNumber)
	if number == "" {
		number = strings.TrimSpace(p.Number)
	}
	out := []providers.Attribute{{Meaning: MeaningPhone, Name: name, Value: number}}
	if p.CountryCode2 != "" {
		out = append(out, providers.Attribute{Meaning: MeaningPhoneCountry, Name: name + ".countryCode2", Value: p.CountryCode2})
	}
	return out
}

// address is the JSON-in-string address value.
type address struct {
	Address    string `json:"address"`
	ExtraInfo  string `json:"extraInfo"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"`
}

func addressAttributes(name, value string) []providers.Attribute {
	var a address
	if err := json.Unmarshal([]byte(value), &a); err != nil {
		return []providers.Attribute{{Meaning: MeaningAddress, Name: name, Value: strings.TrimSpace(value)}}
	}
	parts := []struct{ meaning, key, value string }{
		{MeaningAddressLine, "address", a.Address},
		{MeaningAddressExtra, "extraInfo", a.ExtraInfo},
		{MeaningCity, "city", a.City},
		{MeaningState, "state", a.State},
		{MeaningPostalCode, "postalCode", a.PostalCode},
		{MeaningCountry, "country", a.Country},
	}
	var line []string
	var out []providers.Attribute
	for _, p := range parts {
		v := strings.TrimSpace(p.value)
		if v == "" {
			continue
		}
		line = append(line, v)
		out = append(out, providers.Attribute{Meaning: p.meaning, Name: name + "." + p.key, Value: v})
	}
	return append([]providers.Attribute{{Meaning: MeaningAddress, Name: name, Value: strings.Join(line, ", ")}}, out...)
}

// decodeDocument decodes a base64 identity (standard or URL alphabet,
// padded or not, optionally a data: URL) and names it by its sniffed type.
func decodeDocument(name, value string) providers.Document {
	s := strings.TrimSpace(value)
	if strings.HasPrefix(s, "data:") {
		if i := strings.IndexByte(s, ','); i >= 0 {
			s = s[i+1:]
		}
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		data, err := enc.DecodeString(s)
		if err != nil || len(data) == 0 {
			continue
		}
		ct := http.DetectContentType(data)
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = ct[:i]
		}
		return providers.Document{Name: name + extension(ct), ContentType: ct, Data: data}
	}
	return providers.Document{Name: name + ".b64", ContentType: "text/plain", Data: []byte(value)}
}

func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	}
	return ".bin"
}

// personalCertKey reports whether a certificate field can hold a person's
// data (the candidate's, or a sanctions-list hit's, which may be the
// candidate). Compared lower-case.
func personalCertKey(k string) bool {
	switch strings.ToLower(k) {
	case "firstname", "middlename", "lastname", "fullname", "name", "givenname", "familyname", "given_name", "family_name",
		"dob", "birthdate", "dateofbirth", "date_of_birth", "address", "primarylocation", "email", "phone",
		"nationality", "documentnumber", "document_number", "idnumber", "selfie", "image", "photo", "picture":
		return true
	}
	return false
}

// redactCert returns the certificate JSON with personal fields replaced by
// "[redacted]" at any depth; a certificate that is not JSON is reduced to
// "[redacted]" as we cannot tell what it holds.
func redactCert(raw string) string {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "[redacted]"
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return "[redacted]"
	}
	return string(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if personalCertKey(k) {
				t[k] = "[redacted]"
				continue
			}
			t[k] = redactValue(child)
		}
		return t
	case []any:
		for i, child := range t {
			t[i] = redactValue(child)
		}
		return t
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
