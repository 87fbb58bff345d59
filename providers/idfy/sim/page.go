package sim

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"
)

type captureView struct {
	Base, ID, Token, RedirectURI, ExitURL, Status string
	ExpiresAt                                     string
	CanStart, CanFinish, CanCancel                bool
}

type operatorRow struct {
	ProfileState
	Created                        string
	CaptureLink                    string
	CanReview, CanPurge, CanExpire bool
}

type operatorView struct {
	Base       string
	Rows       []operatorRow
	Deliveries []Delivery
}

type messageView struct {
	Title, Message, Link, LinkText string
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = s.pages.ExecuteTemplate(w, name, data)
}

func (s *Server) message(w http.ResponseWriter, status int, title, msg string) {
	s.render(w, status, "message", messageView{Title: title, Message: msg})
}

// capturePage is the end user's journey: what the capture link opens.
func (s *Server) capturePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	view, status, msg := s.captureView(r, r.PathValue("id"), q.Get("t"))
	if status != http.StatusOK {
		s.message(w, status, "Capture link", msg)
		return
	}
	view.RedirectURI, view.ExitURL = q.Get("redirect_uri"), q.Get("exit_url")
	s.render(w, http.StatusOK, "capture", view)
}

// captureView checks the link's token and expiry and describes the page.
func (s *Server) captureView(r *http.Request, id, token string) (captureView, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[id]
	if !ok {
		return captureView{}, http.StatusNotFound, "This capture link does not exist."
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(p.token)) != 1 {
		return captureView{}, http.StatusForbidden, "This capture link is not valid."
	}
	s.expireIfDue(p)
	if p.status == StatusCaptureExpired {
		return captureView{}, http.StatusGone, "This capture link has expired. Ask for a new one."
	}
	pending := p.status == StatusCapturePending || p.status == StatusInProgress
	return captureView{
		Base: s.publicURL(r), ID: p.id, Token: p.token, Status: p.status,
		ExpiresAt: p.captureExpires.UTC().Format(time.RFC1123),
		CanStart:  p.status == StatusCapturePending, CanFinish: pending, CanCancel: pending,
	}, http.StatusOK, ""
}

// captureAction runs the end user's step: start the call, finish the
// capture (then go to redirect_uri) or cancel (then go to exit_url).
func (s *Server) captureAction(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.message(w, http.StatusBadRequest, "Capture", "Bad form.")
		return
	}
	id, token := r.PathValue("id"), r.PostForm.Get("t")
	redirectURI, exitURL := r.PostForm.Get("redirect_uri"), r.PostForm.Get("exit_url")
	if _, status, msg := s.captureView(r, id, token); status != http.StatusOK {
		s.message(w, status, "Capture link", msg)
		return
	}
	var err error
	switch r.PathValue("action") {
	case "start":
		err = s.StartCall(r.Context(), id)
	case "finish":
		err = s.FinishCapture(r.Context(), id)
	case "cancel":
		err = s.CancelCapture(r.Context(), id)
	default:
		s.message(w, http.StatusNotFound, "Capture", "No such step.")
		return
	}
	if errors.Is(err, ErrState) || errors.Is(err, ErrNotFound) {
		s.message(w, http.StatusConflict, "Capture", "That step is not possible now.")
		return
	}
	// A webhook delivery error does not undo the step; the operator page
	// shows it.
	switch r.PathValue("action") {
	case "start":
		back := url.Values{"t": {token}}
		if redirectURI != "" {
			back.Set("redirect_uri", redirectURI)
		}
		if exitURL != "" {
			back.Set("exit_url", exitURL)
		}
		http.Redirect(w, r, s.publicURL(r)+pagePrefix+"capture/"+url.PathEscape(id)+"?"+back.Encode(), http.StatusSeeOther)
	case "finish":
		s.leave(w, r, redirectURI, "Capture complete", "Your capture is complete. An agent will review it.")
	case "cancel":
		s.leave(w, r, exitURL, "Capture cancelled", "You left the capture.")
	}
}

// leave redirects the end user to target when it is an absolute http(s) URL,
// and otherwise shows a closing message.
func (s *Server) leave(w http.ResponseWriter, r *http.Request, target, title, msg string) {
	if u, err := url.Parse(target); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	s.message(w, http.StatusOK, title, msg)
}

// operatorPage is the agent's console: every profile, with review, purge
// and expire controls, and the webhooks sent.
func (s *Server) operatorPage(w http.ResponseWriter, r *http.Request) {
	view := operatorView{Base: s.publicURL(r)}
	for _, st := range s.Profiles() {
		s.mu.Lock()
		p := s.profiles[st.ProfileID]
		s.expireIfDue(p)
		link := s.captureLink(view.Base, p)
		created := p.createdAt.Format(time.RFC3339)
		st = s.stateOf(p)
		s.mu.Unlock()
		view.Rows = append(view.Rows, operatorRow{
			ProfileState: st, Created: created, CaptureLink: link,
			CanReview: st.Status == StatusCompleted && st.ReviewerAction == "",
			CanPurge:  st.Status != StatusPurged,
			CanExpire: st.Status == StatusCapturePending || st.Status == StatusInProgress,
		})
	}
	view.Deliveries = s.Deliveries()
	s.render(w, http.StatusOK, "operator", view)
}

