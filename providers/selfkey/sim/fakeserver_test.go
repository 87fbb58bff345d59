package sim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/selfkey"
)

// relyingParty is a stand-in for our /selfkey endpoints built only from
// the exported selfkey API, each handler as thin as the real Echo ones
// should be: parse, call the Service, store, reply or render the error.
type relyingParty struct {
	svc       *selfkey.Service
	templates []selfkey.Template
	clock     *testClock

	mu           sync.Mutex
	users        map[string]selfkey.Extracted // by wallet subject
	meta         map[string]string            // reference by wallet subject
	files        map[string]fileRecord
	applications map[string]application
	headers      []http.Header
}

type fileRecord struct {
	owner  string
	upload selfkey.Upload
}

type application struct {
	owner     string
	template  string
	extracted selfkey.Extracted
	documents []providers.Document
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func newRelyingParty(t *testing.T, cfg selfkey.Config) *relyingParty {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	if cfg.JWTKey == nil {
		cfg.JWTKey = []byte(strings.Repeat("sim-test-key-", 4))
	}
	svc, err := selfkey.NewService(cfg, selfkey.Deps{Store: selfkey.NewMemoryChallengeStore(clk.Now), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &relyingParty{svc: svc, templates: selfkey.DefaultTemplates(), clock: clk,
		users: map[string]selfkey.Extracted{}, meta: map[string]string{}, files: map[string]fileRecord{}, applications: map[string]application{}}
}

func (rp *relyingParty) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/challenge/{subject}", rp.challenge)
	mux.HandleFunc("GET /auth/challenge", rp.challenge)
	mux.HandleFunc("POST /auth/challenge", rp.verify)
	mux.HandleFunc("POST /users", rp.createUser)
	mux.HandleFunc("GET /users/token", rp.userToken)
	mux.HandleFunc("GET /auth/token", rp.userToken)
	mux.HandleFunc("POST /files", rp.uploadFile)
	mux.HandleFunc("POST /users/file", rp.uploadFile)
	mux.HandleFunc("GET /templates", rp.listTemplates)
	mux.HandleFunc("GET /templates/{id}", rp.showTemplate)
	mux.HandleFunc("GET /templates/{id}/schema.json", rp.showTemplate)
	mux.HandleFunc("POST /applications", rp.createApplication)
	mux.HandleFunc("POST /login", rp.login)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.headers = append(rp.headers, r.Header.Clone())
		rp.mu.Unlock()
		// The wallet's calls carry its Origin; /login comes from the browser.
		if err := rp.svc.CheckOrigin(r.Header.Get("Origin")); err != nil && r.URL.Path != "/login" {
			fail(w, err)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	status, body := selfkey.ErrorBody(err)
	reply(w, status, body)
}

func (rp *relyingParty) challenge(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if subject == "" { // the seed's form: the challenge is for the client IP
		subject, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	tok, err := rp.svc.Challenge(r.Context(), subject)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, selfkey.TokenResponse{JWT: tok})
}

func (rp *relyingParty) verify(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	tok, _, err := rp.svc.Verify(r.Context(), r.Header.Get("Authorization"), body)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, selfkey.TokenResponse{JWT: tok})
}

func (rp *relyingParty) createUser(w http.ResponseWriter, r *http.Request) {
	claims, err := rp.svc.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		fail(w, err)
		return
	}
	req, err := selfkey.ParseUsers(r.Header.Get("Content-Type"), r.Body, rp.svc.Limits())
	if err != nil {
		fail(w, err)
		return
	}
	ex, err := req.Extract(rp.svc.Limits())
	if err != nil {
		fail(w, err)
		return
	}
	tok, err := rp.svc.IssueUserToken(claims.Subject)
	if err != nil {
		fail(w, err)
		return
	}
	rp.mu.Lock()
	rp.users[claims.Subject] = ex
	rp.meta[claims.Subject] = req.MetaString("reference")
	rp.mu.Unlock()
	reply(w, http.StatusCreated, selfkey.NewUserCreated(tok))
}

func (rp *relyingParty) userToken(w http.ResponseWriter, r *http.Request) {
	claims, err := rp.svc.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		fail(w, err)
		return
	}
	rp.mu.Lock()
	_, ok := rp.users[claims.Subject]
	rp.mu.Unlock()
	if !ok {
		fail(w, selfkey.ErrUserNotFound)
		return
	}
	tok, err := rp.svc.IssueUserToken(claims.Subject)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, selfkey.UserTokenResponse{Token: tok})
}

func (rp *relyingParty) uploadFile(w http.ResponseWriter, r *http.Request) {
	claims, err := rp.svc.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		fail(w, err)
		return
	}
	up, err := selfkey.ParseFileUpload(r.Header.Get("Content-Type"), r.Body, rp.svc.Limits())
	if err != nil {
		fail(w, err)
		return
	}
	rp.mu.Lock()
	id := fmt.Sprintf("file-%d", len(rp.files)+1)
	rp.files[id] = fileRecord{owner: claims.Subject, upload: up}
	rp.mu.Unlock()
	reply(w, http.StatusOK, selfkey.NewFileCreated(id))
}

func (rp *relyingParty) listTemplates(w http.ResponseWriter, r *http.Request) {
	reply(w, http.StatusOK, selfkey.ListBody(rp.templates))
}

func (rp *relyingParty) showTemplate(w http.ResponseWriter, r *http.Request) {
	t, err := selfkey.FindTemplate(rp.templates, r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, selfkey.DetailBody(t))
}

func (rp *relyingParty) createApplication(w http.ResponseWriter, r *http.Request) {
	claims, err := rp.svc.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		fail(w, err)
		return
	}
	app, err := selfkey.ParseApplication(r.Body, rp.svc.Limits())
	if err != nil {
		fail(w, err)
		return
	}
	t, err := selfkey.FindTemplate(rp.templates, app.TemplateID)
	if err != nil {
		fail(w, err)
		return
	}
	kept, err := t.Check(app.Attributes)
	if err != nil {
		fail(w, err)
		return
	}
	ex, err := selfkey.Extract(kept, nil, rp.svc.Limits())
	if err != nil {
		fail(w, err)
		return
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var docs []providers.Document
	for _, ref := range ex.FileRefs {
		f, ok := rp.files[ref.FileID]
		if !ok || f.owner != claims.Subject { // only the wallet's own uploads
			fail(w, selfkey.ErrInvalidAttributes)
			return
		}
		docs = append(docs, providers.Document{Name: ref.Name, ContentType: f.upload.ContentType, Data: f.upload.Data})
	}
	id := fmt.Sprintf("app-%d", len(rp.applications)+1)
	rp.applications[id] = application{owner: claims.Subject, template: t.ID, extracted: ex, documents: docs}
	reply(w, http.StatusCreated, selfkey.NewApplicationCreated(id, "https://desk.example.org/verify/"+id))
}

func (rp *relyingParty) login(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<10))
	tok, err := selfkey.ParseLoginBody(body)
	if err != nil {
		fail(w, err)
		return
	}
	if _, err := rp.svc.Login(r.Context(), tok); err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, selfkey.NewLoginResponse("/verify/done"))
}
