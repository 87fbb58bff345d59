package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"time"
)

// Person is the identity a simulated user shares through KYC Connect.
type Person struct {
	GivenName  string
	FamilyName string
	// DOB is MM/DD/YYYY, the format Blockpass documents.
	DOB     string
	Email   string
	Phone   Phone
	Address Address
}

// Phone is the phone identity; Blockpass sends it as a JSON string.
type Phone struct {
	CountryCode  string `json:"countryCode"`  // ISO 3166-1 alpha-3
	CountryCode2 string `json:"countryCode2"` // ISO 3166-1 alpha-2
	PhoneNumber  string `json:"phoneNumber"`  // E.164
	Number       string `json:"number"`       // national number
}

// Address is the address identity; Blockpass sends it as a JSON string.
type Address struct {
	Address    string `json:"address"`
	ExtraInfo  string `json:"extraInfo"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"` // ISO 3166-1 alpha-3
}

func givenNames() [24]string {
	return [...]string{"Amelia", "Noah", "Sofia", "Liam", "Mia", "Lucas", "Aiko", "Mateo", "Zara", "Elias",
		"Ingrid", "Kwame", "Leila", "Tomasz", "Priya", "Jonas", "Chloé", "Rafael", "Nadia", "Oskar",
		"Yuki", "Fatima", "Henrik", "Imani"}
}

func familyNames() [24]string {
	return [...]string{"Whitfield", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Haddad", "Fernández",
		"Novak", "Brennan", "Castillo", "Mensah", "Rossi", "Schneider", "Duarte", "Nguyen",
		"Petrov", "Al-Sayed", "Larsen", "Müller", "Kaur", "O'Neill", "Silva", "Jansen"}
}

// place is a city with the parts of an address and phone that go with it.
type place struct {
	city, state, postal, country3, country2, dial, street string
}

func places() [8]place {
	return [...]place{
		{"London", "", "EC1A 1BB", "GBR", "GB", "44", "Baker Street"},
		{"Berlin", "Berlin", "10115", "DEU", "DE", "49", "Invalidenstraße"},
		{"Singapore", "", "049315", "SGP", "SG", "65", "Raffles Place"},
		{"Lisbon", "Lisboa", "1100-148", "PRT", "PT", "351", "Rua Augusta"},
		{"Austin", "TX", "78701", "USA", "US", "1", "Congress Avenue"},
		{"Nairobi", "Nairobi", "00100", "KEN", "KE", "254", "Moi Avenue"},
		{"Warsaw", "Mazowieckie", "00-001", "POL", "PL", "48", "Nowy Świat"},
		{"Toronto", "ON", "M5H 2N2", "CAN", "CA", "1", "Bay Street"},
	}
}

// mix is splitmix64: a cheap, well-spread hash of an index.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// FakePerson is a deterministic, realistic-looking fake identity for n.
func FakePerson(n uint64) Person {
	h := mix(n)
	given := givenNames()[h%24]
	family := familyNames()[(h>>8)%24]
	p := places()[(h>>16)%8]
	born := time.Date(1950+int((h>>24)%55), time.Month(1+(h>>32)%12), 1+int((h>>40)%28), 0, 0, 0, 0, time.UTC)
	national := fmt.Sprintf("7%09d", (h>>20)%1_000_000_000)
	local := strings.NewReplacer("é", "e", "ü", "u", "'", "", "-", "").Replace(strings.ToLower(given + "." + family))
	return Person{
		GivenName:  given,
		FamilyName: family,
		DOB:        born.Format("01/02/2006"),
		Email:      fmt.Sprintf("%s.%d@example.com", local, n%10000),
		Phone:      Phone{CountryCode: p.country3, CountryCode2: p.country2, PhoneNumber: "+" + p.dial + national, Number: national},
		Address: Address{
			Address:    fmt.Sprintf("%d %s", 1+(h>>48)%240, p.street),
			ExtraInfo:  fmt.Sprintf("Flat %d", 1+(h>>56)%30),
			City:       p.city,
			State:      p.state,
			PostalCode: p.postal,
			Country:    p.country3,
		},
	}
}

// fakeImage is a small solid image (a stand-in for a selfie or ID scan)
// coloured by seed, as JPEG or PNG.
func fakeImage(seed uint64, asPNG bool) []byte {
	h := mix(seed)
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	c := color.RGBA{R: uint8(h), G: uint8(h >> 8), B: uint8(h >> 16), A: 255}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			if (x/4+y/4)%2 == 0 {
				img.Set(x, y, c)
			} else {
				img.Set(x, y, color.RGBA{R: 240, G: 240, B: 240, A: 255})
			}
		}
	}
	var buf bytes.Buffer
	if asPNG {
		_ = png.Encode(&buf, img) // writing to a bytes.Buffer cannot fail
	} else {
		_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70})
	}
	return buf.Bytes()
}

// fakeCerts are the certificates a reviewed candidate carries, as the JSON
// strings Blockpass sends: a document/face check and an AML screening (with
// a PEP hit for blocked candidates).
func fakeCerts(p Person, status string, issued time.Time) map[string]string {
	face := "CLEAR"
	if status == "rejected" || status == "review_requested" {
		face = "CONSIDER"
	}
	doc := map[string]any{
		"@context":     "https://schema.org",
		"@type":        "Certificate",
		"issuer":       "Blockpass Simulator",
		"issuanceDate": issued.UTC().Format(time.RFC3339),
		"claim":        map[string]any{"documentCheck": "CLEAR", "faceMatch": face},
	}
	report := map[string]any{"matchedNumber": 0, "matchedEntities": []any{}}
	review := "Name not found in Sanctions and PEP list"
	if status == "blocked" {
		report = map[string]any{"matchedNumber": 1, "matchedEntities": []any{map[string]any{
			"firstName": p.GivenName, "middleName": "", "lastName": p.FamilyName, "matchRate": 96,
			"dob": p.DOB, "category": "PEP", "primaryLocation": p.Address.City, "matchedFields": []string{"name", "dob"},
		}}}
		review = "Possible match found in Sanctions and PEP list"
	}
	aml := map[string]any{
		"@context": "https://schema.org",
		"@type":    "Certificate",
		"Claim":    map[string]any{"reviewBody": review, "_customFields": map[string]any{"report": report}},
	}
	return map[string]string{"onfido-service-cert": mustJSON(doc), "member_check_cert": mustJSON(aml)}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values are marshalled here
	}
	return string(b)
}
