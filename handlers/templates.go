package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers/selfkey"
	"github.com/kycdesk/kycdesk/views/templates"
	"github.com/kycdesk/kycdesk/web"
)

// templatesHandler serves /admin/templates, the SelfKey KYC templates, and
// loads them for the wallet endpoints. The defaults go in on first use.
type templatesHandler struct {
	*Handlers
	// seeded remembers that this process saw the defaults stored; the
	// database keeps the fact itself, so other instances agree.
	seeded atomic.Bool
}

// knownSchemas are the SelfKey attribute schemas an admin picks from
// (providers.md §4.5), by short name, in the order the form lists them.
var knownSchemas = []struct{ Name, Title string }{
	{"first-name", "First name"},
	{"middle-name", "Middle name"},
	{"last-name", "Last name"},
	{"email", "Email"},
	{"date-of-birth", "Date of birth"},
	{"nationality", "Nationality"},
	{"country-of-residency", "Country of residence"},
	{"physical-address", "Address"},
	{"phone-number", "Phone number"},
	{"passport", "Passport"},
	{"national-id", "National identity card"},
	{"drivers-license", "Driving licence"},
	{"utility-bill", "Utility bill (proof of address)"},
	{"bank-statement", "Bank statement"},
	{"tax-id-number", "Tax id number"},
	{"tax-certificate", "Tax certificate"},
	{"birth-certificate", "Birth certificate"},
	{"work-place", "Work place"},
	{"voice-id", "Voice id"},
	{"fingerprint", "Fingerprint"},
	{"eth-address", "Ethereum address"},
	{"btc-address", "Bitcoin address"},
	{"dash-address", "Dash address"},
	{"company-name", "Company name"},
	{"legal-entity-type", "Legal entity type"},
	{"certificate-of-incorporation", "Certificate of incorporation"},
	{"registration-certificate", "Registration certificate"},
	{"corporate-structure", "Corporate structure"},
	{"member-register", "Member register"},
	{"external-document", "Other document"},
}

// blankCustomRows are the empty "other schema" rows the form offers.
const blankCustomRows = 2

// maxCustomRows bounds the custom rows a form post may carry.
const maxCustomRows = 50

// templateID is what an admin may choose as a template id: it is part of
// the wallet's URLs. "new" would collide with the new-template page.
var templateID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// load returns the templates (only those offered, with activeOnly),
// storing the defaults first if this database never had them.
func (h *templatesHandler) load(ctx context.Context, activeOnly bool) ([]db.SelfKeyTemplate, error) {
	if !h.seeded.Load() {
		if _, err := h.deps.DB.SeedSelfKeyTemplates(ctx, storedTemplates(selfkey.DefaultTemplates())); err != nil {
			return nil, err
		}
		h.seeded.Store(true)
	}
	return h.deps.DB.SelfKeyTemplates(ctx, activeOnly)
}

// storedTemplates converts the engine's templates for the store.
func storedTemplates(ts []selfkey.Template) []db.SelfKeyTemplate {
	out := make([]db.SelfKeyTemplate, len(ts))
	for i, t := range ts {
		out[i] = db.SelfKeyTemplate{ID: t.ID, Name: t.Name, Description: t.Description, Active: true}
		for _, a := range t.Attributes {
			out[i].Attributes = append(out[i].Attributes, db.SelfKeyTemplateAttribute{ID: a.ID, Label: a.Label, SchemaID: a.SchemaID, Required: a.Required})
		}
	}
	return out
}

// protocolTemplate converts a stored template for the engine.
func protocolTemplate(t db.SelfKeyTemplate) selfkey.Template {
	out := selfkey.Template{ID: t.ID, Name: t.Name, Description: t.Description}
	for _, a := range t.Attributes {
		out.Attributes = append(out.Attributes, selfkey.TemplateAttribute{ID: a.ID, Label: a.Label, SchemaID: a.SchemaID, Required: a.Required})
	}
	return out
}

