package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
)

// ErrNoExportKey says no private key for Blockpass exports is configured.
var ErrNoExportKey = errors.New("no Blockpass export key is configured (set " + blockpass.EnvExportKeyFile + ")")

// BlockpassExport is an encrypted Blockpass profile export (profile.bin and
// meta.json, as uploaded) to store for an applicant.
type BlockpassExport struct {
	// ApplicantID is an existing applicant, or 0 with New set.
	ApplicantID int64
	New         *db.NewApplicant
	ProfileBin  []byte
	MetaJSON    []byte
	Actor       Actor
}

// BlockpassExportResult says what an import stored.
type BlockpassExportResult struct {
	ApplicantID  int64
	Attributes   int
	Documents    int
	Certificates int
	Skipped      int // files our store does not take (see gateDocuments)
}

// ImportBlockpassExport decrypts an export in memory with the configured
// private key, checks its integrity hash, and stores its contents in the
// applicant's encrypted store (a new applicant is named from the export
// when staff gave no name), audited, in one transaction. Nothing decrypted
// is written anywhere else. Refusals of the export itself (wrong key,
// corrupt file, hash mismatch) come back as *ProviderError, whose message
// is meant for staff.
func (s *Service) ImportBlockpassExport(ctx context.Context, in BlockpassExport) (BlockpassExportResult, error) {
	c, ok := BlockpassClient(s.Registry)
	if !ok {
		return BlockpassExportResult{}, fmt.Errorf("flow: blockpass export: %w", ErrUnknownProvider)
	}
	key, err := c.ExportKey()
	if err != nil {
		return BlockpassExportResult{}, err
	}
	if key == nil {
		return BlockpassExportResult{}, &ProviderError{Provider: providers.Blockpass, Err: ErrNoExportKey}
	}
	u, err := blockpass.ImportExport(key, in.ProfileBin, in.MetaJSON)
	if err != nil {
		return BlockpassExportResult{}, &ProviderError{Provider: providers.Blockpass, Err: err}
	}
	docs, notes := gateDocuments(u.Documents)
	res := BlockpassExportResult{Attributes: len(u.Attributes), Documents: len(docs), Certificates: len(u.Certificates),
		Skipped: len(u.Documents) - len(docs)}
	if len(u.Attributes) == 0 && len(docs) == 0 && len(u.Certificates) == 0 {
		return res, &ProviderError{Provider: providers.Blockpass, Err: errors.New("blockpass: export: the export holds nothing KYC Desk can store")}
	}
	p := string(providers.Blockpass)
	imp := db.BlockpassImport{ApplicantID: in.ApplicantID, New: in.New}
	if imp.New != nil && strings.TrimSpace(imp.New.Name) == "" {
		named := *imp.New
		named.Name, named.Email = exportContact(u.Attributes, named.Email)
		imp.New = &named
	}
	for _, a := range u.Attributes {
		imp.Attributes = append(imp.Attributes, db.AttributeInput{Provider: p, Meaning: a.Meaning, Name: a.Name, Value: a.Value})
	}
	for _, d := range docs {
		imp.Documents = append(imp.Documents, db.DocumentInput{Provider: p, Name: d.Name, ContentType: d.ContentType, Data: d.Data})
	}
	for _, cert := range u.Certificates {
		imp.Certificates = append(imp.Certificates, db.CertificateInput{Provider: p, Name: cert.Name, Value: cert.Value})
	}
	imp.Detail = fmt.Sprintf("Imported a Blockpass encrypted export: %d attributes, %d documents, %d certificates",
		res.Attributes, res.Documents, res.Certificates)
	for _, n := range notes {
		imp.Detail += "; " + n
	}
	res.ApplicantID, err = s.DB.ImportBlockpassExport(ctx, imp, in.Actor.audit())
	return res, err
}

// exportContact names a new applicant from the export's attributes.
func exportContact(attrs []providers.Attribute, email string) (string, string) {
	name := ""
	for _, a := range attrs {
		switch a.Meaning {
		case blockpass.MeaningFullName:
			if name == "" {
				name = a.Value
			}
		case blockpass.MeaningEmail:
			if email == "" {
				email = a.Value
			}
		}
	}
	return name, email
}
