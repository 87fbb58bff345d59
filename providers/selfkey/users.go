package selfkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/kycdesk/kycdesk/providers/document"
)

// Upload is one document received from the wallet, checked by content
// (JPEG, PNG or PDF), bounded in size and dimensions, with its metadata
// stripped. ContentType is the sniffed type, never the declared one.
type Upload struct {
	Field       string // the form field it came in ("$document-1", "document")
	ContentType string
	Data        []byte
	Width       int
	Height      int
}

// UsersRequest is the body of POST /users in either shape the wallet
// sends: multipart (part "attributes" with the attribute list as JSON, an
// optional "meta" part, and one "$document-<id>" part per document,
// referenced from values as "$document-<id>") or JSON ({"attributes":[…],
// "meta":{…}}, files referenced by the ids /users/file returned).
type UsersRequest struct {
	Attributes []WalletAttribute
	// Meta is the relying party's meta object, passed through by the
	// wallet as is (our verification reference travels here).
	Meta json.RawMessage
	// Uploads are the multipart documents by field name.
	Uploads map[string]Upload
}

// MetaString returns a top-level string field of Meta ("" when absent).
func (u UsersRequest) MetaString(key string) string { return metaString(u.Meta, key) }

func metaString(meta json.RawMessage, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(meta, &m) != nil {
		return ""
	}
	var s FlexString
	if json.Unmarshal(m[key], &s) != nil {
		return ""
	}
	return string(s)
}

// Extract maps the request's attributes to meanings (see Extract).
func (u UsersRequest) Extract(l Limits) (Extracted, error) {
	return Extract(u.Attributes, u.Uploads, l)
}

// ParseUsers reads a POST /users body of either shape, choosing by
// contentType. No attributes is ErrNoAttributes.
func ParseUsers(contentType string, body io.Reader, l Limits) (UsersRequest, error) {
	if isMultipart(contentType) {
		return ParseUserMultipart(contentType, body, l)
	}
	if mt, _, err := mime.ParseMediaType(contentType); contentType != "" && (err != nil || mt != "application/json") {
		return UsersRequest{}, fmt.Errorf("selfkey: parse users: content type: %w", ErrBadRequest)
	}
	l = l.withDefaults()
	data, err := readBounded(body, l.MaxJSONBytes, "users body")
	if err != nil {
		return UsersRequest{}, err
	}
	var req UsersRequest
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// The demo relying party takes the bare attribute list.
		req.Attributes, err = parseAttributeList(trimmed)
	} else {
		var b struct {
			Attributes json.RawMessage `json:"attributes"`
			Meta       json.RawMessage `json:"meta"`
		}
		if err := decodeJSON(trimmed, &b, "users body"); err != nil {
			return UsersRequest{}, err
		}
		req.Meta = b.Meta
		req.Attributes, err = parseAttributeList(b.Attributes)
	}
	if err != nil {
		return UsersRequest{}, fmt.Errorf("selfkey: parse users: %w", err)
	}
	return req, nil
}

// ParseUserMultipart reads a multipart POST /users body into memory within
// l (no temporary files). Every document part is sanitised with
// document.Sanitize; a part that is not a JPEG, PNG or PDF by content fails
// the request whatever its declared type.
func ParseUserMultipart(contentType string, body io.Reader, l Limits) (UsersRequest, error) {
	l = l.withDefaults()
	parts, err := readForm(contentType, body, l)
	if err != nil {
		return UsersRequest{}, fmt.Errorf("selfkey: parse users: %w", err)
	}
	req := UsersRequest{Uploads: map[string]Upload{}}
	gotAttributes := false
	for _, p := range parts {
		switch {
		case p.name == "attributes":
			gotAttributes = true
			if req.Attributes, err = parseAttributeList(p.data); err != nil {
				return UsersRequest{}, fmt.Errorf("selfkey: parse users: %w", err)
			}
		case p.name == "meta":
			if !json.Valid(p.data) {
				return UsersRequest{}, fmt.Errorf("selfkey: parse users: meta: %w", ErrBadRequest)
			}
			req.Meta = json.RawMessage(p.data)
		case p.isFile:
			up, err := sanitizeUpload(p, l)
			if err != nil {
				return UsersRequest{}, fmt.Errorf("selfkey: parse users: %w", err)
			}
			req.Uploads[p.name] = up
		}
	}
	if !gotAttributes {
		return UsersRequest{}, fmt.Errorf("selfkey: parse users: %w", ErrNoAttributes)
	}
	return req, nil
}

// parseAttributeList decodes the attribute list: a JSON array, or (as the
// seed shows it) a JSON string holding that array.
func parseAttributeList(data []byte) ([]WalletAttribute, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, ErrNoAttributes
	}
	if data[0] == '"' {
		var inner string
		if err := json.Unmarshal(data, &inner); err != nil {
			return nil, fmt.Errorf("attributes: %w", ErrBadRequest)
		}
		data = bytes.TrimSpace([]byte(inner))
	}
	var attrs []WalletAttribute
	if err := json.Unmarshal(data, &attrs); err != nil {
		return nil, fmt.Errorf("attributes: %w", ErrInvalidAttributes)
	}
	if len(attrs) == 0 {
		return nil, ErrNoAttributes
	}
	if len(attrs) > maxAttributes {
		return nil, fmt.Errorf("attributes: %d: %w", len(attrs), ErrInvalidAttributes)
	}
	return attrs, nil
}

func sanitizeUpload(p formPart, l Limits) (Upload, error) {
	clean, info, err := document.Sanitize(p.data, l.Document)
	if err != nil {
		return Upload{}, fmt.Errorf("document %s: %w", fieldLabel(p.name), err)
	}
	// A declared type is never trusted, but one that contradicts the
	// content is refused here, where the wallet can still send the file
	// again, not later when an application names it.
	if !document.MatchesDeclared(p.declaredType, info.ContentType) {
		return Upload{}, fmt.Errorf("document %s: %w", fieldLabel(p.name), ErrFileMislabelled)
	}
	return Upload{Field: p.name, ContentType: info.ContentType, Data: clean, Width: info.Width, Height: info.Height}, nil
}

// fieldLabel is a field name safe to put in an error.
func fieldLabel(name string) string {
	if len(name) > 40 || strings.ContainsAny(name, "\r\n") {
		return "(field)"
	}
	return fmt.Sprintf("%q", name)
}
