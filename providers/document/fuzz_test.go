package document

import (
	"bytes"
	"testing"
)

func FuzzStripEXIF(f *testing.F) {
	plain := makeJPEG(f, 8, 8)
	f.Add(plain)
	f.Add(insertAfterSOI(plain, exifSegment("GPS"), segment(0xFE, []byte("c"))))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xD9})
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0x00, 0xFF, 0xD0, 0xFF, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := StripEXIF(data)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(out, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
			t.Fatalf("output not framed by SOI/EOI")
		}
		if len(out) > len(data) {
			t.Fatalf("output grew: %d > %d", len(out), len(data))
		}
		again, err := StripEXIF(out)
		if err != nil {
			t.Fatalf("stripped output no longer parses: %v", err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent")
		}
	})
}

func FuzzCheck(f *testing.F) {
	f.Add(makeJPEG(f, 4, 4))
	f.Add(makePNG(f, 4, 4))
	f.Add(pngHeaderOnly(1<<20, 1<<20))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Check(data, Limits{MaxBytes: 1 << 20, MaxWidth: 4096, MaxHeight: 4096})
		if err != nil {
			return
		}
		if info.Width > 4096 || info.Height > 4096 {
			t.Fatalf("dimensions %dx%d passed", info.Width, info.Height)
		}
	})
}
