package blockpass

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// loadCandidate reads a testdata reply in the API envelope.
func loadCandidate(t *testing.T, name string) Candidate {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Data Candidate `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	return env.Data
}

func attrs(u providers.Update) map[string]string {
	m := map[string]string{}
	for _, a := range u.Attributes {
		m[a.Meaning+"|"+a.Name] = a.Value
	}
	return m
}

func TestExtractFullCandidate(t *testing.T) {
	c := loadCandidate(t, "candidate_full.json")
	u := Extract(c)

	if u.Reference != "kd-7f3a9c" || u.ProviderRef != "5ffffb44baaaaf001236b1d1" {
		t.Errorf("refs = %q/%q", u.Reference, u.ProviderRef)
	}
	if u.ProviderStatus != "approved" || u.Status != providers.StatusApproved {
		t.Errorf("status = %q/%q", u.ProviderStatus, u.Status)
	}
	if want := time.Date(2021, 1, 15, 10, 0, 0, 0, time.UTC); !u.At.Equal(want) {
		t.Errorf("At = %v, want the approval date %v", u.At, want)
	}
	if want := time.Date(2021, 1, 15, 10, 0, 10, 0, time.UTC); !c.ArchiveAt().Equal(want) {
		t.Errorf("ArchiveAt = %v, want %v", c.ArchiveAt(), want)
	}

	got := attrs(u)
	want := map[string]string{
		"full_name|given_name+family_name": "Jane Doe",
		"given_name|given_name":            "Jane",
		"family_name|family_name":          "Doe",
		"date_of_birth|dob":                "1990-05-01",
		"email|email":                      "jane.doe@example.com",
		"phone|phone":                      "+351912345678",
		"phone_country|phone.countryCode2": "PT",
		"address|address":                  "12 Rua Augusta, 3 Esq, Lisbon, Lisboa, 1100-148, PRT",
		"address_line|address.address":     "12 Rua Augusta",
		"address_extra|address.extraInfo":  "3 Esq",
		"city|address.city":                "Lisbon",
		"state|address.state":              "Lisboa",
		"postal_code|address.postalCode":   "1100-148",
		"country|address.country":          "PRT",
		"other|nickname":                   "JD",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d attributes, want %d: %v", len(got), len(want), got)
	}
	if u.Attributes[0].Meaning != MeaningFullName {
		t.Errorf("first attribute is %s, want full_name first", u.Attributes[0].Meaning)
	}

	docs := map[string]providers.Document{}
	for _, d := range u.Documents {
		docs[d.Name] = d
	}
	for name, ct := range map[string]string{
		"selfie.jpg":                    "image/jpeg",
		"selfie_national_id.png":        "image/png",
		"proof_of_address.b64":          "text/plain",
		"cert-member_check_cert.json":   "application/json",
		"cert-onfido-service-cert.json": "application/json",
	} {
		d, ok := docs[name]
		if !ok {
			t.Errorf("document %s missing; have %v", name, keys(docs))
			continue
		}
		if d.ContentType != ct || len(d.Data) == 0 {
			t.Errorf("document %s: type %s, %d bytes; want %s", name, d.ContentType, len(d.Data), ct)
		}
	}
	if !strings.HasPrefix(string(docs["selfie.jpg"].Data), "\xff\xd8\xff") {
		t.Error("selfie.jpg is not the decoded JPEG")
	}

	certs := map[string]string{}
	for _, c := range u.Certificates {
		certs[c.Name] = c.Value
	}
	if certs[CertBlockPassID] != "5c3d2a10aa00bb11cc22dd33" {
		t.Errorf("blockPassID certificate = %q", certs[CertBlockPassID])
	}
	aml := certs["member_check_cert"]
	for _, pii := range []string{"Jane", "Doe", "1990-05-01", "Lisbon"} {
		if strings.Contains(aml, pii) {
			t.Errorf("AML certificate kept %q: %s", pii, aml)
		}
	}
	for _, keep := range []string{`"matchedNumber":1`, `"matchRate":97`, `"category":"PEP"`, "Possible match found"} {
		if !strings.Contains(aml, keep) {
			t.Errorf("AML certificate lost %s: %s", keep, aml)
		}
	}
	if doc := certs["onfido-service-cert"]; !strings.Contains(doc, `"faceMatch":"CONSIDER"`) || strings.Contains(doc, "Jane") {
		t.Errorf("document certificate (from the certificates key) = %s", doc)
	}
	if !strings.Contains(string(docs["cert-member_check_cert.json"].Data), "Jane") {
		t.Error("the raw certificate document should keep the full certificate")
	}
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }

func TestExtractArchivedCandidate(t *testing.T) {
	c := loadCandidate(t, "candidate_archived.json")
	// Even if a stray identity came along, an archived record yields none.
	c.Identities = map[string]Identity{"given_name": {Type: IdentityString, Value: "Jane"}}
	u := Extract(c)
	if len(u.Attributes) != 0 || len(u.Documents) != 0 {
		t.Errorf("archived candidate produced %d attributes, %d documents", len(u.Attributes), len(u.Documents))
	}
	if u.Status != providers.StatusApproved || u.Reference != "kd-archived" {
		t.Errorf("metadata lost: %+v", u)
	}
	if len(u.Certificates) != 3 {
		t.Errorf("certificates = %d, want blockPassID + 2 (they survive archiving)", len(u.Certificates))
	}
}

func TestExtractOddValues(t *testing.T) {
	c := Candidate{Status: "waiting", Identities: map[string]Identity{
		"dob":     {Type: IdentityString, Value: "1990-13-45"},
		"phone":   {Type: IdentityString, Value: `{"countryCode":"GBR","number":"7700900123"}`},
		"address": {Type: IdentityString, Value: "1 High St, Leeds"},
		"scan":    {Type: IdentityBase64, Value: "data:application/pdf;base64,JVBERi0xLjQK"},
	}}
	got := attrs(Extract(c))
	for k, v := range map[string]string{
		"date_of_birth|dob": "1990-13-45",       // kept as sent
		"phone|phone":       "7700900123",       // number when phoneNumber is missing
		"address|address":   "1 High St, Leeds", // not JSON: kept whole
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["full_name|given_name+family_name"]; ok {
		t.Error("full_name made up without names")
	}
	docs := Extract(c).Documents
	if len(docs) != 1 || docs[0].Name != "scan.pdf" || docs[0].ContentType != "application/pdf" {
		t.Errorf("data-URL PDF: %+v", docs)
	}
}

func TestMapStatus(t *testing.T) {
	tests := map[string]providers.Status{
		"incomplete":       providers.StatusInvited,
		"waiting":          providers.StatusInProgress,
		"inreview":         providers.StatusNeedsReview,
		"approved":         providers.StatusApproved,
		"rejected":         providers.StatusRejected,
		"blocked":          providers.StatusBlocked,
		"review_requested": providers.StatusRejected,
		"something_new":    providers.StatusNeedsReview,
	}
	for in, want := range tests {
		if got := MapStatus(in); got != want {
			t.Errorf("MapStatus(%q) = %q, want %q", in, got, want)
		}
		if KnownStatus(in) != (in != "something_new") {
			t.Errorf("KnownStatus(%q) wrong", in)
		}
	}
}

func TestDecodeTolerance(t *testing.T) {
	raw := `{"status":"approved","refId":"r","recordId":"x","submitCount":1,
		"waitingDate":1610611387861,"inreviewDate":"2021-01-14 08:03:07","approvedDate":"not a date",
		"willArchiveAt":"2021-01-15T10:00:10Z","certs":{"a":{"nested":true},"b":null},
		"identities":{"email":{"type":"string","value":"e@example.com"},"n":{"type":"string","value":42}}}`
	var c Candidate
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	if !c.WaitingDate.Equal(time.UnixMilli(1610611387861)) {
		t.Errorf("millisecond date = %v", c.WaitingDate)
	}
	if c.InreviewDate.IsZero() || !c.ApprovedDate.IsZero() {
		t.Errorf("dates: inreview %v approved %v", c.InreviewDate, c.ApprovedDate)
	}
	if c.ArchiveAt().IsZero() {
		t.Error("willArchiveAt spelling not read")
	}
	if c.AllCerts()["a"] != `{"nested":true}` || c.AllCerts()["b"] != "" {
		t.Errorf("certs = %v", c.AllCerts())
	}
	if c.Identities["n"].Value != "42" {
		t.Errorf("non-string identity value = %q", c.Identities["n"].Value)
	}
	out, err := json.Marshal(c.ApprovedDate)
	if err != nil || string(out) != "null" {
		t.Errorf("zero date marshals to %s", out)
	}
}

func FuzzExtractCandidate(f *testing.F) {
	for _, name := range []string{"candidate_full.json", "candidate_archived.json"} {
		raw, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"data":{"identities":{"phone":{"type":"string","value":"{\"phoneNumber\":1}"},"x":{"type":"base64","value":"%%%"}}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var env struct {
			Data Candidate `json:"data"`
		}
		if json.Unmarshal(raw, &env) != nil {
			return
		}
		u := Extract(env.Data)
		if env.Data.IsArchived && (len(u.Attributes) != 0) {
			t.Fatal("archived candidate produced attributes")
		}
		for _, c := range u.Certificates {
			if c.Value == "" {
				t.Fatalf("certificate %s has no value", c.Name)
			}
		}
		// An export file goes through the same readers.
		var upd providers.Update
		importFile(&upd, "f.json", raw)
	})
}
