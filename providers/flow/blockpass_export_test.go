package flow

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

func TestImportBlockpassExport(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	e := newBPEnv(t, bpOptions{simCfg: sim.Config{ExportPublicKey: &key.PublicKey}, clientCfg: blockpass.Config{ExportPrivateKeyPEM: keyPEM}})
	ctx := context.Background()
	e.sim.Seed(3)
	bin, meta, err := e.sim.Export(sim.SeedRecordID(2))
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := e.db.CreateUser(ctx, "admin@example.com", "admin", "x", db.AuditEntry{Actor: "test"})
	actor := Actor{ID: admin.ID, Email: admin.Email}

	// Into a new applicant, named from the export.
	res, err := e.svc.ImportBlockpassExport(ctx, BlockpassExport{New: &db.NewApplicant{}, ProfileBin: bin, MetaJSON: meta, Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	person := sim.FakePerson(2)
	a, _ := e.db.Applicant(ctx, res.ApplicantID)
	if a.Name != person.GivenName+" "+person.FamilyName || a.CreatedBy != admin.ID {
		t.Errorf("new applicant %q created by %d", a.Name, a.CreatedBy)
	}
	attrs, _ := e.db.Attributes(ctx, res.ApplicantID)
	docs, _ := e.db.Documents(ctx, res.ApplicantID)
	if len(attrs) != res.Attributes || res.Attributes == 0 || len(docs) != res.Documents || res.Documents < 3 {
		t.Errorf("stored %d attributes, %d documents; result %+v", len(attrs), len(docs), res)
	}
	events, _ := e.db.Timeline(ctx, res.ApplicantID, 10)
	if len(events) != 1 || events[0].Source != "staff" || !strings.Contains(events[0].Detail, "encrypted export") {
		t.Errorf("timeline = %+v", events)
	}

	// Into an existing applicant.
	other, _ := e.db.CreateApplicant(ctx, db.NewApplicant{Name: "Existing"}, db.AuditEntry{Actor: "test"})
	if res, err := e.svc.ImportBlockpassExport(ctx, BlockpassExport{ApplicantID: other.ID, ProfileBin: bin, MetaJSON: meta, Actor: actor}); err != nil || res.ApplicantID != other.ID {
		t.Fatalf("import into an existing applicant: %+v, %v", res, err)
	}

	// A corrupted file is refused with a reason meant for staff; nothing stored.
	bad := append([]byte(nil), bin...)
	bad[len(bad)-20] ^= 1
	_, err = e.svc.ImportBlockpassExport(ctx, BlockpassExport{New: &db.NewApplicant{}, ProfileBin: bad, MetaJSON: meta, Actor: actor})
	var perr *ProviderError
	if !errors.As(err, &perr) {
		t.Fatalf("corrupt export: %v, want a ProviderError", err)
	}
	if n := e.applicantCount(t); n != 2 {
		t.Errorf("%d applicants after a refused import, want 2", n)
	}
}

func TestImportBlockpassExportWithoutKey(t *testing.T) {
	e := newBPEnv(t, bpOptions{})
	_, err := e.svc.ImportBlockpassExport(context.Background(), BlockpassExport{New: &db.NewApplicant{}, ProfileBin: []byte("x"), MetaJSON: []byte("{}")})
	if !errors.Is(err, ErrNoExportKey) {
		t.Fatalf("import without a key: %v, want ErrNoExportKey", err)
	}
}
