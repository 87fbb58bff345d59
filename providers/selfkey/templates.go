package selfkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Template is a KYC template an admin sets up: which SelfKey attribute
// schemas an applicant submits, and which of them are required.
type Template struct {
	ID          string
	Name        string
	Description string
	Attributes  []TemplateAttribute
}

// TemplateAttribute is one attribute of a template. ID is our id for it
// (the wallet echoes it back in the application); SchemaID the SelfKey
// schema URL.
type TemplateAttribute struct {
	ID       string
	Label    string
	SchemaID string
	Required bool
}

// DefaultTemplates is the template offered when an admin has set none: the
// attributes an identity check needs, with the passport required.
func DefaultTemplates() []Template {
	attr := func(name, label string, required bool) TemplateAttribute {
		return TemplateAttribute{ID: strings.ReplaceAll(name, "-", "_"), Label: label, SchemaID: SchemaURL(name), Required: required}
	}
	return []Template{{
		ID:          "standard",
		Name:        "Identity verification",
		Description: "Name, contact, date of birth, nationality and passport",
		Attributes: []TemplateAttribute{
			attr("first-name", "First name", true),
			attr("last-name", "Last name", true),
			attr("email", "Email", true),
			attr("date-of-birth", "Date of birth", true),
			attr("nationality", "Nationality", false),
			attr("passport", "Passport", true),
		},
	}}
}

// Validate checks a template before it is saved: an id, at least one
// attribute, each with an id unique in the template and an http(s) schema
// URL.
func (t Template) Validate() error {
	if strings.TrimSpace(t.ID) == "" || len(t.ID) > 128 || strings.ContainsAny(t.ID, "/?#") {
		return fmt.Errorf("selfkey: template: id must be 1-128 characters without / ? #")
	}
	if len(t.Attributes) == 0 {
		return fmt.Errorf("selfkey: template %s: no attributes", t.ID)
	}
	seen := map[string]bool{}
	for i, a := range t.Attributes {
		if a.ID == "" || seen[a.ID] {
			return fmt.Errorf("selfkey: template %s: attribute %d: id empty or repeated", t.ID, i)
		}
		seen[a.ID] = true
		u, err := url.Parse(a.SchemaID)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("selfkey: template %s: attribute %s: schema is not an http(s) URL", t.ID, a.ID)
		}
	}
	return nil
}

// find returns the template attribute a wallet attribute answers: by our
// attribute id, else by schema.
func (t Template) find(a WalletAttribute) (TemplateAttribute, bool) {
	for _, ta := range t.Attributes {
		if a.ID != "" && string(a.ID) == ta.ID {
			return ta, true
		}
	}
	schema := strings.TrimSpace(a.Schema())
	for _, ta := range t.Attributes {
		if schema != "" && strings.EqualFold(strings.TrimSpace(ta.SchemaID), schema) {
			return ta, true
		}
	}
	return TemplateAttribute{}, false
}

