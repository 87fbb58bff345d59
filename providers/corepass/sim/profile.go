package sim

import (
	"bytes"
	"crypto/sha3"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	"github.com/kycdesk/kycdesk/providers/corepass"
)

// Profile is what one simulated user has verified in the CorePass app:
// item name (SH_Passport_DOB, SH_EMAIL, ...) to value. Images are base64
// PNG, as they travel in the data callback's fieldValue.
type Profile map[string]string

// Verified reports whether the user has verified item.
func (p Profile) Verified(item string) bool {
	_, ok := p[item]
	return ok
}

// DefaultProfile is a realistic but fake person derived from the Core ID
// (the same ID always gives the same person): an ID card and a passport
// with every field verified, plus email and phone. No driver licence or
// residence permit, so tests can see a document kind missing.
func DefaultProfile(coreID string) Profile {
	h := sha3.Sum256([]byte(strings.ToLower(coreID)))
	pick := func(i int, list []string) string { return list[int(h[i])%len(list)] }

	female := h[0]%2 == 0
	first := pick(1, []string{"James", "Tomas", "Lukas", "Mateo", "Noah", "Jakub"})
	gender := "M"
	if female {
		first = pick(1, []string{"Jana", "Eva", "Sofia", "Lucia", "Emma", "Alena"})
		gender = "F"
	}
	last := pick(2, []string{"Novak", "Horvath", "Meyer", "Rossi", "Jansen", "Garcia", "Kowalski", "Dvorak"})
	country := pick(3, []string{"CZE", "SVK", "AUT", "DEU", "NLD", "ESP", "POL", "ITA"})
	dob := fmt.Sprintf("%04d-%02d-%02d", 1960+int(h[4])%45, 1+int(h[5])%12, 1+int(h[6])%28)
	issueYear := 2016 + int(h[7])%8
	issued := fmt.Sprintf("%04d-%02d-%02d", issueYear, 1+int(h[8])%12, 1+int(h[9])%28)
	expires := fmt.Sprintf("%04d-%s", issueYear+10, issued[5:])

	p := Profile{
		corepass.ItemEmail: strings.ToLower(first+"."+last) + "@example.com",
		corepass.ItemPhone: fmt.Sprintf("+420 6%02d %03d %03d", h[10]%100, int(h[11])*3%1000, int(h[12])*3%1000),
	}
	for i, doc := range []corepass.DocType{corepass.IDCard, corepass.Passport} {
		number := fmt.Sprintf("%s%08d", map[corepass.DocType]string{corepass.IDCard: "ID", corepass.Passport: "P"}[doc],
			(int(h[13+i])<<16|int(h[15+i])<<8|int(h[17+i]))%100000000)
		values := map[string]string{
			corepass.MeaningFullName:        first + " " + last,
			corepass.MeaningDateOfBirth:     dob,
			corepass.MeaningExpiryDate:      expires,
			corepass.MeaningIssueDate:       issued,
			corepass.MeaningDocumentNumber:  number,
			corepass.MeaningGender:          gender,
			corepass.MeaningDocumentCountry: country,
			corepass.MeaningDocumentImage:   fakeImage(160, 100, h[20+i]),
			corepass.MeaningFaceImage:       fakeImage(64, 80, h[22+i]),
			corepass.MeaningAMLCheck:        "passed",
			corepass.MeaningAMLDetail:       "no match on sanctions, PEP or adverse-media lists (simulated)",
		}
		for meaning, v := range values {
			item, _ := corepass.ItemFor(doc, meaning)
			p[item] = v
		}
	}
	return p
}

// fakeImage draws a small two-tone PNG (a stand-in for a document scan or a
// selfie) and returns it base64-encoded.
func fakeImage(w, h int, tint byte) string {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg := color.RGBA{R: 200, G: 210 + tint%40, B: 230, A: 255}
	fg := color.RGBA{R: 40 + tint%120, G: 60, B: 110, A: 255}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := bg
			if y < h/5 || (x > w/10 && x < w/3 && y > h/3 && y < h*5/6) {
				c = fg
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to a bytes.Buffer cannot fail
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// profile returns the user's profile: configured, default, or none.
func (s *Server) profile(coreID string) Profile {
	if p, ok := s.cfg.Users[coreID]; ok {
		return p
	}
	if s.cfg.NoDefaultProfile {
		return Profile{}
	}
	return DefaultProfile(coreID)
}
