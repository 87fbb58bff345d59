package selfkey

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/document"
)

// formField is one multipart part to build.
type formField struct {
	name, contentType, filename string
	data                        []byte
}

func buildForm(t testing.TB, fields ...formField) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name="%s"`, f.name)
		if f.filename != "" {
			disp += fmt.Sprintf(`; filename="%s"`, f.filename)
		}
		h.Set("Content-Disposition", disp)
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Write(f.data)
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func makePNG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const finalAttributes = `[
 {"id":"first_name","schemaId":"http://platform.selfkey.org/schema/attribute/first-name.json","data":{"value":"Ada"}},
 {"id":"last_name","schemaId":"http://platform.selfkey.org/schema/attribute/last-name.json","data":{"value":"Lovelace"}},
 {"id":"dob","schemaId":"http://platform.selfkey.org/schema/attribute/date-of-birth.json","data":{"value":"1815-12-10"}},
 {"id":"nat","schemaId":"http://platform.selfkey.org/schema/attribute/nationality.json","data":{"value":{"country":"GB","denonym":"British"}}},
 {"id":"passport","schemaId":"http://platform.selfkey.org/schema/attribute/passport.json","data":{"value":{"image":"$document-1","issued":"2019-02-19","expires":"2029-02-19","selfie":{"image":"$document-2"}}}}
]`

func TestParseUserMultipart(t *testing.T) {
	jpg := makeJPEG(t, 20, 10)
	secretJPG := withEXIF(jpg, "GPS 51.5N 0.12W")
	ct, body := buildForm(t,
		formField{name: "attributes", contentType: "application/json", data: []byte(finalAttributes)},
		formField{name: "meta", contentType: "application/json", data: []byte(`{"reference":"ref-123"}`)},
		formField{name: "$document-1", contentType: "image/jpeg", filename: "document-1", data: secretJPG},
		formField{name: "$document-2", contentType: "application/octet-stream", filename: "selfie", data: makePNG(t)},
	)
	req, err := ParseUsers(ct, bytes.NewReader(body), NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if req.MetaString("reference") != "ref-123" || len(req.Attributes) != 5 || len(req.Uploads) != 2 {
		t.Fatalf("req = %+v", req)
	}
	doc := req.Uploads["$document-1"]
	if doc.ContentType != document.JPEG || bytes.Contains(doc.Data, []byte("GPS 51.5N")) || !bytes.Equal(doc.Data, jpg) {
		t.Fatalf("document 1 not sanitised: %s, %d bytes", doc.ContentType, len(doc.Data))
	}
	if req.Uploads["$document-2"].ContentType != document.PNG {
		t.Fatalf("undeclared PNG stored as %s", req.Uploads["$document-2"].ContentType)
	}
	ex, err := req.Extract(NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range ex.Attributes {
		got[a.Meaning+"|"+a.Name] = a.Value
	}
	want := map[string]string{
		"first_name|first-name":                   "Ada",
		"last_name|last-name":                     "Lovelace",
		"date_of_birth|date-of-birth":             "1815-12-10",
		"nationality|nationality.country":         "GB",
		"nationality_denonym|nationality.denonym": "British",
		"document_issue_date|passport.issued":     "2019-02-19",
		"document_expiry_date|passport.expires":   "2029-02-19",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if len(ex.Documents) != 2 || ex.Documents[0].Name != "passport.image" || ex.Documents[1].Name != "passport.selfie.image" {
		t.Fatalf("documents = %+v", docNames(ex.Documents))
	}
}

func docNames(ds []providers.Document) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name+":"+d.ContentType)
	}
	return out
}

func TestParseUserMultipartSeedShape(t *testing.T) {
	// The seed sends the attribute list as a JSON string and uses the
	// schema URL as the id.
	attrs := `"[{\"id\":\"http://platform.selfkey.org/schema/attribute/passport.json\",\"data\":{\"value\":{\"image\":\"$document-1\"}}},` +
		`{\"id\":\"http://attribute-url/2\",\"data\":{\"value\":{\"image\":\"$document-2\"}}}]"`
	ct, body := buildForm(t,
		formField{name: "attributes", contentType: "application/json", data: []byte(attrs)},
		formField{name: "$document-1", contentType: "image/jpeg", data: makeJPEG(t, 4, 4)},
		formField{name: "$document-2", contentType: "image/jpeg", data: makeJPEG(t, 4, 4)},
	)
	req, err := ParseUserMultipart(ct, bytes.NewReader(body), NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := req.Extract(NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Documents) != 2 || ex.Documents[0].Name != "passport.image" {
		t.Fatalf("documents = %v", docNames(ex.Documents))
	}
}

