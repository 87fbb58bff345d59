package sim_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/kycdesk/kycdesk/providers/corepass"
	"github.com/kycdesk/kycdesk/providers/corepass/sim"
)

func TestDefaultProfile(t *testing.T) {
	p := sim.DefaultProfile(alice)
	if q := sim.DefaultProfile(strings.ToUpper(alice)); len(q) != len(p) || q["SH_IDCard_FULLNAME"] != p["SH_IDCard_FULLNAME"] {
		t.Error("the same Core ID must give the same person")
	}
	if len(p) != 24 {
		t.Errorf("%d items, want 22 document items + email + phone", len(p))
	}
	for _, meaning := range corepass.Meanings() {
		for _, doc := range []corepass.DocType{corepass.IDCard, corepass.Passport} {
			item, _ := corepass.ItemFor(doc, meaning)
			if p[item] == "" {
				t.Errorf("%s missing", item)
			}
		}
		if item, _ := corepass.ItemFor(corepass.DriverLicense, meaning); p.Verified(item) && item != corepass.ItemEmail && item != corepass.ItemPhone {
			t.Errorf("%s should not be verified", item)
		}
	}
	if p["SH_IDCard_DOB"] != p["SH_Passport_DOB"] || !strings.HasSuffix(p["SH_EMAIL"], "@example.com") {
		t.Error("one person across documents, with a fake email domain")
	}
	img, err := base64.StdEncoding.DecodeString(p["SH_Passport_DocumentImage"])
	if err != nil || http.DetectContentType(img) != "image/png" {
		t.Errorf("document image is not a base64 PNG: %v", err)
	}
	if other := sim.DefaultProfile(nobody); other["SH_Passport_DocumentNumber"] == p["SH_Passport_DocumentNumber"] {
		t.Error("two Core IDs got the same document number")
	}
}

func TestKeys(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed448.SeedSize)
	priv := ed448.NewKeyFromSeed(seed)
	s := sim.New(sim.Config{PrivateKey: priv})
	defer s.Close()
	if !bytes.Equal(s.PublicKey(), priv.Public().(ed448.PublicKey)) {
		t.Error("configured key not used")
	}
	g := sim.New(sim.Config{})
	defer g.Close()
	if len(g.PublicKey()) != ed448.PublicKeySize || bytes.Equal(g.PublicKey(), s.PublicKey()) {
		t.Error("generated key wrong")
	}
}