// operatorAction runs an agent's control and returns to the console.
func (s *Server) operatorAction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "approve":
		err = s.Review(r.Context(), id, ReviewerApproved)
	case "reject":
		err = s.Review(r.Context(), id, ReviewerRejected)
	case "purge":
		err = s.Purge(r.Context(), id)
	case "expire":
		err = s.ExpireCapture(r.Context(), id)
	default:
		s.message(w, http.StatusNotFound, "Operator", "No such control.")
		return
	}
	switch {
	case errors.Is(err, ErrNotFound):
		s.message(w, http.StatusNotFound, "Operator", "No such profile.")
		return
	case errors.Is(err, ErrState):
		s.message(w, http.StatusConflict, "Operator", "Not possible in the profile's current status.")
		return
	}
	http.Redirect(w, r, s.publicURL(r)+pagePrefix, http.StatusSeeOther)
}

const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>IDfy Simulator</title></head>
<body style="font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem">
<p><strong style="background:#fde68a; padding:0.2rem 0.5rem" data-testid="sim-label">Simulator</strong> IDfy Profile Gateway (sandbox, not the real service)</p>
{{end}}
{{define "foot"}}</body></html>{{end}}

{{define "message"}}{{template "head"}}
<h1>{{.Title}}</h1>
<p data-testid="message">{{.Message}}</p>
{{template "foot"}}{{end}}

{{define "capture"}}{{template "head"}}
<h1>Video KYC capture</h1>
<p>Profile <code data-testid="profile-id">{{.ID}}</code>, status <strong data-testid="status">{{.Status}}</strong>. This link expires {{.ExpiresAt}}.</p>
{{if .CanStart}}
<form method="post" action="{{.Base}}/_sim/idfy/capture/{{.ID}}/start">
<input type="hidden" name="t" value="{{.Token}}"><input type="hidden" name="redirect_uri" value="{{.RedirectURI}}"><input type="hidden" name="exit_url" value="{{.ExitURL}}">
<button type="submit" data-testid="start">Join the video call</button></form>
{{end}}
{{if .CanFinish}}
<form method="post" action="{{.Base}}/_sim/idfy/capture/{{.ID}}/finish">
<input type="hidden" name="t" value="{{.Token}}"><input type="hidden" name="redirect_uri" value="{{.RedirectURI}}"><input type="hidden" name="exit_url" value="{{.ExitURL}}">
<button type="submit" data-testid="finish">Finish the capture</button></form>
{{end}}
{{if .CanCancel}}
<form method="post" action="{{.Base}}/_sim/idfy/capture/{{.ID}}/cancel">
<input type="hidden" name="t" value="{{.Token}}"><input type="hidden" name="redirect_uri" value="{{.RedirectURI}}"><input type="hidden" name="exit_url" value="{{.ExitURL}}">
<button type="submit" data-testid="cancel">Cancel and leave</button></form>
{{end}}
{{if not .CanFinish}}<p data-testid="done">This capture is finished.</p>{{end}}
{{template "foot"}}{{end}}

{{define "operator"}}{{template "head"}}
<h1>IDfy agent console</h1>
{{if not .Rows}}<p data-testid="empty">No profiles yet.</p>{{end}}
{{if .Rows}}
<table border="1" cellpadding="4" style="border-collapse: collapse">
<thead><tr><th>Profile</th><th>Reference</th><th>Status</th><th>Reviewer action</th><th>Created</th><th>Mode</th><th>Controls</th></tr></thead>
<tbody>
{{range .Rows}}
<tr data-testid="profile-{{.ProfileID}}">
<td><code>{{.ProfileID}}</code></td><td>{{.ReferenceID}}</td><td data-testid="status">{{.Status}}</td>
<td data-testid="reviewer-action">{{if .ReviewerAction}}{{.ReviewerAction}}{{else}}null{{end}}</td><td>{{.Created}}</td>
<td>{{if .Async}}async{{else}}sync{{end}}{{if .Encrypted}}, encrypted{{end}}, {{.Resources}} resources</td>
<td>
<a href="{{.CaptureLink}}">capture page</a>
{{if .CanReview}}
<form method="post" action="{{$.Base}}/_sim/idfy/operator/{{.ProfileID}}/approve" style="display:inline"><button type="submit" data-testid="approve">Approve</button></form>
<form method="post" action="{{$.Base}}/_sim/idfy/operator/{{.ProfileID}}/reject" style="display:inline"><button type="submit" data-testid="reject">Reject</button></form>
{{end}}
{{if .CanExpire}}<form method="post" action="{{$.Base}}/_sim/idfy/operator/{{.ProfileID}}/expire" style="display:inline"><button type="submit" data-testid="expire">Let the link expire</button></form>{{end}}
{{if .CanPurge}}<form method="post" action="{{$.Base}}/_sim/idfy/operator/{{.ProfileID}}/purge" style="display:inline"><button type="submit" data-testid="purge">Purge</button></form>{{end}}
</td></tr>
{{end}}
</tbody></table>
{{end}}
<h2>Webhooks sent</h2>
{{if not .Deliveries}}<p>None yet.</p>{{end}}
<ul>
{{range .Deliveries}}<li data-testid="delivery">{{.At.Format "15:04:05"}} {{.Event}} for <code>{{.ProfileID}}</code>: {{if .Err}}failed ({{.Err}}){{else}}HTTP {{.Status}}{{end}}</li>
{{end}}
</ul>
{{template "foot"}}{{end}}
`
