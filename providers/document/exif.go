package document

import (
	"bytes"
	"fmt"
)

// JPEG markers this file needs by name.
const (
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerTEM  = 0x01
	markerRST0 = 0xD0
	markerRST7 = 0xD7
	markerAPP0 = 0xE0
	markerAPP2 = 0xE2
	markerAP14 = 0xEE
	markerAP15 = 0xEF
	markerCOM  = 0xFE
)

// jfifHeaderLen is the JFIF APP0 payload without its thumbnail:
// "JFIF\0", version(2), units(1), densities(2+2), thumbnail size(1+1).
const jfifHeaderLen = 14

// StripEXIF returns the JPEG without its metadata segments, copying every
// other byte as is (no re-encoding, so no quality loss). It drops APP1 (EXIF
// and XMP, with GPS position, camera serial and the EXIF thumbnail), APP3 to
// APP13 and APP15 (IPTC, Photoshop, maker data), COM comments, a JFXX
// extension and the JFIF thumbnail, and anything after EOI. It keeps what
// decoders need to show the image faithfully: the JFIF APP0 header, APP2
// ICC_PROFILE colour profiles and the APP14 Adobe colour-transform flag.
// The EXIF orientation is dropped with the rest, so a rotated phone photo
// may show sideways.
func StripEXIF(data []byte) ([]byte, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != markerSOI {
		return nil, fmt.Errorf("strip exif: no JPEG start marker: %w", ErrMalformed)
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, markerSOI)
	i := 2
	for {
		if i >= len(data) {
			return nil, fmt.Errorf("strip exif: truncated before end marker: %w", ErrMalformed)
		}
		if data[i] != 0xFF {
			return nil, fmt.Errorf("strip exif: expected marker at %d: %w", i, ErrMalformed)
		}
		for i < len(data) && data[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(data) {
			return nil, fmt.Errorf("strip exif: truncated marker: %w", ErrMalformed)
		}
		m := data[i]
		i++
		switch {
		case m == markerEOI:
			return append(out, 0xFF, markerEOI), nil
		case m == markerTEM || (m >= markerRST0 && m <= markerRST7):
			out = append(out, 0xFF, m)
			continue
		case m == 0x00 || m == markerSOI:
			return nil, fmt.Errorf("strip exif: unexpected marker %#x: %w", m, ErrMalformed)
		}
		if i+2 > len(data) {
			return nil, fmt.Errorf("strip exif: truncated segment length: %w", ErrMalformed)
		}
		n := int(data[i])<<8 | int(data[i+1])
		if n < 2 || i+n > len(data) {
			return nil, fmt.Errorf("strip exif: bad segment length: %w", ErrMalformed)
		}
		payload := data[i+2 : i+n]
		i += n
		out = appendKept(out, m, payload)
		if m != markerSOS {
			continue
		}
		// Entropy-coded scan data runs to the next marker other than a
		// stuffed 0xFF00 or a restart marker; copy it verbatim.
		start := i
		for {
			if i+1 >= len(data) {
				return nil, fmt.Errorf("strip exif: truncated scan: %w", ErrMalformed)
			}
			if data[i] == 0xFF {
				next := data[i+1]
				if next != 0x00 && (next < markerRST0 || next > markerRST7) {
					break
				}
				i += 2
				continue
			}
			i++
		}
		out = append(out, data[start:i]...)
	}
}

// appendKept appends segment m with payload to out when it is one the
// decoder needs, rewriting a JFIF header without its thumbnail.
func appendKept(out []byte, m byte, payload []byte) []byte {
	switch {
	case m == markerAPP0:
		if len(payload) < jfifHeaderLen || !bytes.HasPrefix(payload, []byte("JFIF\x00")) {
			return out // JFXX thumbnails and anything unknown
		}
		h := append([]byte(nil), payload[:jfifHeaderLen]...)
		h[12], h[13] = 0, 0 // no thumbnail
		return appendSegment(out, m, h)
	case m == markerAPP2:
		if bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")) {
			return appendSegment(out, m, payload)
		}
		return out
	case m == markerAP14:
		if bytes.HasPrefix(payload, []byte("Adobe")) {
			return appendSegment(out, m, payload)
		}
		return out
	case m > markerAPP0 && m <= markerAP15, m == markerCOM:
		return out
	}
	return appendSegment(out, m, payload)
}

func appendSegment(out []byte, m byte, payload []byte) []byte {
	n := len(payload) + 2
	return append(append(out, 0xFF, m, byte(n>>8), byte(n)), payload...)
}
