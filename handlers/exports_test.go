package handlers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
)

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example","x")`: `'=HYPERLINK("http://evil.example","x")`,
		"+1 555 0100":                           "'+1 555 0100",
		"-2+3":                                  "'-2+3",
		"@SUM(A1)":                              "'@SUM(A1)",
		"\t=1":                                  "'\t=1",
		"Ada Lovelace":                          "Ada Lovelace",
		"a=b":                                   "a=b",
		"":                                      "",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestApplicantsCSVExport(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	if err := app.db.Seed(ctx, db.SeedOptions{N: 450, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	evil, err := app.db.CreateApplicant(ctx, db.NewApplicant{Name: `=HYPERLINK("http://evil.example","Click")`, Email: "@evil.example"}, db.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	checker := app.signedIn(authz.Checker)

	resp := checker.get("/exports/applicants.csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: status %d, type %q, disposition %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+451 || rows[0][0] != "reference" {
		t.Fatalf("%d lines, header %v; want a header and 451 applicants (over three keyset pages)", len(rows), rows[0])
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[0]] {
			t.Fatalf("%s exported twice", r[0])
		}
		seen[r[0]] = true
		if r[0] == evil.Ref {
			if r[1] != `'=HYPERLINK("http://evil.example","Click")` || r[2] != "'@evil.example" {
				t.Fatalf("formula cells not neutralised: %q, %q", r[1], r[2])
			}
		}
	}
	if !seen[evil.Ref] {
		t.Fatal("the applicant with the formula name is missing")
	}

	resp = checker.get("/exports/applicants.csv?provider=corepass&status=approved")
	filtered, _ := csv.NewReader(resp.Body).ReadAll()
	page, _ := app.db.ListApplicants(ctx, db.ApplicantFilter{Provider: "corepass", Status: "approved", Limit: db.MaxPageSize})
	if len(filtered)-1 != len(page.Rows) || len(page.Rows) == 0 {
		t.Fatalf("filtered export has %d rows, the list %d", len(filtered)-1, len(page.Rows))
	}
	for _, r := range filtered[1:] {
		if r[3] != "approved" || !strings.Contains(r[4], "corepass") {
			t.Fatalf("row outside the filter: %v", r)
		}
	}

	entries := app.auditActions(t, "export.applicants_csv")
	if len(entries) != 2 || entries[0].Actor != "checker@example.com" || !strings.Contains(entries[0].Detail, "provider=corepass status=approved") {
		t.Fatalf("export audit entries = %+v", entries)
	}
	if resp := checker.get("/exports/applicants.csv?status=bogus"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad filter: status %d", resp.StatusCode)
	}
}

func TestCaseFileJSONExport(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	v := app.reviewCase("Cora Casefile", "corepass")
	if err := app.db.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "callback",
		Certificates: []db.CertificateInput{{Provider: "corepass", Name: "tx", Value: "0xabc"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.AddNote(ctx, v.ApplicantID, app.users[authz.Maker].ID, "Passport checked against the photo.", db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	maker, admin := app.signedIn(authz.Maker), app.signedIn(authz.Admin)
	digest, reason := caseForm(t, maker, v.ID, db.DecisionApprove)
	maker.propose(v.ID, db.DecisionApprove, reason, digest)

	resp := admin.get(fmt.Sprintf("/applicants/%d/export.json", v.ApplicantID))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("case file: status %d", resp.StatusCode)
	}
	var f struct {
		Applicant struct {
			Ref, Name, Status string
		}
		Timeline  []struct{ Source, Detail string }
		Decisions []struct {
			Outcome    string
			ProposedBy string `json:"proposed_by"`
		}
		Notes        []struct{ Author, Body string }
		Certificates []struct{ Name, Value string }
		Attributes   []struct {
			Name  string
			Value *string
		}
		PersonalData bool `json:"personal_data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if f.Applicant.Name != "Cora Casefile" || !f.PersonalData || len(f.Timeline) < 3 {
		t.Fatalf("case file applicant/timeline = %+v, %d events", f.Applicant, len(f.Timeline))
	}
	if len(f.Decisions) != 1 || f.Decisions[0].Outcome != "pending" || f.Decisions[0].ProposedBy != "maker@example.com" {
		t.Fatalf("decisions = %+v", f.Decisions)
	}
	if len(f.Notes) != 1 || f.Notes[0].Body != "Passport checked against the photo." {
		t.Fatalf("notes = %+v", f.Notes)
	}
	if len(f.Certificates) != 1 || f.Certificates[0].Value != "0xabc" {
		t.Fatalf("certificates = %+v", f.Certificates)
	}
	if len(f.Attributes) != 1 || f.Attributes[0].Value == nil || *f.Attributes[0].Value != "Cora Casefile" {
		t.Fatalf("attributes = %+v", f.Attributes)
	}
	entries := app.auditActions(t, "export.case_file")
	if len(entries) != 1 || entries[0].Object != fmt.Sprintf("applicant:%d", v.ApplicantID) || entries[0].Actor != "admin@example.com" {
		t.Fatalf("case file audit = %+v", entries)
	}
	// The applicant page offers the export to those who may use it.
	if parse(t, admin.get(fmt.Sprintf("/applicants/%d", v.ApplicantID))).Find(`[data-testid="export-case"]`).Length() != 1 {
		t.Error("the admin is not offered the case-file export")
	}
	if parse(t, maker.get(fmt.Sprintf("/applicants/%d", v.ApplicantID))).Find(`[data-testid="export-case"]`).Length() != 0 {
		t.Error("the maker is offered an export they may not use")
	}
}

func TestApplicantsListOffersExportWithItsFilters(t *testing.T) {
	app := newTestApp(t)
	app.reviewCase("Listed Person", "idfy")
	checker, maker := app.signedIn(authz.Checker), app.signedIn(authz.Maker)
	doc := parse(t, checker.get("/applicants?provider=idfy&status=needs_review", "HX-Request", "true"))
	href, _ := doc.Find(`[data-testid="export-csv"]`).Attr("href")
	if href != "/exports/applicants.csv?provider=idfy&status=needs_review" {
		t.Fatalf("export link in the filtered results = %q", href)
	}
	if parse(t, maker.get("/applicants")).Find(`[data-testid="export-csv"]`).Length() != 0 {
		t.Fatal("a maker is offered the CSV export")
	}
}
