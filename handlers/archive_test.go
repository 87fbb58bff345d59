package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
)

// archiveFixture is an applicant with a CorePass link, personal data and a
// certificate.
func archiveFixture(t *testing.T, app *testApp, name string) db.Applicant {
	t.Helper()
	ctx := context.Background()
	a, err := app.db.CreateApplicant(ctx, db.NewApplicant{Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.test"}, db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := app.db.StartVerification(ctx, db.NewVerification{ApplicantID: a.ID, Provider: "corepass", Reference: "cp-" + a.Ref,
		ExternalID: "cb11" + strings.Repeat("7", 40), Status: "invited"}, db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	err = app.db.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "callback", Status: "approved", ProviderStatus: "FINISH_SUCCESS",
		Attributes:   []db.AttributeInput{{Provider: "corepass", Meaning: "date_of_birth", Name: "dob", Value: "1901-02-03", Pepper: "p"}},
		Documents:    []db.DocumentInput{{Provider: "corepass", Name: "face.jpg", ContentType: "image/jpeg", Data: []byte{0xFF, 0xD8, 0xFF, 0xD9}}},
		Certificates: []db.CertificateInput{{Provider: "corepass", Name: "tx_hash", Value: "0xfeed"}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestArchiveNowFromTheApplicantPage(t *testing.T) {
	app := newTestApp(t)
	a := archiveFixture(t, app, "Orla Canarywood")
	path := fmt.Sprintf("/applicants/%d", a.ID)

	t.Run("roles without the archive right see no form and are refused", func(t *testing.T) {
		for _, r := range []authz.Role{authz.Maker, authz.Auditor} {
			c := app.signedIn(r)
			doc := parse(t, c.get(path))
			if doc.Find(`[data-testid="archive-form"], [data-testid="hold-form"]`).Length() != 0 {
				t.Errorf("%s sees the archive or hold form", r)
			}
			if resp := c.postForm(path+"/archive", url.Values{"reason": {"because"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s archive: status %d", r, resp.StatusCode)
			}
		}
	})

	c := app.signedIn(authz.Checker)
	doc := parse(t, c.get(path))
	if doc.Find(`[data-testid="archive-form"]`).Length() != 1 || doc.Find(`[data-testid="receipt"]`).Length() != 0 {
		t.Fatal("a checker does not see the archive form on a live applicant")
	}
	if got := doc.Find(`[data-testid="provider-copies"] li[data-provider="corepass"]`).Text(); !strings.Contains(got, "only copy") {
		t.Errorf("CorePass statement = %q", got)
	}
	if err := app.db.SetRetentionRules(context.Background(), []db.RetentionRule{{Provider: db.RetentionAny, Outcome: db.OutcomeApproved, Days: 30}}, db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	plan := parse(t, c.get(path)).Find(`[data-testid="retention-plan"]`)
	if !strings.Contains(plan.Text(), "archived") || strings.Contains(plan.Text(), "@") || plan.Find("time").Length() != 1 {
		t.Errorf("retention plan = %q", plan.Text())
	}

	if resp := c.postForm(path+"/archive", url.Values{"reason": {" "}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("archive without a reason: status %d", resp.StatusCode)
	}
	if got, _ := app.db.Applicant(context.Background(), a.ID); got.Archived() {
		t.Fatal("archived without a reason")
	}

	resp := c.postForm(path+"/archive", url.Values{"reason": {"customer asked for deletion"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path {
		t.Fatalf("archive: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	doc = parse(t, c.get(path))
	if !strings.Contains(doc.Find(`[data-testid="flash"]`).Text(), "Archived") {
		t.Error("no flash after archiving")
	}
	if strings.Contains(doc.Text(), "Canarywood") || strings.Contains(doc.Text(), "1901-02-03") {
		t.Error("the archived applicant's page still shows personal data")
	}
	receipt := doc.Find(`[data-testid="receipt"]`)
	if receipt.Length() != 1 || receipt.Find(`[data-testid="receipt-verified"]`).Length() != 1 {
		t.Fatalf("no verified receipt on the page: %s", receipt.Text())
	}
	if got := receipt.Find(`[data-testid="receipt-actor"]`).Text(); got != app.users[authz.Checker].Email {
		t.Errorf("receipt actor = %q", got)
	}
	deleted := receipt.Find(`[data-testid="receipt-deleted"]`).Text()
	for _, want := range []string{"1 attribute", "1 CorePass pepper", "1 document", "the name", "the email", "the data key (destroyed)", "the search entry", "1 provider identifier"} {
		if !strings.Contains(deleted, want) {
			t.Errorf("receipt does not list %q: %s", want, deleted)
		}
	}
	if doc.Find(`[data-testid="retention-badge"][data-kind="archived"]`).Length() == 0 {
		t.Error("no archived badge in the header")
	}
	if doc.Find(`[data-testid="archive-form"]`).Length() != 0 {
		t.Error("the archive form is still offered")
	}
	if got := doc.Find(`[data-testid="applicant-name"]`).Text(); !strings.Contains(got, "Archived") {
		t.Errorf("header = %q", got)
	}

	// The JSON receipt matches the page and verifies.
	jr := c.get(path + "/receipt.json")
	var rj receiptJSON
	body, _ := io.ReadAll(jr.Body)
	if err := json.Unmarshal(body, &rj); err != nil || !rj.Verified || rj.Digest != strings.TrimSpace(receipt.Find(`[data-testid="receipt-digest"]`).Text()) || rj.Deleted.Attributes != 1 {
		t.Errorf("receipt.json = %s (%v)", body, err)
	}
	entries := app.auditActions(t, "applicant.archive")
	if len(entries) != 1 || entries[0].Actor != app.users[authz.Checker].Email || !strings.Contains(entries[0].Detail, rj.Digest) {
		t.Errorf("audit = %+v", entries)
	}
	// Archiving again only says so.
	resp = c.postForm(path+"/archive", url.Values{"reason": {"again please"}})
	if resp.StatusCode != http.StatusSeeOther || len(app.auditActions(t, "applicant.archive")) != 1 {
		t.Errorf("second archive: status %d", resp.StatusCode)
	}
}

func TestLegalHoldStopsArchiving(t *testing.T) {
	app := newTestApp(t)
	a := archiveFixture(t, app, "Held Person")
	path := fmt.Sprintf("/applicants/%d", a.ID)
	c := app.signedIn(authz.Admin)
	if resp := c.postForm(path+"/hold", url.Values{"hold": {"on"}, "reason": {"case 2026-17"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hold: status %d", resp.StatusCode)
	}
	doc := parse(t, c.get(path))
	if doc.Find(`[data-testid="retention-badge"][data-kind="hold"]`).Length() == 0 || doc.Find(`[data-testid="archive-form"]`).Length() != 0 {
		t.Error("a held applicant shows no hold badge or still offers archiving")
	}
	if resp := c.postForm(path+"/archive", url.Values{"reason": {"try anyway"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("archive on hold: status %d", resp.StatusCode)
	}
	holds := app.auditActions(t, "applicant.legal_hold")
	if len(holds) != 1 || holds[0].Detail != "placed: case 2026-17" || holds[0].Actor != app.users[authz.Admin].Email {
		t.Errorf("hold audit = %+v", holds)
	}
	if resp := c.postForm(path+"/hold", url.Values{"hold": {"off"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lift: status %d", resp.StatusCode)
	}
	if resp := c.postForm(path+"/archive", url.Values{"reason": {"now it may go"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("archive after lifting: status %d", resp.StatusCode)
	}
	if resp := c.postForm(path+"/hold", url.Values{"hold": {"sideways"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad hold value: status %d", resp.StatusCode)
	}
	if resp := app.signedIn(authz.Maker).postForm(path+"/hold", url.Values{"hold": {"on"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("maker places a hold: status %d", resp.StatusCode)
	}
}

func TestBulkArchiveFromTheList(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	var ids []int64
	for i := range 4 {
		ids = append(ids, archiveFixture(t, app, fmt.Sprintf("Bulk Person%d", i)).ID)
	}
	if err := app.db.SetLegalHold(ctx, ids[3], true, "", db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	c := app.signedIn(authz.Admin)
	doc := parse(t, c.get("/applicants"))
	if doc.Find(`form#bulk-archive`).Length() != 1 || doc.Find(`[data-testid="row-select"][form="bulk-archive"]`).Length() != 4 {
		t.Fatal("no bulk archive form or row checkboxes for an admin")
	}
	if n := parse(t, app.signedIn(authz.Maker).get("/applicants")).Find(`form#bulk-archive, [data-testid="row-select"]`).Length(); n != 0 {
		t.Error("a maker is offered bulk archive")
	}
	form := url.Values{"reason": {"bulk clean-up"}, "return": {"/applicants?status=approved"}}
	for _, id := range []int64{ids[0], ids[1], ids[3], ids[0]} {
		form.Add("applicant", fmt.Sprint(id))
	}
	resp := c.postForm("/applicants/archive", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/applicants?status=approved" {
		t.Fatalf("bulk: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	doc = parse(t, c.get("/applicants"))
	if flash := doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, "Archived 2 of 3") || !strings.Contains(flash, "1 on legal hold") {
		t.Errorf("flash = %q", flash)
	}
	kinds := map[string]int{}
	doc.Find(`[data-testid="applicant-row"] [data-testid="retention-badge"]`).Each(func(_ int, s *goquery_Selection) {
		k, _ := s.Attr("data-kind")
		kinds[k]++
	})
	if kinds["archived"] != 2 || kinds["hold"] != 1 || kinds["kept"] != 1 {
		t.Errorf("badges = %v", kinds)
	}
	if n := doc.Find(`[data-testid="applicant-row"]`).FilterFunction(func(_ int, s *goquery_Selection) bool {
		return strings.Contains(s.Text(), "Bulk Person0") || strings.Contains(s.Text(), "Bulk Person1")
	}).Length(); n != 0 {
		t.Error("archived names still in the list")
	}

	tooMany := url.Values{"reason": {"too many"}}
	for i := range pageSize + 1 {
		tooMany.Add("applicant", fmt.Sprint(i+1))
	}
	if resp := c.postForm("/applicants/archive", tooMany); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("more than a page: status %d", resp.StatusCode)
	}
	if resp := c.postForm("/applicants/archive", url.Values{"reason": {"none ticked"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing ticked: status %d", resp.StatusCode)
	}
}

func TestRetentionPolicyPage(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	// Seeded applicants: last events spread over the past year.
	if err := app.db.Seed(ctx, db.SeedOptions{N: 40, WithPII: true, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	admin := app.signedIn(authz.Admin)
	if resp := app.signedIn(authz.Checker).get("/admin/retention"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("checker opens the policy: status %d", resp.StatusCode)
	}
	doc := parse(t, admin.get("/admin/retention"))
	if doc.Find(`input[name="days.any.approved"]`).Length() != 1 || doc.Find(`label[for="days-any-approved"]`).Length() != 1 {
		t.Fatal("no labelled field for any/approved")
	}
	if got := doc.Find(`[data-testid="retention-due"]`).Text(); !strings.Contains(got, "Nothing is due") {
		t.Errorf("without rules: %q", got)
	}

	resp := admin.postForm("/admin/retention", url.Values{"days.any.approved": {"30"}, "days.idfy.rejected": {"-4"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invalid policy: status %d", resp.StatusCode)
	}
	doc = parse(t, resp)
	if doc.Find(`[data-testid="form-error"]`).Length() != 1 || doc.Find(`input[name="days.idfy.rejected"][aria-invalid]`).Length() != 1 {
		t.Error("the invalid field is not marked")
	}
	if v, _ := doc.Find(`input[name="days.any.approved"]`).Attr("value"); v != "30" {
		t.Errorf("typed value lost: %q", v)
	}
	if rules, _ := app.db.RetentionRules(ctx); len(rules) != 0 {
		t.Fatal("an invalid policy was saved")
	}

	form := url.Values{"days.verifyyou.provider_withdrawal": {"0"}}
	for _, o := range []string{"approved", "rejected", "withdrawn", "abandoned"} {
		form.Set("days.any."+o, "120")
	}
	if resp := admin.postForm("/admin/retention", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: status %d", resp.StatusCode)
	}
	if rules, _ := app.db.RetentionRules(ctx); len(rules) != 5 {
		t.Fatalf("rules = %+v", rules)
	}
	if e := app.auditActions(t, "retention.rules"); len(e) != 1 || !strings.Contains(e[0].Detail, "any/approved keep->120d") {
		t.Errorf("audit = %+v", e)
	}
	due, err := app.db.RetentionDue(ctx, app.now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) == 0 || len(due) == 40 {
		t.Fatalf("%d of 40 due: the fixture proves nothing", len(due))
	}
	doc = parse(t, admin.get("/admin/retention"))
	if got := doc.Find(`[data-testid="retention-due"]`).Text(); !strings.Contains(got, fmt.Sprintf("%d applicants are due", len(due))) || !strings.Contains(got, due[0].Ref) {
		t.Errorf("due section = %q", got)
	}
	// Every row of the list has a badge: due ones say so, the others when.
	list := parse(t, admin.get("/applicants"))
	isDue := map[string]bool{}
	for _, p := range due {
		isDue[p.Ref] = true
	}
	list.Find(`[data-testid="applicant-row"]`).Each(func(_ int, s *goquery_Selection) {
		ref := strings.TrimSpace(s.Find("td:nth-child(2)").Text())
		badge := strings.TrimSpace(s.Find(`[data-testid="retention-badge"]`).Text())
		if isDue[ref] != (badge == "archiving due") || (!isDue[ref] && !strings.HasPrefix(badge, "archives in ")) {
			t.Errorf("%s: badge %q (due %v)", ref, badge, isDue[ref])
		}
	})

	if resp := admin.postForm("/admin/retention/run", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("run: status %d", resp.StatusCode)
	}
	for _, p := range due {
		r, err := app.db.DeletionReceipt(ctx, p.ApplicantID)
		if err != nil || r.Rule != p.Rule || r.Actor != "system" {
			t.Errorf("%s: receipt %+v, %v", p.Ref, r, err)
		}
	}
	if left, _ := app.db.RetentionDue(ctx, app.now, 0); len(left) != 0 {
		t.Errorf("%d still due after the run", len(left))
	}
	page := parse(t, admin.get("/admin/retention"))
	if flash := page.Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, fmt.Sprintf("%d applicants archived", len(due))) {
		t.Errorf("flash = %q", flash)
	}
	if got := page.Find(`[data-testid="retention-due"]`).Text(); !strings.Contains(got, "Last run") || strings.Contains(got, "@") || page.Find(`[data-testid="retention-due"] time`).Length() == 0 {
		t.Errorf("last run = %q", got)
	}
}
