package document

import (
	"bytes"
	"errors"
	"image/jpeg"
	"testing"
)

func TestSniff(t *testing.T) {
	jpg := makeJPEG(t, 8, 8)
	pngData := makePNG(t, 8, 8)
	tests := []struct {
		name string
		data []byte
		want string
		err  error
	}{
		{"jpeg", jpg, JPEG, nil},
		{"png", pngData, PNG, nil},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), PDF, nil},
		{"html named passport.jpg", []byte("<html><script>alert(1)</script></html>"), "", ErrUnsupportedType},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "", ErrUnsupportedType},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "", ErrUnsupportedType},
		{"zip", []byte("PK\x03\x04rest"), "", ErrUnsupportedType},
		{"pdf not at start", []byte("junk%PDF-1.4"), "", ErrUnsupportedType},
		{"empty", nil, "", ErrUnsupportedType},
		{"two jpeg bytes", []byte{0xFF, 0xD8}, "", ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.data)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("Sniff err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("Sniff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	jpg := makeJPEG(t, 40, 30)
	pngData := makePNG(t, 20, 10)
	tests := []struct {
		name   string
		data   []byte
		limits Limits
		want   Info
		err    error
	}{
		{"jpeg within limits", jpg, Limits{}, Info{JPEG, 40, 30}, nil},
		{"png within limits", pngData, Limits{}, Info{PNG, 20, 10}, nil},
		{"pdf has no dimensions", []byte("%PDF-1.4\n%%EOF\n"), Limits{}, Info{PDF, 0, 0}, nil},
		{"oversize file", jpg, Limits{MaxBytes: int64(len(jpg) - 1)}, Info{}, ErrTooLarge},
		{"exactly the limit", jpg, Limits{MaxBytes: int64(len(jpg))}, Info{JPEG, 40, 30}, nil},
		{"mislabelled text", []byte("name,passport\nAda,X123\n"), Limits{}, Info{}, ErrUnsupportedType},
		{"too wide", jpg, Limits{MaxWidth: 39}, Info{}, ErrDimensions},
		{"too tall", pngData, Limits{MaxHeight: 9}, Info{}, ErrDimensions},
		{"too many pixels", jpg, Limits{MaxPixels: 40*30 - 1}, Info{}, ErrDimensions},
		{"bomb header", pngHeaderOnly(50000, 50000), Limits{}, Info{}, ErrDimensions},
		{"jpeg magic then garbage", append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00}, bytes.Repeat([]byte{1}, 20)...), Limits{}, Info{}, ErrMalformed},
		{"png bad crc", append(append([]byte(nil), pngMagic...), 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 1, 2, 3, 4), Limits{}, Info{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(tt.data, tt.limits)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Check err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Check = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStripEXIFRemovesMetadata(t *testing.T) {
	plain := makeJPEG(t, 32, 24)
	icc := segment(0xE2, []byte("ICC_PROFILE\x00\x01\x01fake-profile"))
	adobe := segment(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01"))
	jfifThumb := segment(0xE0, append([]byte("JFIF\x00\x01\x02\x00\x00\x48\x00\x48\x01\x01"), []byte("THUMB-SECRET")...))
	tests := []struct {
		name    string
		segs    [][]byte
		trailer []byte
		gone    []string
		kept    [][]byte
	}{
		{"exif gps", [][]byte{exifSegment("GPS 48.8584N 2.2945E serial CAM-123")}, nil, []string{"GPS 48.8584N", "Exif\x00\x00"}, nil},
		{"xmp", [][]byte{segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>Ada Lovelace</x:xmpmeta>"))}, nil, []string{"Ada Lovelace"}, nil},
		{"comment and iptc", [][]byte{segment(0xFE, []byte("owner: Ada")), segment(0xED, []byte("Photoshop 3.0\x00IPTC-SECRET"))}, nil, []string{"owner: Ada", "IPTC-SECRET"}, nil},
		{"jfif thumbnail", [][]byte{jfifThumb}, nil, []string{"THUMB-SECRET"}, [][]byte{[]byte("JFIF\x00")}},
		{"icc and adobe kept", [][]byte{icc, exifSegment("SECRET")}, nil, []string{"SECRET"}, [][]byte{icc}},
		{"adobe kept", [][]byte{adobe}, nil, nil, [][]byte{adobe}},
		{"data after EOI", nil, []byte("APPENDED-ZIP-PK\x03\x04"), []string{"APPENDED-ZIP"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append(insertAfterSOI(plain, tt.segs...), tt.trailer...)
			out, err := StripEXIF(in)
			if err != nil {
				t.Fatalf("StripEXIF: %v", err)
			}
			for _, s := range tt.gone {
				if !bytes.Contains(in, []byte(s)) {
					t.Fatalf("test input lacks %q", s)
				}
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("%q survived stripping", s)
				}
			}
			for _, k := range tt.kept {
				if !bytes.Contains(out, k) {
					t.Errorf("needed segment %q was removed", k)
				}
			}
			if !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
				t.Error("output does not end with EOI")
			}
			assertSamePixels(t, plain, out)
			again, err := StripEXIF(out)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("stripping twice changed the file (err %v)", err)
			}
		})
	}
}

func TestStripEXIFKeepsScanBytes(t *testing.T) {
	plain := makeJPEG(t, 64, 64)
	out, err := StripEXIF(insertAfterSOI(plain, exifSegment("x")))
	if err != nil {
		t.Fatal(err)
	}
	// jpeg.Encode writes no APPn, so stripping must give back the very bytes.
	if !bytes.Equal(out, plain) {
		t.Fatalf("re-encoded or altered: %d bytes, want %d", len(out), len(plain))
	}
}

func TestStripEXIFMalformed(t *testing.T) {
	plain := makeJPEG(t, 8, 8)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"png", makePNG(t, 2, 2)},
		{"soi only", []byte{0xFF, 0xD8}},
		{"truncated", plain[:len(plain)/2]},
		{"no EOI", plain[:len(plain)-2]},
		{"segment length past end", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x00}},
		{"segment length below 2", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 0xFF, 0xD9}},
		{"byte where marker expected", []byte{0xFF, 0xD8, 0x12, 0xFF, 0xD9}},
		{"second SOI", []byte{0xFF, 0xD8, 0xFF, 0xD8, 0xFF, 0xD9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := StripEXIF(tt.data); !errors.Is(err, ErrMalformed) {
				t.Fatalf("StripEXIF err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestStripPNGMetadata(t *testing.T) {
	plain := makePNG(t, 12, 9)
	in := insertPNGChunk(plain, pngChunk("tEXt", []byte("Author\x00Ada Lovelace")))
	in = insertPNGChunk(in, pngChunk("eXIf", []byte("MM\x00\x2aGPS-SECRET")))
	in = append(in, []byte("TRAILING-SECRET")...)
	out, err := StripPNGMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Ada Lovelace", "GPS-SECRET", "TRAILING-SECRET"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%q survived", s)
		}
	}
	if !bytes.Equal(out, plain) {
		t.Errorf("pixel chunks changed")
	}
	if _, err := StripPNGMetadata(plain[:len(plain)-5]); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated PNG: err = %v", err)
	}
}

