package sim

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
)

// pagePrefix is where the end-user pages live, relative to the root.
const pagePrefix = "/_sim/verifyyou/"

var pages = template.Must(template.New("layout").Funcs(template.FuncMap{"state": stateText}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>VerifyYou Simulator</title></head>
<body>
<p><strong data-testid="sim-label">Simulator</strong> VerifyYou (sandbox, not the real service)</p>
{{if .Message}}<p data-testid="message">{{.Message}}</p>{{end}}
{{if .Users}}<h1>Invites</h1><ul>{{range .Users}}<li><a href="invite/{{.UniqueID}}">{{.ReferenceID}}</a> {{state .}}</li>{{end}}</ul>
{{else if .User}}{{with .User}}
<h1>VerifyYou connection request</h1>
<p>A business asks to connect to your VerifyYou identity.</p>
<p>Reference: <code>{{.ReferenceID}}</code><br>VerifyYou id: <code>{{.UniqueID}}</code><br>
State: <span data-testid="state">{{state .}}</span></p>
{{if .Deverified}}<p>VerifyYou deverified this user; the connection cannot be accepted again.</p>
{{else if .Connected}}
<form method="post" action="{{.UniqueID}}/delete"><button type="submit" data-testid="delete">Delete the connection</button></form>
<h2>VerifyYou operator</h2>
<form method="post" action="{{.UniqueID}}/deverify"><button type="submit" data-testid="deverify">Deverify this user (fraud)</button></form>
{{else}}
<form method="post" action="{{.UniqueID}}/accept"><button type="submit" data-testid="accept">Accept the connection</button></form>
{{end}}
{{with .LastDelivery}}<p data-testid="delivery">Last webhook: {{.Event}},
{{if .Delivered}}delivered (HTTP {{.Status}}){{else if .Err}}not delivered ({{.Err}}){{else}}not delivered (HTTP {{.Status}}){{end}}
after {{.Attempts}} attempt(s).</p>{{end}}
{{end}}{{else if .Back}}<p><a href="{{.Back}}">Back to the invite</a></p>
{{else if not .Message}}<p>No invites yet.</p>{{end}}
</body></html>
`))

// stateText describes a user's connection for the page.
func stateText(u User) string {
	switch {
	case u.Deverified:
		return "deverified by VerifyYou"
	case u.Connected:
		return "connected"
	}
	return "not connected"
}

// doneMessage is the confirmation an action's redirect asks for; a fixed
// list, so that a crafted link cannot put its own text on the page.
func doneMessage(action string) string {
	switch action {
	case "accept":
		return "You accepted the connection."
	case "delete":
		return "You deleted the connection."
	case "deverify":
		return "VerifyYou deverified this user."
	}
	return ""
}

type pageData struct {
	Message string
	User    *User
	Users   []User
	Back    string // a link back to the invite, relative to an action URL
}

func (s *Server) render(w http.ResponseWriter, status int, data pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pages.Execute(w, data)
}

func (s *Server) listPage(w http.ResponseWriter, r *http.Request) {
	users := s.Users()
	s.render(w, http.StatusOK, pageData{Users: users})
}

func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.User(r.PathValue("id"))
	if !ok {
		s.render(w, http.StatusNotFound, pageData{Message: "This invite does not exist."})
		return
	}
	s.render(w, http.StatusOK, pageData{User: &u, Message: doneMessage(r.URL.Query().Get("done"))})
}

// inviteAction runs accept, delete or deverify, then redirects (303) back
// to the invite page with a relative Location, which stays right whatever
// prefix the simulator is mounted under.
func (s *Server) inviteAction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	action := r.PathValue("action")
	var err error
	switch action {
	case "accept":
		_, err = s.Accept(r.Context(), id)
	case "delete":
		_, err = s.Delete(r.Context(), id)
	case "deverify":
		_, err = s.Deverify(r.Context(), id)
	default:
		s.render(w, http.StatusNotFound, pageData{Message: "No such action."})
		return
	}
	switch {
	case errors.Is(err, ErrUnknownUser):
		s.render(w, http.StatusNotFound, pageData{Message: "This invite does not exist."})
		return
	case errors.Is(err, ErrInvalidState):
		s.render(w, http.StatusConflict, pageData{Message: "That is not possible in the connection's current state.", Back: "../" + url.PathEscape(id)})
		return
	case err != nil:
		s.render(w, http.StatusInternalServerError, pageData{Message: "The simulator failed: " + err.Error()})
		return
	}
	w.Header().Set("Location", "../"+url.PathEscape(id)+"?done="+action)
	w.WriteHeader(http.StatusSeeOther)
}
