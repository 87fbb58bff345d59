package selfkey

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/providers/document"
)

func TestParseFileUpload(t *testing.T) {
	jpg := makeJPEG(t, 12, 12)
	dirty := withEXIF(jpg, "SERIAL-1234")
	form := func(fields ...formField) (string, []byte) { return buildForm(t, fields...) }
	type fileCase struct {
		name    string
		ct      string
		body    []byte
		want    string
		wantErr error
	}
	var tests []fileCase
	add := func(name string, ct string, body []byte, want string, wantErr error) {
		tests = append(tests, fileCase{name, ct, body, want, wantErr})
	}
	ct, b := form(formField{name: "document", contentType: "image/jpeg", filename: "document", data: dirty})
	add("field document", ct, b, document.JPEG, nil)
	ct, b = form(formField{name: "file", contentType: "application/octet-stream", data: makePNG(t)})
	add("field file (seed)", ct, b, document.PNG, nil)
	ct, b = form(formField{name: "document", contentType: "application/pdf", filename: "bill.pdf", data: []byte("%PDF-1.4\n%%EOF\n")})
	add("pdf", ct, b, document.PDF, nil)
	ct, b = form(formField{name: "document", filename: "a", data: jpg}, formField{name: "file", filename: "b", data: jpg})
	add("two files", ct, b, "", ErrFileInvalid)
	ct, b = form(formField{name: "note", data: []byte("hi")})
	add("no file", ct, b, "", ErrNoFile)
	ct, b = form(formField{name: "document", contentType: "image/jpeg", filename: "id.jpg", data: []byte("MZ\x90\x00\x03")})
	add("exe as jpeg", ct, b, "", document.ErrUnsupportedType)
	add("json data URL", "application/json", []byte(`{"file":"data:image/jpeg;base64,`+base64.StdEncoding.EncodeToString(dirty)+`"}`), document.JPEG, nil)
	add("json plain base64", "application/json", []byte(`{"file":"`+base64.StdEncoding.EncodeToString(jpg)+`"}`), document.JPEG, nil)
	add("json empty", "application/json", []byte(`{}`), "", ErrNoFile)
	ct, b = form(formField{name: "document", contentType: "image/jpeg", filename: "id.jpg", data: makePNG(t)})
	add("png declared as jpeg", ct, b, "", ErrFileMislabelled)
	ct, b = form(formField{name: "document", contentType: "image/jpg", filename: "id.jpg", data: jpg})
	add("jpeg declared as image/jpg", ct, b, document.JPEG, nil)
	add("json data URL, png declared as jpeg", "application/json", []byte(`{"file":"data:image/jpeg;base64,`+base64.StdEncoding.EncodeToString(makePNG(t))+`"}`), "", ErrFileMislabelled)
	add("json data URL, pdf declared as png", "application/json", []byte(`{"file":"data:image/png;base64,`+base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n%%EOF\n"))+`"}`), "", ErrFileMislabelled)
	add("text body", "text/plain", []byte(`x`), "", ErrBadRequest)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, err := ParseFileUpload(tt.ct, bytes.NewReader(tt.body), NewLimits(0, 0))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if up.ContentType != tt.want || strings.Contains(string(up.Data), "SERIAL-1234") {
				t.Fatalf("upload %s, metadata kept: %v", up.ContentType, strings.Contains(string(up.Data), "SERIAL-1234"))
			}
		})
	}
}
