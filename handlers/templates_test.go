package handlers

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/kycdesk/kycdesk/providers/selfkey"
	selfkeysim "github.com/kycdesk/kycdesk/providers/selfkey/sim"
	"github.com/kycdesk/kycdesk/web/authz"
)

// TestTemplatesAdmin: an admin sees the default template, creates one,
// makes it required-heavy and stops offering the default; wallets see the
// change at once, and every change is audited.
func TestTemplatesAdmin(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(authz.Admin)

	doc := parse(t, c.get("/admin/templates"))
	row := doc.Find(`[data-testid="template-row"][data-template="standard"]`)
	if row.Length() != 1 || !contains(row.Find(`[data-testid="required"]`).Text(), "Passport") || !contains(row.Find(`[data-testid="offered"]`).Text(), "Offered") {
		t.Fatalf("default template row = %q", row.Text())
	}
	if !contains(parse(t, c.get("/admin")).Text(), "SelfKey templates") {
		t.Fatal("the admin index does not link the templates")
	}

	// The new form lists the known schemas; create a proof-of-address
	// template with one known and one other schema.
	form := parse(t, c.get("/admin/templates/new"))
	if form.Find(`[data-testid="attribute-row"]`).Length() < len(knownSchemas) {
		t.Fatal("the form does not list the known schemas")
	}
	custom := "https://schemas.example.org/attribute/employer-letter.json"
	resp := c.postForm("/admin/templates", url.Values{
		"id": {"address"}, "name": {"Proof of address"}, "active": {"1"},
		"ask.utility-bill": {"required"}, "label.utility-bill": {"Recent utility bill"},
		"ask.email":       {"optional"},
		"schema.custom-0": {custom}, "ask.custom-0": {"optional"}, "label.custom-0": {"Employer letter"},
		"schema.custom-1": {""}, "ask.custom-1": {"required"},
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", resp.StatusCode, parse(t, resp).Find(`[data-testid="form-error"]`).Text())
	}
	got := app.walletRequest(http.MethodGet, "/templates/address", "", "", nil)
	attrs, _ := got.Body["attributes"].([]any)
	if got.Status != http.StatusOK || len(attrs) != 3 {
		t.Fatalf("wallet sees %d %v", got.Status, got.Body)
	}
	first, _ := attrs[0].(map[string]any)
	if first["schemaId"] != selfkey.SchemaURL("email") || first["required"] != false {
		t.Fatalf("first attribute = %v", first)
	}
	last, _ := attrs[2].(map[string]any)
	if last["schemaId"] != custom || last["label"] != "Employer letter" || last["id"] != "employer_letter" {
		t.Fatalf("custom attribute = %v", last)
	}

	// Stop offering the default template: wallets no longer see it.
	edit := parse(t, c.get("/admin/templates/standard"))
	if v, _ := edit.Find(`#ask-passport option[selected]`).Attr("value"); v != "required" {
		t.Fatalf("edit form passport ask = %q", v)
	}
	vals := url.Values{"name": {"Identity verification"}}
	for _, k := range []string{"first-name", "last-name", "email", "date-of-birth", "passport"} {
		vals.Set("ask."+k, "required")
	}
	resp = c.postForm("/admin/templates/standard", vals)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	list := app.walletRequest(http.MethodGet, "/templates", "", "", nil)
	if ts, _ := list.Body["templates"].([]any); len(ts) != 1 {
		t.Fatalf("wallet templates after the default was withdrawn = %v", list.Body)
	}
	if r := app.walletRequest(http.MethodGet, "/templates/standard", "", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("withdrawn template still served: %d", r.Status)
	}
	// A wallet applies to the remaining template: what it asks for is
	// stored, the utility bill as a document.
	w := newWallet(t, func(w *selfkeysim.Wallet) { w.TemplateID = "address" })
	res := app.walk(w)
	if res.TemplateID != "address" {
		t.Fatalf("the wallet applied to %q", res.TemplateID)
	}
	v, err := app.db.SelfKeyLatestVerification(context.Background(), w.Subject())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := app.db.SelfKeyApplicationByVerification(context.Background(), v.ID)
	if err != nil || rec.TemplateName != "Proof of address" || rec.Attributes != 2 || rec.Documents != 1 {
		t.Fatalf("application = %+v, %v", rec, err)
	}
	if n := len(app.auditActions(t, "selfkey.template.create")); n != 1 {
		t.Fatalf("%d create audit entries", n)
	}
	if n := len(app.auditActions(t, "selfkey.template.update")); n != 1 {
		t.Fatalf("%d update audit entries", n)
	}
	stored, _ := app.db.SelfKeyTemplate(context.Background(), "standard")
	if stored.Active || stored.UpdatedBy != app.users[authz.Admin].Email || stored.Attributes[0].ID != "first_name" {
		t.Fatalf("stored default template = %+v", stored)
	}
}

// TestTemplatesAdminRefusesBadForms: what an admin must fix is said on the
// form, which keeps what was typed.
func TestTemplatesAdminRefusesBadForms(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(authz.Admin)
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"bad id", url.Values{"id": {"Bad Id!"}, "name": {"x"}, "ask.email": {"required"}}, "template id"},
		{"id new", url.Values{"id": {"new"}, "name": {"x"}, "ask.email": {"required"}}, "template id"},
		{"taken id", url.Values{"id": {"standard"}, "name": {"x"}, "ask.email": {"required"}}, "exists already"},
		{"no name", url.Values{"id": {"x"}, "ask.email": {"required"}}, "name"},
		{"no attribute", url.Values{"id": {"x"}, "name": {"x"}}, "at least one attribute"},
		{"other schema not a URL", url.Values{"id": {"x"}, "name": {"x"}, "schema.custom-0": {"employer letter"}, "ask.custom-0": {"required"}}, "http(s) URL"},
		{"schema twice", url.Values{"id": {"x"}, "name": {"x"}, "ask.email": {"required"}, "schema.custom-0": {selfkey.SchemaURL("email")}, "ask.custom-0": {"optional"}}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.postForm("/admin/templates", tc.form)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			doc := parse(t, resp)
			if msg := doc.Find(`[data-testid="form-error"]`).Text(); !contains(msg, tc.want) {
				t.Fatalf("error = %q, want it to mention %q", msg, tc.want)
			}
			if v, _ := doc.Find(`#name`).Attr("value"); v != tc.form.Get("name") {
				t.Fatalf("the form lost the name: %q", v)
			}
		})
	}
	if n := len(app.auditActions(t, "selfkey.template.create")); n != 0 {
		t.Fatalf("%d templates created from bad forms", n)
	}
	if resp := c.get("/admin/templates/nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown template: %d", resp.StatusCode)
	}
	if resp := app.signedIn(authz.Checker).get("/admin/templates"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a checker reached the templates: %d", resp.StatusCode)
	}
}
