package sim

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/kycdesk/kycdesk/providers/corepass"
)

type pageData struct {
	T         Transfer
	Status    string
	Describe  string
	CanAct    bool
	FailSteps []string
	Message   string
	Now       time.Time
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	s.renderPage(w, r.PathValue("id"), http.StatusOK, "")
}

func (s *Server) renderPage(w http.ResponseWriter, id string, code int, msg string) {
	t, ok := s.Transfer(id)
	if !ok {
		text(w, http.StatusNotFound, "CorePass Simulator: no such transfer")
		return
	}
	now := s.cfg.Now()
	status := t.Status()
	canAct := status == corepass.StatusPending && !t.Expired && !now.After(t.Expiration)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = s.page.Execute(w, pageData{T: t, Status: status, Describe: corepass.DescribeStatus(status),
		CanAct: canAct, FailSteps: FailSteps(), Message: msg, Now: now})
}

// The controls keep walking the transfer even if the browser goes away:
// a half-sent sequence of callbacks would be no connector's behaviour.

func (s *Server) handleAccept(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, s.Accept(context.WithoutCancel(r.Context()), r.PathValue("id")))
}

func (s *Server) handleFail(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, s.Fail(context.WithoutCancel(r.Context()), r.PathValue("id"), r.FormValue("step")))
}

func (s *Server) handleExpire(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, s.Expire(r.PathValue("id")))
}

// act redirects back to the page (303) after a control, or re-renders it
// with the problem.
func (s *Server) act(w http.ResponseWriter, r *http.Request, err error) {
	id := r.PathValue("id")
	switch {
	case errors.Is(err, ErrUnknownTransfer):
		text(w, http.StatusNotFound, "CorePass Simulator: no such transfer")
	case err != nil:
		s.renderPage(w, id, http.StatusConflict, err.Error())
	default:
		// A relative Location, resolved by the browser, works wherever the
		// simulator is mounted (http.Redirect would resolve it against the
		// prefix-stripped path).
		w.Header().Set("Location", "../"+id)
		w.WriteHeader(http.StatusSeeOther)
	}
}

const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CorePass Simulator: data transfer request</title>
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;color:#1f2937}
.sim{display:inline-block;background:#f59e0b;color:#111;font-weight:700;padding:.2rem .6rem;border-radius:.3rem}
.msg{background:#fee2e2;padding:.5rem;border-radius:.3rem}
button{font-size:1rem;padding:.5rem 1rem;margin:.25rem 0}
table{border-collapse:collapse}td,th{padding:.15rem .5rem;text-align:left;border-bottom:1px solid #e5e7eb}
code{word-break:break-all}
</style>
</head>
<body>
<p><span class="sim" data-testid="sim-label">Simulator</span> CorePass app (simulated; no real data, no real tokens)</p>
<h1>Data transfer request</h1>
{{if .Message}}<p class="msg" data-testid="message">{{.Message}}</p>{{end}}
<p>A business asks Core ID <code>{{.T.User}}</code> for these verified items:</p>
<ul>{{range .T.Items}}<li>{{.}}</li>{{end}}</ul>
<p>Status: <strong data-testid="status">{{.Status}}</strong>: {{.Describe}}{{if .T.Expired}} (expired){{end}}</p>
<p>Request expires {{.T.Expiration.Format "2006-01-02 15:04:05 MST"}}.</p>
{{if .CanAct}}
<form method="post" action="{{.T.ID}}/accept"><button type="submit" data-testid="accept">Accept and send my data</button></form>
<form method="post" action="{{.T.ID}}/fail">
<label>Fail at step <select name="step">{{range .FailSteps}}<option>{{.}}</option>{{end}}</select></label>
<button type="submit" data-testid="fail">Fail</button>
</form>
<form method="post" action="{{.T.ID}}/expire"><button type="submit" data-testid="expire">Let it expire</button></form>
{{end}}
<h2>History</h2>
<table>
<tr><th>status</th><th>at</th><th>tx</th></tr>
{{range .T.Statuses}}<tr><td>{{.Status}}</td><td>{{.CreatedAt.Format "15:04:05"}}</td><td><code>{{.TxHash}}</code></td></tr>{{end}}
</table>
<p>Status callbacks sent: {{.T.StatusCallbacksSent}} (failed: {{.T.StatusCallbackErrors}}).
Data callback attempts: {{.T.DataAttempts}}{{if .T.DataDelivered}}, delivered{{end}}{{if .T.DataDeliveryAbandoned}}, given up (data kept in the connector){{end}}.</p>
</body>
</html>
`