func TestParseUserMultipartRefusals(t *testing.T) {
	jpg := makeJPEG(t, 16, 16)
	attrs := formField{name: "attributes", contentType: "application/json", data: []byte(finalAttributes)}
	small := NewLimits(int64(len(jpg)-1), 1<<20)
	var many []formField
	for i := 0; i < DefaultMaxParts+1; i++ {
		many = append(many, formField{name: fmt.Sprintf("f%d", i), data: []byte("x")})
	}
	tests := []struct {
		name    string
		fields  []formField
		limits  Limits
		mangle  func(ct string, body []byte) (string, []byte)
		wantErr error
	}{
		{"mislabelled html", []formField{attrs, {name: "$document-1", contentType: "image/jpeg", filename: "passport.jpg", data: []byte("<html><script>x</script></html>")}}, NewLimits(0, 0), nil, document.ErrUnsupportedType},
		{"png declared as jpeg", []formField{attrs, {name: "$document-1", contentType: "image/jpeg", filename: "passport.jpg", data: makePNG(t)}}, NewLimits(0, 0), nil, ErrFileMislabelled},
		{"oversize document", []formField{attrs, {name: "$document-1", contentType: "image/jpeg", data: jpg}}, small, nil, document.ErrTooLarge},
		{"oversize request", []formField{attrs, {name: "$document-1", data: jpg}, {name: "$document-2", data: jpg}}, NewLimits(int64(len(jpg)), int64(len(jpg))+200), nil, ErrRequestTooLarge},
		{"oversize attributes", []formField{{name: "attributes", data: bytes.Repeat([]byte(" "), 2<<20)}}, NewLimits(0, 0), nil, ErrRequestTooLarge},
		{"too many parts", many, NewLimits(0, 0), nil, ErrBadRequest},
		{"field twice", []formField{attrs, attrs}, NewLimits(0, 0), nil, ErrBadRequest},
		{"no attributes", []formField{{name: "$document-1", data: jpg}}, NewLimits(0, 0), nil, ErrNoAttributes},
		{"attributes not a list", []formField{{name: "attributes", data: []byte(`{"a":1}`)}}, NewLimits(0, 0), nil, ErrInvalidAttributes},
		{"empty list", []formField{{name: "attributes", data: []byte(`[]`)}}, NewLimits(0, 0), nil, ErrNoAttributes},
		{"bad meta", []formField{attrs, {name: "meta", data: []byte(`{`)}}, NewLimits(0, 0), nil, ErrBadRequest},
		{"truncated body", []formField{attrs, {name: "$document-1", data: jpg}}, NewLimits(0, 0), func(ct string, b []byte) (string, []byte) { return ct, b[:len(b)-40] }, ErrBadRequest},
		{"no boundary", []formField{attrs}, NewLimits(0, 0), func(string, []byte) (string, []byte) { return "multipart/form-data", []byte("x") }, ErrBadRequest},
		{"not multipart", []formField{attrs}, NewLimits(0, 0), func(_ string, b []byte) (string, []byte) { return "text/plain", b }, ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := buildForm(t, tt.fields...)
			if tt.mangle != nil {
				ct, body = tt.mangle(ct, body)
			}
			_, err := ParseUsers(ct, bytes.NewReader(body), tt.limits)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if st, _, _ := HTTPStatus(err); st != 400 {
				t.Fatalf("status %d", st)
			}
		})
	}
}

func TestParseUsersWritesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	// Over 1 MB per document, in 60 kB metadata segments: big enough that
	// a ParseMultipartForm with a small memory bound would spill to disk.
	big := makeJPEG(t, 8, 8)
	for i := 0; i < 20; i++ {
		big = withEXIF(big, strings.Repeat("m", 60000))
	}
	ct, body := buildForm(t,
		formField{name: "attributes", data: []byte(finalAttributes)},
		formField{name: "$document-1", contentType: "image/jpeg", filename: "a.jpg", data: big},
		formField{name: "$document-2", contentType: "image/jpeg", filename: "b.jpg", data: big},
	)
	if _, err := ParseUsers(ct, bytes.NewReader(body), NewLimits(0, 0)); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("temporary files written: %v %v", entries, err)
	}
}

func TestParseUsersJSON(t *testing.T) {
	body := `{"attributes":[
	 {"id":"email","schemaId":"http://platform.selfkey.org/schema/attribute/email.json","data":"ada@example.org"},
	 {"id":"passport","schemaId":"http://platform.selfkey.org/schema/attribute/passport.json","data":{"image":{"mimeType":"image/jpeg","size":1234,"content":"file-77"},"issued":"2019-02-19"}}
	],"meta":{"reference":"r1"}}`
	req, err := ParseUsers("application/json; charset=utf-8", strings.NewReader(body), NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := req.Extract(NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.FileRefs) != 1 || ex.FileRefs[0] != (FileRef{Meaning: "passport", Name: "passport.image", FileID: "file-77", MimeType: "image/jpeg"}) {
		t.Fatalf("file refs = %+v", ex.FileRefs)
	}
	if len(ex.Attributes) != 2 || ex.Attributes[0] != (providers.Attribute{Meaning: "email", Name: "email", Value: "ada@example.org"}) {
		t.Fatalf("attributes = %+v", ex.Attributes)
	}
	if req.MetaString("reference") != "r1" {
		t.Fatal("meta lost")
	}
	bare, err := ParseUsers("application/json", strings.NewReader(`[{"schemaId":"http://platform.selfkey.org/schema/attribute/email.json","data":"a@b.c"}]`), NewLimits(0, 0))
	if err != nil || len(bare.Attributes) != 1 {
		t.Fatalf("bare list: %+v %v", bare, err)
	}
}

func TestExtractRefusals(t *testing.T) {
	l := NewLimits(0, 0)
	tests := []struct {
		name  string
		attrs string
		want  error
	}{
		{"missing upload", `[{"schemaId":"http://platform.selfkey.org/schema/attribute/passport.json","data":{"image":"$document-9"}}]`, ErrInvalidAttributes},
		{"no schema", `[{"id":"x","data":"y"}]`, ErrInvalidAttributes},
		{"data URL not an image", `[{"schemaId":"http://platform.selfkey.org/schema/attribute/passport.json","data":{"image":{"mimeType":"image/jpeg","size":3,"content":"data:image/jpeg;base64,PGh0bWw+"}}}]`, document.ErrUnsupportedType},
		{"too deep", `[{"schemaId":"http://x/y.json","data":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":"k"}}}}}}}}}}}]`, ErrInvalidAttributes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs, err := parseAttributeList([]byte(tt.attrs))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Extract(attrs, nil, l); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMeaning(t *testing.T) {
	for schema, want := range map[string]string{
		SchemaURL("first-name"):           "first_name",
		SchemaURL("last-name"):            "last_name",
		SchemaURL("email"):                "email",
		SchemaURL("date-of-birth"):        "date_of_birth",
		SchemaURL("nationality"):          "nationality",
		SchemaURL("country-of-residency"): "country_of_residence",
		SchemaURL("passport"):             "passport",
		SchemaURL("phone-number"):         "phone",
		SchemaURL("physical-address"):     "address",
		SchemaURL("tax-id-number"):        "tax_id",
		"http://platform.selfkey.org/dev-schema/attribute/work-place.json": "work_place",
	} {
		if got := Meaning(schema); got != want {
			t.Errorf("Meaning(%s) = %s, want %s", schema, got, want)
		}
	}
}
