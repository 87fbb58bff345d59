package blockpass_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

func TestSimulatorExportImports(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(sim.Config{ExportPublicKey: &key.PublicKey})
	s.Seed(3)
	bin, meta, err := s.Export(sim.SeedRecordID(1))
	if err != nil {
		t.Fatal(err)
	}
	u, err := blockpass.ImportExport(key, bin, meta)
	if err != nil {
		t.Fatal(err)
	}
	person := sim.FakePerson(1)
	var name string
	for _, a := range u.Attributes {
		if a.Meaning == blockpass.MeaningFullName {
			name = a.Value
		}
	}
	if name != person.GivenName+" "+person.FamilyName || u.ProviderRef != sim.SeedRecordID(1) {
		t.Errorf("imported name %q ref %q, want %s %s / %s", name, u.ProviderRef, person.GivenName, person.FamilyName, sim.SeedRecordID(1))
	}
	pictures := 0
	for _, d := range u.Documents {
		if d.ContentType == "image/jpeg" || d.ContentType == "image/png" {
			pictures++
		}
	}
	if pictures < 3 {
		t.Errorf("%d pictures imported, want at least the 3 the candidate has", pictures)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := blockpass.ImportExport(other, bin, meta); !errors.Is(err, blockpass.ErrExportKey) {
		t.Errorf("wrong key: %v, want ErrExportKey", err)
	}
	if _, _, err := sim.New(sim.Config{}).Export(sim.SeedRecordID(1)); !errors.Is(err, sim.ErrNoExportKey) {
		t.Errorf("export without a key: %v", err)
	}

	// The console's download links serve the two files of one export.
	srv := httptest.NewServer(s)
	defer srv.Close()
	get := func(path string) []byte {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return b
	}
	id := sim.SeedRecordID(2)
	dlBin, dlMeta := get("/_sim/blockpass/export/"+id+"/profile.bin"), get("/_sim/blockpass/export/"+id+"/meta.json")
	if _, err := blockpass.ImportExport(key, dlBin, dlMeta); err != nil {
		t.Errorf("downloaded export does not import: %v", err)
	}
}