func TestSanitize(t *testing.T) {
	plain := makeJPEG(t, 16, 16)
	out, info, err := Sanitize(insertAfterSOI(plain, exifSegment("GPS-SECRET")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{JPEG, 16, 16}) || bytes.Contains(out, []byte("GPS-SECRET")) {
		t.Fatalf("Sanitize = %+v, secret kept %v", info, bytes.Contains(out, []byte("GPS-SECRET")))
	}
	if _, _, err := Sanitize([]byte("MZ\x90\x00 not an image"), Limits{}); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("executable: err = %v", err)
	}
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	if out, info, err := Sanitize(pdf, Limits{}); err != nil || info.ContentType != PDF || !bytes.Equal(out, pdf) {
		t.Fatalf("pdf: %v %+v", err, info)
	}
}

func assertSamePixels(t *testing.T, a, b []byte) {
	t.Helper()
	ia, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatalf("decode original: %v", err)
	}
	ib, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode stripped: %v", err)
	}
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("bounds %v != %v", ia.Bounds(), ib.Bounds())
	}
	for y := ia.Bounds().Min.Y; y < ia.Bounds().Max.Y; y++ {
		for x := ia.Bounds().Min.X; x < ia.Bounds().Max.X; x++ {
			if ia.At(x, y) != ib.At(x, y) {
				t.Fatalf("pixel %d,%d differs", x, y)
			}
		}
	}
}

func TestMatchesDeclared(t *testing.T) {
	for _, c := range []struct {
		declared, sniffed string
		want              bool
	}{
		{"", PNG, true},
		{"application/octet-stream", PDF, true},
		{"image/jpeg", JPEG, true},
		{"IMAGE/JPEG; charset=binary", JPEG, true},
		{"image/jpg", JPEG, true},
		{"image/pjpeg", JPEG, true},
		{"image/jpeg", PNG, false},
		{"image/png", PDF, false},
		{"application/pdf", JPEG, false},
		{"text/html", PNG, false},
	} {
		if got := MatchesDeclared(c.declared, c.sniffed); got != c.want {
			t.Errorf("MatchesDeclared(%q, %q) = %v, want %v", c.declared, c.sniffed, got, c.want)
		}
	}
}
