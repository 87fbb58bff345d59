package selfkey

import (
	"fmt"
	"io"
	"mime"
	"strings"
)

// ParseFileUpload reads POST /files and POST /users/file: a multipart body
// with exactly one document, in field "document" (the final wallet) or
// "file" (the seed), or a JSON body {"file":"data:<type>;base64,…"} (the
// seed shows a JSON body). The document is checked by content, bounded and
// stripped of metadata. No document is ErrNoFile; more than one is
// ErrFileInvalid.
func ParseFileUpload(contentType string, body io.Reader, l Limits) (Upload, error) {
	l = l.withDefaults()
	if isMultipart(contentType) {
		parts, err := readForm(contentType, body, l)
		if err != nil {
			return Upload{}, fmt.Errorf("selfkey: parse file: %w", err)
		}
		var files []formPart
		for _, p := range parts {
			if p.isFile {
				files = append(files, p)
			}
		}
		switch len(files) {
		case 0:
			return Upload{}, fmt.Errorf("selfkey: parse file: %w", ErrNoFile)
		case 1:
		default:
			return Upload{}, fmt.Errorf("selfkey: parse file: %d files: %w", len(files), ErrFileInvalid)
		}
		up, err := sanitizeUpload(files[0], l)
		if err != nil {
			return Upload{}, fmt.Errorf("selfkey: parse file: %w", err)
		}
		return up, nil
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return Upload{}, fmt.Errorf("selfkey: parse file: content type: %w", ErrBadRequest)
	}
	// base64 inflates by 4/3; allow for it and the JSON around it.
	data, err := readBounded(body, l.MaxFileBytes/3*4+l.MaxJSONBytes, "file body")
	if err != nil {
		return Upload{}, err
	}
	var b struct {
		File string `json:"file"`
	}
	if err := decodeJSON(data, &b, "file body"); err != nil {
		return Upload{}, err
	}
	if b.File == "" {
		return Upload{}, fmt.Errorf("selfkey: parse file: %w", ErrNoFile)
	}
	if !strings.HasPrefix(b.File, "data:") {
		b.File = "data:application/octet-stream;base64," + b.File
	}
	raw, err := decodeDataURL(b.File, l.MaxFileBytes)
	if err != nil {
		return Upload{}, fmt.Errorf("selfkey: parse file: %w", err)
	}
	declared, _, _ := strings.Cut(strings.TrimPrefix(b.File, "data:"), ";")
	up, err := sanitizeUpload(formPart{name: "file", isFile: true, data: raw, declaredType: declared}, l)
	if err != nil {
		return Upload{}, fmt.Errorf("selfkey: parse file: %w", err)
	}
	return up, nil
}
