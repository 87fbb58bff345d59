package sim

import (
	"errors"
	"hash/fnv"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The pages use relative links and redirects only, so that they work both
// at the root (tests) and under http.StripPrefix (/sandbox/blockpass).

const pageCSS = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1f2933}
.sim{display:inline-block;background:#b91c1c;color:#fff;font-weight:700;padding:.15rem .5rem;border-radius:.25rem;letter-spacing:.05em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem}
form.inline{display:inline}label{display:block;margin:.4rem 0}input{padding:.3rem;min-width:16rem}
.err{color:#b91c1c;font-weight:600}.muted{color:#667}`

const pagesHTML = `{{define "connect"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Blockpass KYC Connect (Simulator)</title><style>{{.CSS}}</style></head><body>
<p><span class="sim" data-testid="simulator-label">Simulator</span> Blockpass KYC Connect: nothing here is real.</p>
<h1>Share your identity with {{.ClientID}}</h1>
<p class="muted">Reference: <code data-testid="ref-id">{{.RefID}}</code></p>
{{if .Status}}<p>Your application status: <strong data-testid="status">{{.Status}}</strong>{{if .Archived}} (archived){{end}}</p>{{end}}
{{if .Error}}<p class="err" data-testid="error">{{.Error}}</p>{{end}}
{{if eq .Status "blocked"}}<p class="err">This profile is blocked: it cannot be submitted again.</p>
{{else}}<form method="post">
<label>Given name <input name="given_name" value="{{.Person.GivenName}}" required></label>
<label>Family name <input name="family_name" value="{{.Person.FamilyName}}" required></label>
<label>Date of birth (MM/DD/YYYY) <input name="dob" value="{{.Person.DOB}}" required></label>
<label>Email <input name="email" type="email" value="{{.Person.Email}}" required></label>
<label>Phone <input name="phone" value="{{.Person.Phone.PhoneNumber}}"></label>
<label>Address <input name="address" value="{{.Person.Address.Address}}"></label>
<label>Address, extra <input name="extra" value="{{.Person.Address.ExtraInfo}}"></label>
<label>City <input name="city" value="{{.Person.Address.City}}"></label>
<label>State <input name="state" value="{{.Person.Address.State}}"></label>
<label>Postal code <input name="postal_code" value="{{.Person.Address.PostalCode}}"></label>
<label>Country (ISO-3) <input name="country" value="{{.Person.Address.Country}}"></label>
<p class="muted">A selfie, an ID scan and a proof of address are attached for you.</p>
<button type="submit" data-testid="submit">{{if .Status}}Submit again{{else}}Share my identity{{end}}</button>
</form>{{end}}
</body></html>{{end}}

{{define "console"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Blockpass KYC Connect dashboard (Simulator)</title><style>{{.CSS}}</style></head><body>
<p><span class="sim" data-testid="simulator-label">Simulator</span> Blockpass KYC Connect dashboard, service <code>{{.ClientID}}</code></p>
<p>{{.Seeded}} seeded candidates; API calls served: {{.APICalls}}; rate limited: <strong>{{.RateLimited}}</strong></p>
<form class="inline" method="post" action="settings"><input type="hidden" name="action" value="{{if .RateLimited}}ratelimit_off{{else}}ratelimit_on{{end}}">
<button>{{if .RateLimited}}Stop answering 429{{else}}Answer every API call with 429{{end}}</button></form>
<form class="inline" method="post" action="settings"><input type="hidden" name="action" value="ping"><button>Send a test webhook (ping)</button></form>
<h2>Review any candidate</h2>
<form method="post" action="operator"><input name="recordId" placeholder="recordId" required>
<select name="action">{{range .Actions}}<option value="{{.}}">{{.}}</option>{{end}}</select> <button>Apply</button></form>
<h2>Candidates who came through a link</h2>
<table><tr><th>refId</th><th>recordId</th><th>status</th><th>submits</th><th>archived</th><th>actions</th></tr>
{{range .Created}}<tr data-testid="candidate"><td><a href="connect/{{.RefID}}">{{.RefID}}</a></td><td><code>{{.RecordID}}</code></td><td>{{.Status}}</td><td>{{.SubmitCount}}</td><td>{{.Archived}}</td><td>
{{$id := .RecordID}}{{range $.Actions}}<form class="inline" method="post" action="operator"><input type="hidden" name="recordId" value="{{$id}}"><input type="hidden" name="action" value="{{.}}"><button>{{.}}</button></form> {{end}}
{{if $.Exports}}<br>Encrypted export: <a href="export/{{$id}}/profile.bin" data-testid="export-bin">profile.bin</a> <a href="export/{{$id}}/meta.json" data-testid="export-meta">meta.json</a>{{end}}
</td></tr>{{else}}<tr><td colspan="6" class="muted">None yet: open a KYC Connect link from KYC Desk.</td></tr>{{end}}</table>
{{if .Exports}}<p class="muted">Any candidate's encrypted profile export (sealed to the configured export key): <code>export/{recordId}/profile.bin</code> and <code>export/{recordId}/meta.json</code>{{with .FirstSeeded}}, e.g. <a href="export/{{.}}/profile.bin">profile.bin</a> and <a href="export/{{.}}/meta.json">meta.json</a> of {{.}}{{end}}.</p>{{end}}
<h2>Recent webhooks</h2>
<table><tr><th>event</th><th>delivery</th><th>recordId</th><th>HTTP</th><th>error</th></tr>
{{range .Deliveries}}<tr><td>{{.Event}}{{if .Ping}} (ping){{end}}</td><td><code>{{.GUID}}</code></td><td><code>{{.RecordID}}</code></td><td>{{.StatusCode}}</td><td>{{.Err}}</td></tr>{{end}}</table>
</body></html>{{end}}`

func parsePages() *template.Template {
	return template.Must(template.New("pages").Parse(pagesHTML))
}

// consoleActions are the operator console's buttons.
func consoleActions() []string {
	return []string{string(ActionStartReview), string(ActionApprove), string(ActionReject), string(ActionRequestReview), string(ActionBlock), "delete"}
}

// consolePage serves GET /_sim/blockpass/.
func (s *Server) consolePage(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	now := s.cfg.Now()
	data := struct {
		CSS         template.CSS
		ClientID    string
		Seeded      int
		APICalls    int
		RateLimited bool
		Actions     []string
		Created     []Candidate
		Deliveries  []Delivery
		Exports     bool
		FirstSeeded string
	}{CSS: template.CSS(pageCSS), ClientID: s.cfg.ClientID, Seeded: s.seeded, APICalls: s.apiCalls, RateLimited: s.rateLimited, Actions: consoleActions(),
		Exports: s.cfg.ExportPublicKey != nil}
	if s.seeded > 1 {
		data.FirstSeeded = SeedRecordID(1)
	}
	for i := len(s.created) - 1; i >= 0 && len(data.Created) < 50; i-- {
		data.Created = append(data.Created, s.created[i].view(now))
	}
	for i := len(s.deliveries) - 1; i >= 0 && len(data.Deliveries) < 20; i-- {
		data.Deliveries = append(data.Deliveries, s.deliveries[i])
	}
	s.mu.Unlock()
	render(w, s.pages, "console", http.StatusOK, data)
}

// operatorAction serves POST /_sim/blockpass/operator.
func (s *Server) operatorAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := strings.TrimSpace(r.PostFormValue("recordId"))
	var err error
	if action := r.PostFormValue("action"); action == "delete" {
		err = s.Delete(id)
	} else {
		err = s.Review(id, Action(action))
	}
	switch {
	case errors.Is(err, ErrNotFound):
		http.Error(w, "no candidate with that recordId", http.StatusNotFound)
		return
	case errors.Is(err, ErrBadAction), errors.Is(err, ErrNotSubmitted):
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	// A failed webhook is shown in the console's list; the change stands.
	seeOther(w, "./")
}

// settingsAction serves POST /_sim/blockpass/settings.
func (s *Server) settingsAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	switch r.PostFormValue("action") {
	case "ratelimit_on":
		s.SetRateLimited(true)
	case "ratelimit_off":
		s.SetRateLimited(false)
	case "ping":
		_ = s.Ping() // the outcome is listed in the console
	default:
		http.Error(w, "unknown setting", http.StatusBadRequest)
		return
	}
	seeOther(w, "./")
}

// connectData is the end-user page's model.
type connectData struct {
	CSS      template.CSS
	ClientID string
	RefID    string
	Status   string
	Archived bool
	Error    string
	Person   Person
}

// connectPage serves GET /_sim/blockpass/connect/{refId}: what the end user
// sees after opening the KYC Connect link.
func (s *Server) connectPage(w http.ResponseWriter, r *http.Request) {
	refID := r.PathValue("refId")
	if checkRefID(refID) != nil {
		http.Error(w, ErrBadRefID.Error(), http.StatusBadRequest)
		return
	}
	render(w, s.pages, "connect", http.StatusOK, s.connectModel(refID))
}

func (s *Server) connectModel(refID string) connectData {
	d := connectData{CSS: template.CSS(pageCSS), ClientID: s.cfg.ClientID, RefID: refID, Person: FakePerson(refSeed(refID))}
	if c, ok := s.LookupRef(refID); ok {
		d.Status, d.Archived = c.Status, c.Archived
		if c.Person.GivenName != "" && !c.Archived {
			d.Person = c.Person
		}
	}
	return d
}

// connectSubmit serves POST /_sim/blockpass/connect/{refId}: the user
// shares their identity (registering first if new).
func (s *Server) connectSubmit(w http.ResponseWriter, r *http.Request) {
	refID := r.PathValue("refId")
	if checkRefID(refID) != nil {
		http.Error(w, ErrBadRefID.Error(), http.StatusBadRequest)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p, problem := personFromForm(r, FakePerson(refSeed(refID)))
	if problem != "" {
		d := s.connectModel(refID)
		d.Person, d.Error = p, problem
		render(w, s.pages, "connect", http.StatusUnprocessableEntity, d)
		return
	}
	if _, err := s.Submit(refID, p); errors.Is(err, ErrBlocked) {
		d := s.connectModel(refID)
		d.Error = err.Error()
		render(w, s.pages, "connect", http.StatusConflict, d)
		return
	}
	// A failed webhook shows in the operator console; the submission stands.
	seeOther(w, url.PathEscape(refID))
}

// personFromForm reads the connect form; fallback fills what the form
// cannot carry (the phone's country codes).
func personFromForm(r *http.Request, fallback Person) (Person, string) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	p := Person{
		GivenName: v("given_name"), FamilyName: v("family_name"), DOB: v("dob"), Email: v("email"),
		Address: Address{Address: v("address"), ExtraInfo: v("extra"), City: v("city"), State: v("state"), PostalCode: v("postal_code"), Country: strings.ToUpper(v("country"))},
	}
	phone := v("phone")
	if phone == fallback.Phone.PhoneNumber {
		p.Phone = fallback.Phone
	} else if phone != "" {
		p.Phone = Phone{CountryCode: p.Address.Country, PhoneNumber: phone, Number: strings.TrimPrefix(phone, "+")}
	}
	switch {
	case p.GivenName == "" || p.FamilyName == "":
		return p, "Please enter your given and family names."
	case !strings.Contains(p.Email, "@"):
		return p, "Please enter an email address."
	}
	if _, err := time.Parse("01/02/2006", p.DOB); err != nil {
		return p, "Please enter the date of birth as MM/DD/YYYY."
	}
	return p, ""
}

// refSeed picks the fake identity a refId's form starts with.
func refSeed(refID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(refID))
	return h.Sum64()
}

func render(w http.ResponseWriter, t *template.Template, name string, status int, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = t.ExecuteTemplate(w, name, data)
}

// seeOther redirects with a relative Location, which the browser resolves
// against the URL it asked for (http.Redirect would resolve it against
// the path after StripPrefix).
func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}
