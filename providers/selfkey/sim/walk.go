package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/kycdesk/kycdesk/providers/selfkey"
)

// Result is what a successful walk obtained.
type Result struct {
	Subject       string // the subject the challenge was asked for
	Address       string
	ChallengeJWT  string
	WalletJWT     string
	UserToken     string
	TemplateID    string
	FileID        string
	ApplicationID string
	Steps         []Step
}

// Walk runs the wallet's whole journey against the relying-party root
// baseURL (our "<KYCDESK_BASE_URL>/selfkey"), as the Identity Wallet does
// (providers.md §4.2): GET /auth/challenge/{subject}, sign the nonce, POST
// /auth/challenge, POST /users (multipart: attributes, meta and a generated
// JPEG as $document-1; or, with UserFiles, POST /users/file then POST
// /users as JSON), GET /templates, GET /templates/{id}, POST /files
// (multipart field "document"), POST /applications. Every request carries
// "User-Agent: SelfKeyIDW/<version>" and Origin. A refused step is a
// *StepError; the steps done so far are in the Result.
func (w *Wallet) Walk(ctx context.Context, baseURL string, httpClient *http.Client) (Result, error) {
	s := newSession(w, baseURL, httpClient)
	res := Result{Subject: w.Subject(), Address: w.Address()}
	done := func(err error) (Result, error) {
		res.Steps = s.steps
		return res, err
	}

	challenge, wallet, err := s.login(ctx)
	res.ChallengeJWT, res.WalletJWT = challenge, wallet
	if err != nil {
		return done(err)
	}

	jpg := SampleJPEG()
	if res.UserToken, err = s.createUser(ctx, wallet, jpg); err != nil {
		return done(err)
	}

	tpl, err := s.template(ctx, w.TemplateID)
	if err != nil {
		return done(err)
	}
	res.TemplateID = tpl.ID

	ct, body := multipartBody(part{name: "document", contentType: "image/jpeg", filename: "document", data: jpg})
	var file struct {
		ID     selfkey.FlexString `json:"id"`
		FileID selfkey.FlexString `json:"fileId"`
	}
	if err := s.call(ctx, http.MethodPost, "/files", wallet, ct, body, &file); err != nil {
		return done(err)
	}
	res.FileID = string(file.ID)
	if res.FileID == "" {
		res.FileID = string(file.FileID)
	}
	if res.FileID == "" {
		return done(fmt.Errorf("selfkey sim: POST /files: no file id in reply"))
	}

	app := map[string]any{
		"templateId": tpl.ID,
		"attributes": w.applicationAttributes(tpl, res.FileID, len(jpg)),
		"files":      []string{res.FileID},
	}
	var appCreated struct {
		ID selfkey.FlexString `json:"id"`
	}
	if err := s.call(ctx, http.MethodPost, "/applications", wallet, "application/json", jsonBody(app), &appCreated); err != nil {
		return done(err)
	}
	res.ApplicationID = string(appCreated.ID)
	return done(nil)
}

// createUser sends POST /users in the form the wallet is set to use and
// returns the user token of the reply.
func (s *session) createUser(ctx context.Context, wallet string, jpg []byte) (string, error) {
	var created struct {
		Token string `json:"token"`
	}
	if s.w.UserFiles {
		ct, body := multipartBody(part{name: "document", contentType: "image/jpeg", filename: "document", data: jpg})
		var file struct {
			ID selfkey.FlexString `json:"id"`
		}
		if err := s.call(ctx, http.MethodPost, "/users/file", wallet, ct, body, &file); err != nil {
			return "", err
		}
		img := map[string]any{"mimeType": "image/jpeg", "size": len(jpg), "content": string(file.ID)}
		req := map[string]any{"attributes": s.w.userAttributes(img, false), "meta": s.w.meta()}
		if err := s.call(ctx, http.MethodPost, "/users", wallet, "application/json", jsonBody(req), &created); err != nil {
			return "", err
		}
		return created.Token, nil
	}
	ct, body := multipartBody(
		part{name: "attributes", contentType: "application/json", data: jsonBody(s.w.userAttributes("$document-1", true))},
		part{name: "meta", contentType: "application/json", data: jsonBody(s.w.meta())},
		part{name: "$document-1", contentType: "image/jpeg", filename: "document-1", data: jpg},
	)
	if err := s.call(ctx, http.MethodPost, "/users", wallet, ct, body, &created); err != nil {
		return "", err
	}
	return created.Token, nil
}

// login gets a challenge, signs it and trades it for a wallet token.
func (s *session) login(ctx context.Context) (challenge, wallet string, err error) {
	challenge, err = s.challenge(ctx)
	if err != nil {
		return "", "", err
	}
	nonce, err := nonceOf(challenge)
	if err != nil {
		return challenge, "", err
	}
	var tok selfkey.TokenResponse
	if err := s.call(ctx, http.MethodPost, "/auth/challenge", challenge, "application/json", s.w.answer(s.w.SignNonce(nonce)), &tok); err != nil {
		return challenge, "", err
	}
	return challenge, tok.JWT, nil
}

