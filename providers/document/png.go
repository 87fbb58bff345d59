package document

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// pngMetadataChunk reports whether typ is an ancillary chunk that carries
// text, EXIF or a timestamp rather than pixels or colour information.
func pngMetadataChunk(typ string) bool {
	switch typ {
	case "tEXt", "zTXt", "iTXt", "eXIf", "tIME":
		return true
	}
	return false
}

// StripPNGMetadata returns the PNG without its text, EXIF and time chunks
// and without anything after IEND, copying the other chunks byte for byte.
func StripPNGMetadata(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, pngMagic) {
		return nil, fmt.Errorf("strip png metadata: no PNG signature: %w", ErrMalformed)
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngMagic...)
	i := len(pngMagic)
	for {
		if i+8 > len(data) {
			return nil, fmt.Errorf("strip png metadata: truncated before IEND: %w", ErrMalformed)
		}
		n := binary.BigEndian.Uint32(data[i : i+4])
		typ := string(data[i+4 : i+8])
		end := uint64(i) + 12 + uint64(n)
		if n > 1<<31-1 || end > uint64(len(data)) {
			return nil, fmt.Errorf("strip png metadata: bad chunk length: %w", ErrMalformed)
		}
		if !pngMetadataChunk(typ) {
			out = append(out, data[i:end]...)
		}
		i = int(end)
		if typ == "IEND" {
			return out, nil
		}
	}
}