// Check matches an application's attributes to the template: it returns
// only the attributes the template asks for (anything else is dropped,
// never stored), with SchemaID set from the template, and fails with
// ErrInvalidAttributes naming the missing schemas when a required one is
// absent or empty.
func (t Template) Check(attrs []WalletAttribute) ([]WalletAttribute, error) {
	var kept []WalletAttribute
	have := map[string]bool{}
	for _, a := range attrs {
		ta, ok := t.find(a)
		if !ok {
			continue
		}
		a.SchemaID = ta.SchemaID
		kept = append(kept, a)
		if !emptyValue(a.Value()) {
			have[ta.ID] = true
		}
	}
	var missing []string
	for _, ta := range t.Attributes {
		if ta.Required && !have[ta.ID] {
			missing = append(missing, SchemaName(ta.SchemaID))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("selfkey: template %s: missing %s: %w", t.ID, strings.Join(missing, ", "), ErrInvalidAttributes)
	}
	return kept, nil
}

func emptyValue(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	switch string(v) {
	case "", "null", `""`, "{}", "[]":
		return true
	}
	return false
}

// TemplateSummary is one entry of GET /templates; it carries the id under
// both names in use (seed "id", documents "templateId").
type TemplateSummary struct {
	ID          string `json:"id"`
	TemplateID  string `json:"templateId"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// TemplateList is the body of GET /templates in the seed's shape.
type TemplateList struct {
	Templates []TemplateSummary `json:"templates"`
}

// TemplateAttributeBody is one template attribute on the wire.
type TemplateAttributeBody struct {
	ID       string `json:"id"`
	Label    string `json:"label,omitempty"`
	SchemaID string `json:"schemaId"`
	Required bool   `json:"required"`
}

// TemplateBody is one template on the wire.
type TemplateBody struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name,omitempty"`
	Description string                  `json:"description,omitempty"`
	Attributes  []TemplateAttributeBody `json:"attributes"`
}

// TemplateDetail is the body of GET /templates/{id} and
// /templates/{id}/schema.json: the template both wrapped as the seed shows
// it ({"template":{…}}) and flat as the final wallet reads it, so either
// reader finds it.
type TemplateDetail struct {
	Template TemplateBody `json:"template"`
	TemplateBody
}

// ListBody renders GET /templates.
func ListBody(ts []Template) TemplateList {
	out := TemplateList{Templates: make([]TemplateSummary, 0, len(ts))}
	for _, t := range ts {
		out.Templates = append(out.Templates, TemplateSummary{ID: t.ID, TemplateID: t.ID, Name: t.Name, Description: t.Description})
	}
	return out
}

// DetailBody renders GET /templates/{id}[/schema.json].
func DetailBody(t Template) TemplateDetail {
	b := TemplateBody{ID: t.ID, Name: t.Name, Description: t.Description, Attributes: make([]TemplateAttributeBody, 0, len(t.Attributes))}
	for _, a := range t.Attributes {
		b.Attributes = append(b.Attributes, TemplateAttributeBody{ID: a.ID, Label: a.Label, SchemaID: a.SchemaID, Required: a.Required})
	}
	return TemplateDetail{Template: b, TemplateBody: b}
}

// FindTemplate returns the template with id, or ErrNotFound.
func FindTemplate(ts []Template, id string) (Template, error) {
	for _, t := range ts {
		if t.ID == id {
			return t, nil
		}
	}
	return Template{}, fmt.Errorf("selfkey: template: %w", ErrNotFound)
}

// ParseTemplate reads a template as JSON (for an admin import): the
// documents' shape {id, name, description, attributes:[{id, required,
// schemaId, label}]}, also spelled "atributes" there, optionally wrapped
// in {"template": …}; ids may be numbers. It runs Validate.
func ParseTemplate(data []byte) (Template, error) {
	var wrap struct {
		Template json.RawMessage `json:"template"`
	}
	if json.Unmarshal(data, &wrap) == nil && len(wrap.Template) > 0 {
		data = wrap.Template
	}
	type attr struct {
		ID       FlexString `json:"id"`
		Label    string     `json:"label"`
		SchemaID string     `json:"schemaId"`
		Required bool       `json:"required"`
	}
	var b struct {
		ID          FlexString `json:"id"`
		TemplateID  FlexString `json:"templateId"`
		Name        string     `json:"name"`
		Description string     `json:"description"`
		Attributes  []attr     `json:"attributes"`
		Atributes   []attr     `json:"atributes"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return Template{}, fmt.Errorf("selfkey: parse template: %w", ErrBadRequest)
	}
	t := Template{ID: string(b.ID), Name: b.Name, Description: b.Description}
	if t.ID == "" {
		t.ID = string(b.TemplateID)
	}
	for _, a := range append(b.Attributes, b.Atributes...) {
		id := string(a.ID)
		if id == "" {
			id = strings.ReplaceAll(SchemaName(a.SchemaID), "-", "_")
		}
		t.Attributes = append(t.Attributes, TemplateAttribute{ID: id, Label: a.Label, SchemaID: strings.TrimSpace(a.SchemaID), Required: a.Required})
	}
	if err := t.Validate(); err != nil {
		return Template{}, err
	}
	return t, nil
}
