package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config configures the simulator's control page.
type Config struct {
	// PublicURL is the simulator's own externally visible root (in sandbox
	// mode "<KYCDESK_BASE_URL>/sandbox/selfkey"); shown on the page.
	PublicURL string
	// TargetURL is the relying-party root the wallet walks: our
	// "<KYCDESK_BASE_URL>/selfkey".
	TargetURL string
	// Origin is sent as the wallet's Origin header ("" = "IDW").
	Origin string
	// HTTPClient carries the wallet's requests (nil = 30 s timeout).
	HTTPClient *http.Client
	// Now stamps runs; Rand generates wallet keys (nil = time.Now,
	// crypto/rand).
	Now  func() time.Time
	Rand io.Reader
}

// Run is one walk (or refusal check) started from the control page.
type Run struct {
	At      time.Time
	Kind    string
	Subject string
	Result  Result
	Attempt *Attempt
	Err     string
}

// maxRuns bounds the runs kept in memory.
const maxRuns = 20

// Server is the simulator's control page: an http.Handler serving
// GET /_sim/ (a plain form, labelled "Simulator") and POST /_sim/walk,
// which runs a fresh Wallet against TargetURL and shows what happened.
type Server struct {
	cfg  Config
	page *template.Template
	mu   sync.Mutex
	runs []Run
}

// New returns the simulator control page for cfg.
func New(cfg Config) *Server {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Server{cfg: cfg, page: template.Must(template.New("page").Parse(pageHTML))}
}

// ServeHTTP implements http.Handler. Paths are relative to the mount point
// (the app strips "/sandbox/selfkey"); redirects are relative so they
// survive the prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" || r.URL.Path == "" || r.URL.Path == "/_sim":
		loc := "_sim/"
		if s.cfg.PublicURL != "" {
			loc = strings.TrimRight(s.cfg.PublicURL, "/") + "/_sim/"
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusSeeOther)
	case r.URL.Path == "/_sim/" && r.Method == http.MethodGet:
		s.show(w, r)
	case r.URL.Path == "/_sim/walk" && r.Method == http.MethodPost:
		s.walk(w, r)
	case r.URL.Path == "/_sim/walk" || r.URL.Path == "/_sim/":
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	runs := append([]Run(nil), s.runs...)
	s.mu.Unlock()
	data := struct {
		PublicURL, TargetURL, Reference string
		Runs                            []Run
	}{s.cfg.PublicURL, s.cfg.TargetURL, r.URL.Query().Get("ref"), runs}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = s.page.Execute(w, data) // a write error means the client left
}

// walk runs what the form asked for and goes back to the page.
func (s *Server) walk(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	run := s.runOnce(r.Context(), r.PostForm.Get("kind"), r.PostForm.Get("mode") == "legacy", strings.TrimSpace(r.PostForm.Get("reference")))
	s.mu.Lock()
	s.runs = append([]Run{run}, s.runs...)
	if len(s.runs) > maxRuns {
		s.runs = s.runs[:maxRuns]
	}
	s.mu.Unlock()
	w.Header().Set("Location", "./")
	w.WriteHeader(http.StatusSeeOther)
}

// runOnce runs one walk or refusal check with a fresh wallet.
func (s *Server) runOnce(ctx context.Context, kind string, legacy bool, reference string) Run {
	run := Run{At: s.cfg.Now(), Kind: kind}
	wallet, err := NewWallet(s.cfg.Rand)
	if err != nil {
		run.Err = err.Error()
		return run
	}
	wallet.Legacy = legacy
	wallet.Origin = s.cfg.Origin
	if reference != "" {
		wallet.Meta = map[string]any{"reference": reference}
	}
	run.Subject = wallet.Subject()
	check := map[string]func(context.Context, string, *http.Client) (Attempt, error){
		"foreign-signature":         wallet.ForeignSignature,
		"replay":                    wallet.ReplayChallenge,
		"challenge-as-wallet-token": wallet.ChallengeAsWalletToken,
		"tampered-token":            wallet.TamperedWalletToken,
	}[kind]
	if check != nil {
		a, err := check(ctx, s.cfg.TargetURL, s.cfg.HTTPClient)
		run.Attempt = &a
		if err != nil {
			run.Err = err.Error()
		}
		return run
	}
	run.Kind = "walk"
	run.Result, err = wallet.Walk(ctx, s.cfg.TargetURL, s.cfg.HTTPClient)
	var se *StepError
	switch {
	case errors.As(err, &se):
		run.Err = se.Error()
	case err != nil:
		run.Err = err.Error()
	}
	return run
}

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Simulator · SelfKey wallet</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem">
<p><strong style="background:#fde68a; padding: .2rem .5rem">Simulator</strong> — not SelfKey. A simulated
SelfKey Identity Wallet with a throwaway key; it submits made-up data.</p>
<h1>SelfKey wallet</h1>
<p>Walks the relying-party endpoints at <code>{{.TargetURL}}</code> as the real wallet does.</p>
<form method="post" action="walk">
<p><label>Reference (sent as meta.reference) <input name="reference" value="{{.Reference}}"></label></p>
<p>Subject: <label><input type="radio" name="mode" value="did" checked> did:eth DID</label>
<label><input type="radio" name="mode" value="legacy"> public key (legacy)</label></p>
<p><button name="kind" value="walk">Log in with SelfKey and apply</button></p>
<p>Checks that must be refused:
<button name="kind" value="foreign-signature">Sign with another key</button>
<button name="kind" value="replay">Replay a challenge</button>
<button name="kind" value="challenge-as-wallet-token">Challenge as wallet token</button>
<button name="kind" value="tampered-token">Tampered wallet token</button></p>
</form>
<h2>Runs</h2>
{{range .Runs}}<section style="border-top: 1px solid #ccc">
<p><strong>{{.Kind}}</strong> at {{.At.Format "15:04:05"}} as <code>{{.Subject}}</code>
{{if .Err}}<br>Outcome: <strong>{{.Err}}</strong>{{end}}</p>
{{with .Attempt}}<p>{{if ge .Status 400}}Refused as expected{{else}}<strong>NOT refused</strong>{{end}}:
status {{.Status}} <code>{{.Code}}</code> {{.Message}}</p>{{end}}
{{with .Result}}{{if .Steps}}<ol>{{range .Steps}}<li><code>{{.Method}} {{.Path}}</code> → {{.Status}}</li>{{end}}</ol>
{{if .ApplicationID}}<p>Application {{.ApplicationID}} submitted with file {{.FileID}}.</p>{{end}}{{end}}{{end}}
</section>{{else}}<p>No runs yet.</p>{{end}}
</body></html>`
