package selfkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// ApplicationRequest is the body of POST /applications:
// {"templateId", "attributes":[{id, schemaId, data}], "files"} (files is
// the seed's addition; the final wallet references files inside the
// attribute values instead).
type ApplicationRequest struct {
	TemplateID string
	Attributes []WalletAttribute
	// Files are file ids listed beside the attributes (seed).
	Files []string
	// Meta, when the relying party's config passes one.
	Meta json.RawMessage
}

// MetaString returns a top-level string field of Meta ("" when absent).
func (a ApplicationRequest) MetaString(key string) string { return metaString(a.Meta, key) }

// maxFileIDs bounds the files list of one application.
const maxFileIDs = 50

// ParseApplication reads a POST /applications JSON body within l. A missing
// templateId is ErrBadRequest; no attributes is ErrNoAttributes.
func ParseApplication(body io.Reader, l Limits) (ApplicationRequest, error) {
	l = l.withDefaults()
	data, err := readBounded(body, l.MaxJSONBytes, "application body")
	if err != nil {
		return ApplicationRequest{}, err
	}
	var b struct {
		TemplateID FlexString      `json:"templateId"`
		Attributes json.RawMessage `json:"attributes"`
		Files      json.RawMessage `json:"files"`
		Meta       json.RawMessage `json:"meta"`
	}
	if err := decodeJSON(data, &b, "application body"); err != nil {
		return ApplicationRequest{}, err
	}
	if b.TemplateID == "" || len(b.TemplateID) > 128 {
		return ApplicationRequest{}, fmt.Errorf("selfkey: parse application: templateId: %w", ErrBadRequest)
	}
	attrs, err := parseAttributeList(b.Attributes)
	if err != nil {
		return ApplicationRequest{}, fmt.Errorf("selfkey: parse application: %w", err)
	}
	files, err := parseFileIDs(b.Files)
	if err != nil {
		return ApplicationRequest{}, fmt.Errorf("selfkey: parse application: %w", err)
	}
	return ApplicationRequest{TemplateID: string(b.TemplateID), Attributes: attrs, Files: files, Meta: b.Meta}, nil
}

// parseFileIDs reads the seed's files list: ids as strings or numbers, or
// objects carrying id, fileId or content.
func parseFileIDs(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("files: %w", ErrBadRequest)
	}
	if len(items) > maxFileIDs {
		return nil, fmt.Errorf("files: %d: %w", len(items), ErrBadRequest)
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		var id FlexString
		if err := json.Unmarshal(it, &id); err != nil {
			var obj struct {
				ID      FlexString `json:"id"`
				FileID  FlexString `json:"fileId"`
				Content FlexString `json:"content"`
			}
			if err := json.Unmarshal(it, &obj); err != nil {
				return nil, fmt.Errorf("files: %w", ErrBadRequest)
			}
			id = obj.ID
			if id == "" {
				id = obj.FileID
			}
			if id == "" {
				id = obj.Content
			}
		}
		if id == "" || len(id) > 128 {
			return nil, fmt.Errorf("files: bad id: %w", ErrBadRequest)
		}
		ids = append(ids, string(id))
	}
	return ids, nil
}