// list shows every template.
func (h *templatesHandler) list(c echo.Context) error {
	ts, err := h.load(c.Request().Context(), false)
	if err != nil {
		return err
	}
	v := templates.ListView{Page: h.page(c, "SelfKey templates", "admin"), Templates: ts, Now: h.deps.Now()}
	if h.deps.SelfKey != nil && h.deps.Flow != nil {
		v.WalletRoot = h.deps.Flow.BaseURL + "/selfkey"
	}
	return web.Render(c, http.StatusOK, templates.List(v))
}

// newForm is the empty new-template form.
func (h *templatesHandler) newForm(c echo.Context) error {
	v := templates.FormView{New: true, Active: true, Rows: formRows(nil, blankCustomRows)}
	return h.renderForm(c, v)
}

// edit is the form of one template.
func (h *templatesHandler) edit(c echo.Context) error {
	t, err := h.find(c)
	if err != nil {
		return err
	}
	v := templates.FormView{ID: t.ID, Name: t.Name, Description: t.Description, Active: t.Active, Rows: formRows(t.Attributes, blankCustomRows)}
	return h.renderForm(c, v)
}

func (h *templatesHandler) find(c echo.Context) (db.SelfKeyTemplate, error) {
	if _, err := h.load(c.Request().Context(), false); err != nil {
		return db.SelfKeyTemplate{}, err
	}
	t, err := h.deps.DB.SelfKeyTemplate(c.Request().Context(), c.Param("id"))
	if errors.Is(err, db.ErrNotFound) {
		return t, echo.ErrNotFound
	}
	return t, err
}

func (h *templatesHandler) renderForm(c echo.Context, v templates.FormView) error {
	title := "New SelfKey template"
	if !v.New {
		title = "Edit SelfKey template"
	}
	v.Page = h.page(c, title, "admin")
	return web.Render(c, http.StatusOK, templates.Form(v))
}

// create stores a new template, audited.
func (h *templatesHandler) create(c echo.Context) error {
	// The defaults go in first, so an admin's id cannot shadow them.
	if _, err := h.load(c.Request().Context(), false); err != nil {
		return err
	}
	v, t := parseTemplateForm(c, true, strings.TrimSpace(c.FormValue("id")))
	if v.Error != "" {
		return h.renderForm(c, v)
	}
	err := h.deps.DB.CreateSelfKeyTemplate(c.Request().Context(), t, h.auditEntry(c))
	if errors.Is(err, db.ErrConflict) {
		v.Error = fmt.Sprintf("A template with the id %q exists already. Choose another id.", t.ID)
		return h.renderForm(c, v)
	}
	if err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, fmt.Sprintf("Template %q created.", t.Name))
	return web.Redirect(c, "/admin/templates")
}

// update saves an edited template, audited.
func (h *templatesHandler) update(c echo.Context) error {
	old, err := h.find(c)
	if err != nil {
		return err
	}
	v, t := parseTemplateForm(c, false, old.ID)
	if v.Error != "" {
		return h.renderForm(c, v)
	}
	if err := h.deps.DB.UpdateSelfKeyTemplate(c.Request().Context(), t, h.auditEntry(c)); err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, fmt.Sprintf("Template %q saved.", t.Name))
	return web.Redirect(c, "/admin/templates")
}

// formRows lays out a template's attributes on the form: every known
// schema (asked or not), then the other schemas it asks for, then blank
// rows for more.
func formRows(attrs []db.SelfKeyTemplateAttribute, blanks int) []templates.AttributeRow {
	bySchema := map[string]db.SelfKeyTemplateAttribute{}
	for _, a := range attrs {
		bySchema[a.SchemaID] = a
	}
	var rows []templates.AttributeRow
	for _, k := range knownSchemas {
		r := templates.AttributeRow{Key: k.Name, Title: k.Title, SchemaID: selfkey.SchemaURL(k.Name), Label: k.Title}
		if a, ok := bySchema[r.SchemaID]; ok {
			r.AttrID, r.Ask, r.Label = a.ID, ask(a.Required), a.Label
			delete(bySchema, r.SchemaID)
		}
		rows = append(rows, r)
	}
	n := 0
	for _, a := range attrs {
		if _, custom := bySchema[a.SchemaID]; custom {
			rows = append(rows, templates.AttributeRow{Key: fmt.Sprintf("custom-%d", n), SchemaID: a.SchemaID, AttrID: a.ID,
				Label: a.Label, Ask: ask(a.Required), Custom: true})
			n++
		}
	}
	for i := 0; i < blanks; i++ {
		rows = append(rows, templates.AttributeRow{Key: fmt.Sprintf("custom-%d", n), Custom: true})
		n++
	}
	return rows
}