// challenge asks for a challenge token for the wallet's subject.
func (s *session) challenge(ctx context.Context) (string, error) {
	var tok selfkey.TokenResponse
	if err := s.call(ctx, http.MethodGet, "/auth/challenge/"+url.PathEscape(s.w.Subject()), "", "", nil, &tok); err != nil {
		return "", err
	}
	if tok.JWT == "" {
		return "", fmt.Errorf("selfkey sim: GET /auth/challenge: no jwt in reply")
	}
	return tok.JWT, nil
}

// answer is the POST /auth/challenge body for signature sig.
func (w *Wallet) answer(sig string) []byte {
	if w.Legacy {
		return jsonBody(map[string]any{"signature": sig})
	}
	return jsonBody(map[string]any{"signature": map[string]string{"value": sig, "keyId": w.KeyID()}})
}

// template lists the templates and fetches the chosen one.
func (s *session) template(ctx context.Context, want string) (selfkey.TemplateBody, error) {
	status, data, err := s.do(ctx, http.MethodGet, "/templates", "", "", nil)
	if err != nil {
		return selfkey.TemplateBody{}, err
	}
	if status != http.StatusOK {
		a := attemptOf(status, data)
		return selfkey.TemplateBody{}, &StepError{Method: http.MethodGet, Path: "/templates", Status: status, Code: a.Code, Message: a.Message}
	}
	ids, err := templateIDs(data)
	if err != nil {
		return selfkey.TemplateBody{}, err
	}
	id := want
	if id == "" {
		if len(ids) == 0 {
			return selfkey.TemplateBody{}, fmt.Errorf("selfkey sim: GET /templates: no templates")
		}
		id = ids[0]
	}
	var detail selfkey.TemplateDetail
	if err := s.call(ctx, http.MethodGet, "/templates/"+url.PathEscape(id), "", "", nil, &detail); err != nil {
		return selfkey.TemplateBody{}, err
	}
	t := detail.TemplateBody
	if t.ID == "" {
		t = detail.Template
	}
	if t.ID == "" {
		t.ID = id
	}
	return t, nil
}

// templateIDs reads GET /templates in the seed's shape ({"templates":[…]})
// or the documents' (a bare list), ids under "id" or "templateId".
func templateIDs(data []byte) ([]string, error) {
	type entry struct {
		ID         selfkey.FlexString `json:"id"`
		TemplateID selfkey.FlexString `json:"templateId"`
	}
	var list []entry
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("selfkey sim: GET /templates: %w", err)
		}
	} else {
		var wrapped struct {
			Templates []entry `json:"templates"`
		}
		if err := json.Unmarshal(t, &wrapped); err != nil {
			return nil, fmt.Errorf("selfkey sim: GET /templates: %w", err)
		}
		list = wrapped.Templates
	}
	ids := make([]string, 0, len(list))
	for _, e := range list {
		if e.TemplateID != "" {
			ids = append(ids, string(e.TemplateID))
		} else if e.ID != "" {
			ids = append(ids, string(e.ID))
		}
	}
	return ids, nil
}

func (w *Wallet) profile() map[string]any {
	if w.Profile != nil {
		return w.Profile
	}
	return DefaultProfile()
}

func (w *Wallet) meta() map[string]any {
	if w.Meta != nil {
		return w.Meta
	}
	return map[string]any{}
}

// userAttributes is the /users attribute list with document images set to
// img: "$document-1" in the multipart form (data wrapped in {"value": …}),
// a file object in the JSON form (data as is).
func (w *Wallet) userAttributes(img any, wrap bool) []map[string]any {
	names := []string{"first-name", "last-name", "email", "date-of-birth", "nationality", "passport"}
	var out []map[string]any
	for _, name := range names {
		v, ok := w.profile()[name]
		if !ok {
			continue
		}
		if fileSchema(name) {
			v = withImage(v, img)
		}
		var data any = v
		if wrap {
			data = map[string]any{"value": v}
		}
		out = append(out, map[string]any{"id": name, "schemaId": selfkey.SchemaURL(name), "data": data})
	}
	return out
}

// applicationAttributes answers every attribute of the template, document
// images as file objects whose content is the uploaded file id.
func (w *Wallet) applicationAttributes(t selfkey.TemplateBody, fileID string, size int) []map[string]any {
	file := map[string]any{"mimeType": "image/jpeg", "size": size, "content": fileID}
	var out []map[string]any
	for _, a := range t.Attributes {
		name := selfkey.SchemaName(a.SchemaID)
		v, ok := w.profile()[name]
		switch {
		case fileSchema(name):
			v = withImage(v, file)
		case !ok:
			v = "sample"
		}
		out = append(out, map[string]any{"id": a.ID, "schemaId": a.SchemaID, "data": v})
	}
	return out
}

// withImage returns the object v with its "image" set to img.
func withImage(v any, img any) map[string]any {
	out := map[string]any{}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			out[k] = x
		}
	}
	out["image"] = img
	return out
}
