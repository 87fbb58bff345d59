package selfkey

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/providers"
)

func TestParseApplicationAndTemplateCheck(t *testing.T) {
	tpl := DefaultTemplates()[0]
	if err := tpl.Validate(); err != nil {
		t.Fatal(err)
	}
	body := `{"templateId":"standard","attributes":[
	 {"id":"first_name","schemaId":"` + SchemaURL("first-name") + `","data":"Ada"},
	 {"id":"last_name","schemaId":"` + SchemaURL("last-name") + `","data":"Lovelace"},
	 {"id":"email","schemaId":"` + SchemaURL("email") + `","data":"ada@example.org"},
	 {"schemaId":"` + SchemaURL("date-of-birth") + `","data":"1815-12-10"},
	 {"id":"passport","schemaId":"` + SchemaURL("passport") + `","data":{"image":{"mimeType":"image/png","size":50000,"content":"f-1"},"issued":"2019-02-19","expires":"2029-02-19"}},
	 {"id":"extra","schemaId":"` + SchemaURL("tax-id-number") + `","data":"DE123"}
	],"files":["f-1",2,{"id":"f-3"},{"fileId":"f-4"}]}`
	app, err := ParseApplication(strings.NewReader(body), NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if app.TemplateID != "standard" || len(app.Attributes) != 6 || strings.Join(app.Files, ",") != "f-1,2,f-3,f-4" {
		t.Fatalf("app = %+v", app)
	}
	kept, err := tpl.Check(app.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 5 {
		t.Fatalf("attributes outside the template were kept: %d", len(kept))
	}
	ex, err := Extract(kept, nil, NewLimits(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ex.Attributes {
		if a.Meaning == "tax_id" {
			t.Fatal("tax id not requested but extracted")
		}
	}
	if len(ex.FileRefs) != 1 || ex.FileRefs[0].FileID != "f-1" {
		t.Fatalf("file refs = %+v", ex.FileRefs)
	}

	_, err = tpl.Check(app.Attributes[:2])
	if !errors.Is(err, ErrInvalidAttributes) || !strings.Contains(err.Error(), "passport") || strings.Contains(err.Error(), "Ada") {
		t.Fatalf("missing required: %v", err)
	}
	empty := []WalletAttribute{{ID: "first_name", Data: json.RawMessage(`""`)}}
	if _, err := (Template{ID: "t", Attributes: []TemplateAttribute{{ID: "first_name", SchemaID: SchemaURL("first-name"), Required: true}}}).Check(empty); !errors.Is(err, ErrInvalidAttributes) {
		t.Fatalf("empty required value accepted: %v", err)
	}
}

func TestParseApplicationRefusals(t *testing.T) {
	for name, body := range map[string]string{
		"no template":    `{"attributes":[{"schemaId":"http://a/b.json","data":"x"}]}`,
		"no attributes":  `{"templateId":1}`,
		"bad files":      `{"templateId":1,"attributes":[{"schemaId":"http://a/b.json","data":"x"}],"files":"x"}`,
		"not json":       `templateId=1`,
		"numeric id ok?": `{"templateId":1,"attributes":[{"schemaId":"http://a/b.json","data":"x"}]}`,
	} {
		_, err := ParseApplication(strings.NewReader(body), NewLimits(0, 0))
		if name == "numeric id ok?" {
			if err != nil {
				t.Errorf("numeric template id refused: %v", err)
			}
			continue
		}
		if st, _, _ := HTTPStatus(err); err == nil || st != 400 {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestTemplateBodies(t *testing.T) {
	ts := DefaultTemplates()
	list, _ := json.Marshal(ListBody(ts))
	if !strings.HasPrefix(string(list), `{"templates":[{"id":"standard","templateId":"standard"`) {
		t.Fatalf("list = %s", list)
	}
	detail, _ := json.Marshal(DetailBody(ts[0]))
	var both struct {
		Template   TemplateBody            `json:"template"`
		ID         string                  `json:"id"`
		Attributes []TemplateAttributeBody `json:"attributes"`
	}
	if err := json.Unmarshal(detail, &both); err != nil || both.Template.ID != "standard" || both.ID != "standard" || len(both.Attributes) != 6 || !both.Attributes[0].Required {
		t.Fatalf("detail = %s", detail)
	}
	if _, err := FindTemplate(ts, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	// The documents' own example, misspelling included.
	doc := `{"id":"5c6619ae1ea6440111989852","description":"Standard Attributes and Documents","atributes":[
	 {"id":"5c4e6edda58d2900401ba61b","required":true,"schemaId":"http://platform.selfkey.org/schema/attribute/first-name.json"},
	 {"id":"5c4e6efaa58d2900401ba61d","required":true,"schemaId":"http://platform.selfkey.org/schema/attribute/last-name.json "}],"name":"Standard Attributes"}`
	tpl, err := ParseTemplate([]byte(doc))
	if err != nil || len(tpl.Attributes) != 2 || tpl.Attributes[1].SchemaID != SchemaURL("last-name") {
		t.Fatalf("ParseTemplate = %+v, %v", tpl, err)
	}
	if _, err := ParseTemplate([]byte(`{"template":{"id":1,"attributes":[{"schemaId":"ftp://x"}]}}`)); err == nil {
		t.Fatal("non-http schema accepted")
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		code KYCCStatus
		want providers.Status
		name string
	}{
		{StatusMissing, providers.StatusInvited, "MISSING"},
		{StatusInProgress, providers.StatusNeedsReview, "IN_PROGRESS"},
		{StatusApproved, providers.StatusApproved, "APPROVED"},
		{StatusRejected, providers.StatusRejected, "REJECTED"},
		{StatusUploaded, providers.StatusInProgress, "UPLOADED"},
		{StatusInvited, providers.StatusInvited, "INVITED"},
		{StatusUserProcessing, providers.StatusInvited, "USER_PROCESSING"},
		{StatusUserDeclined, providers.StatusBlocked, "USER_DECLINED"},
		{StatusCanceled, providers.StatusBlocked, "CANCELED"},
		{StatusAdditionalRequested, providers.StatusRejected, "ADDITIONAL_REQUESTED"},
		{StatusCorporateDetails, providers.StatusInProgress, "CORPORATE_DETAILS"},
		{StatusUserProcessingRequirement, providers.StatusInvited, "USER_PROCESSING_REQUIREMENT"},
		{StatusPartiallyApproved, providers.StatusNeedsReview, "PARTIALLY_APPROVED"},
		{StatusSendTokens, providers.StatusInProgress, "SEND_TOKENS"},
		{StatusManagerAssigned, providers.StatusInProgress, "MANAGER_ASSIGNED"},
		{StatusDataCheck, providers.StatusInProgress, "DATA_CHECK"},
		{StatusReopened, providers.StatusInProgress, "REOPENED"},
	}
	for _, tt := range tests {
		got, ok := MapStatus(tt.code)
		if !ok || got != tt.want || tt.code.String() != tt.name {
			t.Errorf("MapStatus(%d) = %s %v, name %s", tt.code, got, ok, tt.code)
		}
	}
	if _, ok := MapStatus(17); ok || KYCCStatus(17).String() != "UNKNOWN" {
		t.Error("code 17 mapped")
	}
	for _, s := range providers.Statuses {
		back, ok := MapStatus(CodeFor(s))
		if !ok {
			t.Errorf("CodeFor(%s) unmapped", s)
		}
		if s == providers.StatusApproved && back != s || s == providers.StatusRejected && back != s {
			t.Errorf("round trip %s -> %s", s, back)
		}
	}
}
