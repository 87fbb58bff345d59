package selfkey

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/document"
)

// SchemaBase is the prefix of the SelfKey attribute schema ids.
const SchemaBase = "http://platform.selfkey.org/schema/attribute/"

// SchemaURL is the schema id of a SelfKey attribute by its short name
// ("first-name" -> http://platform.selfkey.org/schema/attribute/first-name.json).
func SchemaURL(name string) string { return SchemaBase + name + ".json" }

// SchemaName is the short name of a schema id: the last path segment
// without ".json" ("first-name"), lowercased; "" when there is none.
func SchemaName(schemaID string) string {
	s := strings.TrimSpace(schemaID)
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToLower(strings.TrimSuffix(s, ".json"))
}

// Meaning is the provider-neutral meaning of a SelfKey attribute schema
// ("first-name" -> "first_name", "date-of-birth" -> "date_of_birth");
// schemas without an established meaning get their short name with
// underscores.
func Meaning(schemaID string) string {
	name := SchemaName(schemaID)
	switch name {
	case "date-of-birth":
		return "date_of_birth"
	case "country-of-residency":
		return "country_of_residence"
	case "phone-number":
		return "phone"
	case "physical-address":
		return "address"
	case "tax-id-number":
		return "tax_id"
	case "drivers-license":
		return "driving_licence"
	}
	return strings.ReplaceAll(name, "-", "_")
}

// nestedMeaning is the meaning of a value at path inside an attribute whose
// schema short name is name.
func nestedMeaning(name string, path []string) string {
	base := Meaning(name)
	if len(path) == 0 {
		return base
	}
	last := path[len(path)-1]
	switch {
	case last == "issued":
		return "document_issue_date"
	case last == "expires":
		return "document_expiry_date"
	case len(path) > 0 && path[0] == "selfie":
		return "selfie"
	case last == "image" || last == "front" || last == "back" || last == "country":
		return base
	}
	return base + "_" + strings.ReplaceAll(strings.Join(path, "_"), "-", "_")
}

// WalletAttribute is one identity attribute as the wallet sends it to
// /users and /applications. In the seed's multipart form, ID is the schema
// URL and Data is {"value": …}; in the final wallet, ID is the relying
// party's attribute id (from the template), SchemaID the schema URL and
// Data the value itself.
type WalletAttribute struct {
	ID       FlexString      `json:"id"`
	SchemaID string          `json:"schemaId"`
	Data     json.RawMessage `json:"data"`
}

// Schema is the attribute's schema id: SchemaID, or ID when that is a URL
// (the seed's shape).
func (a WalletAttribute) Schema() string {
	if a.SchemaID != "" {
		return a.SchemaID
	}
	if id := string(a.ID); strings.HasPrefix(id, "http://") || strings.HasPrefix(id, "https://") {
		return id
	}
	return ""
}

// Value is the attribute's value: Data, unwrapped when it is {"value": x}.
func (a WalletAttribute) Value() json.RawMessage {
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal(a.Data, &wrapped); err == nil && len(wrapped) == 1 {
		if v, ok := wrapped["value"]; ok {
			return v
		}
	}
	return a.Data
}

// FileRef is a document an attribute points at by the id that /files or
// /users/file returned; the app resolves it against the files that same
// wallet uploaded.
type FileRef struct {
	Meaning  string
	Name     string // schema short name and path, e.g. "passport.image"
	FileID   string
	MimeType string // as declared by the wallet; the stored file's sniffed type wins
}

// Extracted is what a set of wallet attributes holds, by meaning.
type Extracted struct {
	Attributes []providers.Attribute
	Documents  []providers.Document // files sent inline (multipart $document-<n> or data: URLs)
	FileRefs   []FileRef            // files sent earlier, by id
}

// Limits on walking one request's attribute values.
const (
	maxValueDepth = 8
	maxValues     = 500
)

// Extract turns wallet attributes into provider-neutral attributes and
// documents. String values become Attributes named by schema and path with
// their meaning; "$document-<n>" values take the multipart upload of that
// name; file objects {mimeType, size, content} take content as an uploaded
// file id (a FileRef), a "$document-<n>" or a data: URL. A reference to an
// upload that is not there is ErrInvalidAttributes.
func Extract(attrs []WalletAttribute, uploads map[string]Upload, l Limits) (Extracted, error) {
	l = l.withDefaults()
	if len(attrs) > maxAttributes {
		return Extracted{}, fmt.Errorf("selfkey: extract: %d attributes: %w", len(attrs), ErrInvalidAttributes)
	}
	w := &walker{uploads: uploads, limits: l}
	for i, a := range attrs {
		schema := a.Schema()
		if schema == "" {
			return Extracted{}, fmt.Errorf("selfkey: extract: attribute %d has no schema: %w", i, ErrInvalidAttributes)
		}
		dec := json.NewDecoder(bytes.NewReader(a.Value()))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return Extracted{}, fmt.Errorf("selfkey: extract: attribute %d value: %w", i, ErrInvalidAttributes)
		}
		if err := w.walk(SchemaName(schema), nil, v); err != nil {
			return Extracted{}, fmt.Errorf("selfkey: extract: attribute %d: %w", i, err)
		}
	}
	return w.out, nil
}

