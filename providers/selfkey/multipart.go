package selfkey

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/kycdesk/kycdesk/providers/document"
)

// formPart is one multipart/form-data part read into memory.
type formPart struct {
	name         string
	declaredType string // as sent; never trusted, but one the content contradicts is refused (sanitizeUpload)
	isFile       bool
	data         []byte
}

// boundedReader fails with ErrRequestTooLarge once more than n bytes are
// read, so a body is never read past its bound.
type boundedReader struct {
	r   io.Reader
	n   int64
	err error
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.n+1 {
		p = p[:b.n+1]
	}
	n, err := b.r.Read(p)
	if int64(n) <= b.n {
		b.n -= int64(n)
		return n, err
	}
	n = int(b.n)
	b.n = 0
	b.err = ErrRequestTooLarge
	return n, b.err
}

// isMultipart reports whether contentType is multipart/form-data.
func isMultipart(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "multipart/form-data"
}

// isFilePart reports whether a part carries a document rather than JSON:
// it has a file name, or its field is a document field.
func isFilePart(p *multipart.Part) bool {
	name := p.FormName()
	return p.FileName() != "" || strings.HasPrefix(name, "$document-") || name == "document" || name == "file"
}

// readForm reads a multipart/form-data body part by part with
// mime/multipart's Reader (never ParseMultipartForm, which spills to temp
// files), holding each part in memory within l: a document part up to
// MaxFileBytes, any other part up to MaxJSONBytes, the whole body up to
// MaxRequestBytes, at most MaxParts parts, no field twice.
func readForm(contentType string, body io.Reader, l Limits) ([]formPart, error) {
	l = l.withDefaults()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return nil, fmt.Errorf("selfkey: read form: not multipart/form-data: %w", ErrBadRequest)
	}
	boundary := params["boundary"]
	if boundary == "" || len(boundary) > 70 {
		return nil, fmt.Errorf("selfkey: read form: bad boundary: %w", ErrBadRequest)
	}
	br := &boundedReader{r: body, n: l.MaxRequestBytes}
	mr := multipart.NewReader(br, boundary)
	var parts []formPart
	seen := map[string]bool{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, formError(br, "next part", err)
		}
		if len(parts) >= l.MaxParts {
			p.Close()
			return nil, fmt.Errorf("selfkey: read form: more than %d parts: %w", l.MaxParts, ErrBadRequest)
		}
		name := p.FormName()
		if name == "" {
			p.Close()
			return nil, fmt.Errorf("selfkey: read form: part without a name: %w", ErrBadRequest)
		}
		if seen[name] {
			p.Close()
			return nil, fmt.Errorf("selfkey: read form: field sent twice: %w", ErrBadRequest)
		}
		seen[name] = true
		fp := formPart{name: name, declaredType: p.Header.Get("Content-Type"), isFile: isFilePart(p)}
		limit := l.MaxJSONBytes
		if fp.isFile {
			limit = l.MaxFileBytes
		}
		fp.data, err = io.ReadAll(io.LimitReader(p, limit+1))
		p.Close()
		if err != nil {
			return nil, formError(br, "read part", err)
		}
		if int64(len(fp.data)) > limit {
			if fp.isFile {
				return nil, fmt.Errorf("selfkey: read form: document over %d bytes: %w", limit, document.ErrTooLarge)
			}
			return nil, fmt.Errorf("selfkey: read form: field over %d bytes: %w", limit, ErrRequestTooLarge)
		}
		parts = append(parts, fp)
	}
	return parts, nil
}

// formError tells a body over its bound from a malformed one.
func formError(br *boundedReader, step string, err error) error {
	if br.err != nil || errors.Is(err, ErrRequestTooLarge) {
		return fmt.Errorf("selfkey: read form: %s: %w", step, ErrRequestTooLarge)
	}
	return fmt.Errorf("selfkey: read form: %s: %w", step, ErrBadRequest)
}