func ask(required bool) string {
	if required {
		return templates.AskRequired
	}
	return templates.AskOptional
}

// parseTemplateForm reads the posted form into the view (to show again on
// error) and the template to store. v.Error says what to fix.
func parseTemplateForm(c echo.Context, isNew bool, id string) (templates.FormView, db.SelfKeyTemplate) {
	v := templates.FormView{New: isNew, ID: id, Name: strings.TrimSpace(c.FormValue("name")),
		Description: strings.TrimSpace(c.FormValue("description")), Active: c.FormValue("active") == "1"}
	form, _ := c.FormParams()
	row := func(r templates.AttributeRow) templates.AttributeRow {
		r.Ask = form.Get("ask." + r.Key)
		if r.Ask != templates.AskOptional && r.Ask != templates.AskRequired {
			r.Ask = templates.AskNot
		}
		r.Label = strings.TrimSpace(form.Get("label." + r.Key))
		r.AttrID = strings.TrimSpace(form.Get("attr." + r.Key))
		return r
	}
	for _, k := range knownSchemas {
		v.Rows = append(v.Rows, row(templates.AttributeRow{Key: k.Name, Title: k.Title, SchemaID: selfkey.SchemaURL(k.Name)}))
	}
	for i := 0; i < maxCustomRows; i++ {
		key := fmt.Sprintf("custom-%d", i)
		if _, posted := form["schema."+key]; !posted {
			break
		}
		v.Rows = append(v.Rows, row(templates.AttributeRow{Key: key, Custom: true, SchemaID: strings.TrimSpace(form.Get("schema." + key))}))
	}
	t := db.SelfKeyTemplate{ID: id, Name: v.Name, Description: v.Description, Active: v.Active}
	seen := map[string]bool{}
	for _, r := range v.Rows {
		if r.Ask == templates.AskNot || (r.Custom && r.SchemaID == "") {
			continue
		}
		attrID := r.AttrID
		if attrID == "" || len(attrID) > 64 {
			attrID = strings.ReplaceAll(selfkey.SchemaName(r.SchemaID), "-", "_")
		}
		if seen[r.SchemaID] || seen["id:"+attrID] {
			v.Error = fmt.Sprintf("The schema %s is asked for twice. Keep one row for it.", r.SchemaID)
			return v, t
		}
		seen[r.SchemaID], seen["id:"+attrID] = true, true
		label := r.Label
		if label == "" {
			label = r.Title
		}
		t.Attributes = append(t.Attributes, db.SelfKeyTemplateAttribute{ID: attrID, Label: label, SchemaID: r.SchemaID, Required: r.Ask == templates.AskRequired})
	}
	switch {
	case isNew && (!templateID.MatchString(id) || id == "new"):
		v.Error = "Choose a template id of lower-case letters, digits, - and _ (at most 64), other than \"new\"."
	case v.Name == "" || len(v.Name) > 200:
		v.Error = "Give the template a name (up to 200 characters)."
	case len(v.Description) > 1000:
		v.Error = "Keep the description under 1000 characters."
	case len(t.Attributes) == 0:
		v.Error = "Ask for at least one attribute."
	default:
		if err := protocolTemplate(t).Validate(); err != nil {
			v.Error = "Each other schema must be an http(s) URL of a SelfKey attribute schema, like " + selfkey.SchemaURL("first-name") + "."
		}
	}
	return v, t
}