type walker struct {
	uploads map[string]Upload
	limits  Limits
	count   int
	out     Extracted
}

func (w *walker) walk(schema string, path []string, v any) error {
	w.count++
	if w.count > maxValues || len(path) > maxValueDepth {
		return fmt.Errorf("value too large or deep: %w", ErrInvalidAttributes)
	}
	name := strings.Join(append([]string{schema}, path...), ".")
	meaning := nestedMeaning(schema, path)
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if ref, ok := documentRef(x); ok {
			return w.inline(meaning, name, ref)
		}
		w.out.Attributes = append(w.out.Attributes, providers.Attribute{Meaning: meaning, Name: name, Value: x})
	case json.Number:
		w.out.Attributes = append(w.out.Attributes, providers.Attribute{Meaning: meaning, Name: name, Value: x.String()})
	case bool:
		w.out.Attributes = append(w.out.Attributes, providers.Attribute{Meaning: meaning, Name: name, Value: strconv.FormatBool(x)})
	case []any:
		for i, e := range x {
			if err := w.walk(schema, append(path[:len(path):len(path)], strconv.Itoa(i)), e); err != nil {
				return err
			}
		}
	case map[string]any:
		if content, ok := x["content"].(string); ok && x["mimeType"] != nil {
			return w.file(meaning, name, content, x)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := w.walk(schema, append(path[:len(path):len(path)], k), x[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// file handles a SelfKey file object {mimeType, size, content}.
func (w *walker) file(meaning, name, content string, obj map[string]any) error {
	if ref, ok := documentRef(content); ok {
		return w.inline(meaning, name, ref)
	}
	if strings.HasPrefix(content, "data:") {
		data, err := decodeDataURL(content, w.limits.MaxFileBytes)
		if err != nil {
			return err
		}
		clean, info, err := document.Sanitize(data, w.limits.Document)
		if err != nil {
			return err
		}
		w.out.Documents = append(w.out.Documents, providers.Document{Name: name, ContentType: info.ContentType, Data: clean})
		return nil
	}
	if content == "" || len(content) > 128 {
		return fmt.Errorf("file id: %w", ErrInvalidAttributes)
	}
	mimeType, _ := obj["mimeType"].(string)
	w.out.FileRefs = append(w.out.FileRefs, FileRef{Meaning: meaning, Name: name, FileID: content, MimeType: mimeType})
	return nil
}

// inline takes the multipart upload named "$document-<ref>".
func (w *walker) inline(meaning, name, ref string) error {
	up, ok := w.uploads["$document-"+ref]
	if !ok {
		return fmt.Errorf("referenced document missing: %w", ErrInvalidAttributes)
	}
	w.out.Documents = append(w.out.Documents, providers.Document{Name: name, ContentType: up.ContentType, Data: up.Data})
	return nil
}

// documentRef recognises the wallet's references to a multipart document:
// "$document-<id>" and "#ref{document<n>.id}".
func documentRef(s string) (string, bool) {
	if id, ok := strings.CutPrefix(s, "$document-"); ok && validRefID(id, 64) {
		return id, true
	}
	if i := strings.LastIndex(s, "#ref{document"); i >= 0 {
		if id, ok := strings.CutSuffix(s[i+len("#ref{document"):], ".id}"); ok && validRefID(id, 9) && strings.Trim(id, "0123456789") == "" {
			return id, true
		}
	}
	return "", false
}

// validRefID reports whether id is 1 to max letters, digits, '_' or '-'.
func validRefID(id string, max int) bool {
	if id == "" || len(id) > max {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// decodeDataURL decodes a base64 data: URL, bounded by max decoded bytes.
func decodeDataURL(s string, max int64) ([]byte, error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(s, "data:"), ",")
	if !ok || !strings.HasSuffix(meta, ";base64") {
		return nil, fmt.Errorf("data URL is not base64: %w", ErrInvalidAttributes)
	}
	if int64(base64.StdEncoding.DecodedLen(len(payload))) > max+3 {
		return nil, fmt.Errorf("data URL: %w", document.ErrTooLarge)
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("data URL base64: %w", ErrInvalidAttributes)
	}
	return data, nil
}
