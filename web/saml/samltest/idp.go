package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// GroupAttribute is the attribute the IdP puts a user's groups in unless told otherwise: the ADFS
// group claim, which is also KYC Desk's default role attribute.
const GroupAttribute = "http://schemas.xmlsoap.org/claims/Group"

// SessionCookie is the IdP's session cookie name. Cookies ignore ports, so on 127.0.0.1 it must not
// collide with the app's cookie.
const SessionCookie = "samltest_idp_session"

// The IdP's paths, relative to its URL.
const (
	// MetadataPath serves the IdP metadata.
	MetadataPath = "/metadata"
	// SSOPath takes AuthnRequests (HTTP-Redirect or HTTP-POST binding).
	SSOPath = "/sso"
	// InitiatePath starts IdP-initiated sign-in (?sp=<entity ID>&RelayState=<path>).
	InitiatePath = "/initiate"
	// SignOutPath ends the browser's IdP session.
	SignOutPath = "/signout"
)

// sessionMaxAge is how long the IdP's session cookie lives.
const sessionMaxAge = time.Hour

// User is an account at the test IdP.
type User struct {
	Username string
	Password string
	// NameID defaults to Username; NameIDFormat defaults to persistent.
	NameID       string
	NameIDFormat string
	Email        string
	Groups       []string
}

// Options configures StartIdP.
type Options struct {
	Users []User
	// GroupAttribute defaults to GroupAttribute.
	GroupAttribute string
	// SessionLifetime is put in AuthnStatement SessionNotOnOrAfter; zero means 8 hours.
	SessionLifetime time.Duration
	// Logf receives the IdP library's log lines; nil discards them.
	Logf func(format string, args ...any)
}

// IdP is a running test identity provider. Its Set* methods change how it answers from the next
// request on, for negative tests.
type IdP struct {
	// URL is the IdP's root; MetadataURL serves its metadata and SSOURL takes AuthnRequests.
	URL         string
	MetadataURL string
	SSOURL      string
	// Certificate is the signing certificate published in the metadata. RotateKey replaces it;
	// read it only while no RotateKey runs.
	Certificate *x509.Certificate

	server      *httptest.Server
	tb          testing.TB
	key         *rsa.PrivateKey
	groupAttr   string
	sessionLife time.Duration
	log         logger
	loginTmpl   *template.Template
	client      *http.Client
	metadataURL url.URL
	ssoURL      url.URL

	mu             sync.Mutex
	otherCert      *x509.Certificate // made on first SetSignWithUnlistedKey(true)
	otherKey       *rsa.PrivateKey
	previousCert   *x509.Certificate // listed in the metadata after RotateKey(true)
	signerCert     *x509.Certificate // set by SetSigningKey
	signerKey      *rsa.PrivateKey
	users          map[string]User
	sessions       map[string]string // session cookie value -> username
	spSources      []spSource
	timeShift      time.Duration
	mutate         func(*saml.Assertion)
	unlistedSigner bool
	encrypt        bool
}

type spSource struct {
	url      string
	metadata []byte
}

// StartIdP starts an IdP on a loopback httptest server with a fresh RSA-2048 key and self-signed
// certificate, signing with RSA-SHA256. The server is closed when the test ends. Trust a service
// provider with TrustSP before signing in.
func StartIdP(tb testing.TB, opts Options) *IdP {
	tb.Helper()
	cert, key := KeyPair(tb, "samltest IdP")
	p := &IdP{
		Certificate: cert,
		key:         key,
		tb:          tb,
		groupAttr:   opts.GroupAttribute,
		sessionLife: opts.SessionLifetime,
		log:         logger{logf: opts.Logf},
		loginTmpl:   template.Must(template.New("login").Parse(loginPage)),
		client:      &http.Client{Timeout: 5 * time.Second},
		users:       map[string]User{},
		sessions:    map[string]string{},
	}
	if p.groupAttr == "" {
		p.groupAttr = GroupAttribute
	}
	if p.sessionLife == 0 {
		p.sessionLife = 8 * time.Hour
	}
	for _, u := range opts.Users {
		p.AddUser(u)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+MetadataPath, p.serveMetadata)
	mux.HandleFunc(SSOPath, p.serveSSO)
	mux.HandleFunc(InitiatePath, p.serveInitiate)
	mux.HandleFunc(SignOutPath, p.serveSignOut)
	p.server = httptest.NewServer(mux)
	tb.Cleanup(p.server.Close)
	p.URL = p.server.URL
	p.MetadataURL = p.URL + MetadataPath
	p.SSOURL = p.URL + SSOPath
	p.metadataURL = mustParse(p.MetadataURL)
	p.ssoURL = mustParse(p.SSOURL)
	return p
}

func mustParse(raw string) url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(fmt.Sprintf("samltest: parse %q: %v", raw, err))
	}
	return *u
}

// AddUser adds or replaces an account.
func (p *IdP) AddUser(u User) {
	if u.NameID == "" {
		u.NameID = u.Username
	}
	if u.NameIDFormat == "" {
		u.NameIDFormat = string(saml.PersistentNameIDFormat)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.Username] = u
}

// TrustSP makes the IdP trust the service provider whose metadata is served at metadataURL,
// fetched on each sign-in (so the SP may start after the IdP).
func (p *IdP) TrustSP(metadataURL string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spSources = append(p.spSources, spSource{url: metadataURL})
}

// TrustSPMetadata makes the IdP trust the service provider described by metadata.
func (p *IdP) TrustSPMetadata(metadata []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spSources = append(p.spSources, spSource{metadata: metadata})
}

// InitiateURL is where a browser starts IdP-initiated sign-in to the SP with entity ID spEntityID,
// asking it to continue to relayState.
func (p *IdP) InitiateURL(spEntityID, relayState string) string {
	q := url.Values{"sp": {spEntityID}}
	if relayState != "" {
		q.Set("RelayState", relayState)
	}
	return p.URL + InitiatePath + "?" + q.Encode()
}

// SignOutURL ends the browser's session at the IdP, so the next sign-in shows the login form.
func (p *IdP) SignOutURL() string { return p.URL + SignOutPath }

// SetTimeShift moves every time in the assertions the IdP makes by d, as if its clock were off.
func (p *IdP) SetTimeShift(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timeShift = d
}

// SetMutate makes f change each assertion just before it is signed (nil stops).
func (p *IdP) SetMutate(f func(*saml.Assertion)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mutate = f
}

// SetSignWithUnlistedKey makes the IdP sign with a key whose certificate is not in its metadata.
func (p *IdP) SetSignWithUnlistedKey(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && p.otherKey == nil {
		p.otherCert, p.otherKey = KeyPair(p.tb, "samltest IdP (not in metadata)")
	}
	p.unlistedSigner = on
}

// RotateKey gives the IdP a fresh signing key pair, as an IdP rotating its certificate does: from
// the next request on it signs with the new key and its metadata lists the new certificate, and
// the old one too when keepOld (the rollover window, in which the old certificate is still
// published). It returns the old pair, for tests that go on signing with it (SetSigningKey).
func (p *IdP) RotateKey(keepOld bool) (*x509.Certificate, *rsa.PrivateKey) {
	cert, key := KeyPair(p.tb, "samltest IdP (rotated)")
	p.mu.Lock()
	defer p.mu.Unlock()
	oldCert, oldKey := p.Certificate, p.key
	p.Certificate, p.key = cert, key
	p.previousCert = nil
	if keepOld {
		p.previousCert = oldCert
	}
	return oldCert, oldKey
}

// SetSigningKey makes the IdP sign with cert and key whatever its metadata lists; nil cert and
// key go back to the published key.
func (p *IdP) SetSigningKey(cert *x509.Certificate, key *rsa.PrivateKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signerCert, p.signerKey = cert, key
}

// SetEncryptAssertions makes the IdP encrypt assertions to the SP's signing certificate, as an IdP
// configured with an encryption certificate would.
func (p *IdP) SetEncryptAssertions(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.encrypt = on
}

// provider builds the library IdP for one request from the current settings.
func (p *IdP) provider() *saml.IdentityProvider {
	p.mu.Lock()
	defer p.mu.Unlock()
	key, cert := p.key, p.Certificate
	switch {
	case p.signerKey != nil:
		key, cert = p.signerKey, p.signerCert
	case p.unlistedSigner:
		key, cert = p.otherKey, p.otherCert
	}
	return &saml.IdentityProvider{
		Key:                     key,
		Certificate:             cert,
		Logger:                  p.log,
		MetadataURL:             p.metadataURL,
		SSOURL:                  p.ssoURL,
		ServiceProviderProvider: p,
		SessionProvider:         p,
		AssertionMaker:          assertionMaker{shift: p.timeShift, mutate: p.mutate, sessionLife: p.sessionLife},
		SignatureMethod:         dsig.RSASHA256SignatureMethod,
	}
}

func (p *IdP) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	published := &saml.IdentityProvider{Key: p.key, Certificate: p.Certificate, MetadataURL: p.metadataURL, SSOURL: p.ssoURL}
	previous := p.previousCert
	p.mu.Unlock()
	md := published.Metadata()
	if previous != nil {
		d := &md.IDPSSODescriptors[0]
		d.KeyDescriptors = append(d.KeyDescriptors, saml.KeyDescriptor{
			Use:     "signing",
			KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(previous.Raw)}}}},
		})
	}
	buf, err := xml.MarshalIndent(md, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(buf)
}

func (p *IdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	p.provider().ServeSSO(w, r)
}

func (p *IdP) serveInitiate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p.provider().ServeIDPInitiated(w, r, r.Form.Get("sp"), r.Form.Get("RelayState"))
}

func (p *IdP) serveSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, "<!doctype html><title>Signed out</title><p>Signed out of the test IdP.</p>")
}

// GetServiceProvider implements saml.ServiceProviderProvider from the trusted SP sources.
func (p *IdP) GetServiceProvider(_ *http.Request, serviceProviderID string) (*saml.EntityDescriptor, error) {
	p.mu.Lock()
	sources := append([]spSource(nil), p.spSources...)
	encrypt := p.encrypt
	p.mu.Unlock()
	for _, src := range sources {
		data := src.metadata
		if src.url != "" {
			var err error
			if data, err = p.fetch(src.url); err != nil {
				p.log.Printf("fetch SP metadata %s: %v", src.url, err)
				continue
			}
		}
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(data, &ed); err != nil {
			p.log.Printf("parse SP metadata: %v", err)
			continue
		}
		if ed.EntityID != serviceProviderID {
			continue
		}
		if encrypt {
			addEncryptionKey(&ed)
		}
		return &ed, nil
	}
	return nil, os.ErrNotExist
}

// addEncryptionKey publishes the SP's signing certificate for encryption too.
func addEncryptionKey(ed *saml.EntityDescriptor) {
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "signing" {
				kd.Use = "encryption"
				d.KeyDescriptors = append(d.KeyDescriptors, kd)
				break
			}
		}
	}
}

func (p *IdP) fetch(raw string) ([]byte, error) {
	resp, err := p.client.Get(raw)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// GetSession implements saml.SessionProvider: a session cookie named SessionCookie, or the
// username and password posted from the login form, or else the login form.
func (p *IdP) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	if c, err := r.Cookie(SessionCookie); err == nil {
		p.mu.Lock()
		name, ok := p.sessions[c.Value]
		u, known := p.users[name]
		p.mu.Unlock()
		if ok && known {
			return p.session(u)
		}
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil && r.PostForm.Get("username") != "" {
			p.mu.Lock()
			u, ok := p.users[r.PostForm.Get("username")]
			p.mu.Unlock()
			if !ok || u.Password != r.PostForm.Get("password") {
				p.loginForm(w, r, req, "Wrong username or password.")
				return nil
			}
			token := randomHex(32)
			p.mu.Lock()
			p.sessions[token] = u.Username
			p.mu.Unlock()
			http.SetCookie(w, &http.Cookie{
				Name: SessionCookie, Value: token, Path: "/", MaxAge: int(sessionMaxAge.Seconds()),
				HttpOnly: true, SameSite: http.SameSiteLaxMode,
			})
			return p.session(u)
		}
	}
	p.loginForm(w, r, req, "")
	return nil
}

func (p *IdP) session(u User) *saml.Session {
	now := time.Now().UTC()
	s := &saml.Session{
		ID:           randomHex(16),
		CreateTime:   now,
		ExpireTime:   now.Add(sessionMaxAge),
		Index:        randomHex(16),
		NameID:       u.NameID,
		NameIDFormat: u.NameIDFormat,
		UserName:     u.Username,
		UserEmail:    u.Email,
	}
	if len(u.Groups) > 0 {
		values := make([]saml.AttributeValue, 0, len(u.Groups))
		for _, g := range u.Groups {
			values = append(values, saml.AttributeValue{Type: "xs:string", Value: g})
		}
		s.CustomAttributes = append(s.CustomAttributes, saml.Attribute{
			Name:       p.groupAttr,
			NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
			Values:     values,
		})
	}
	return s
}

const loginPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test IdP sign-in</title></head>
<body>
<h1>Test identity provider</h1>
{{if .Error}}<p role="alert" data-testid="idp-error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}" data-testid="idp-login">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<label>Username <input name="username" id="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" id="password" autocomplete="current-password"></label>
<button type="submit" id="signin">Sign in</button>
</form>
</body></html>
`

// loginForm shows the login form, carrying the pending request so that posting the form resumes it.
func (p *IdP) loginForm(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest, message string) {
	hidden := map[string]string{}
	action := SSOPath
	if len(req.RequestBuffer) > 0 {
		// Resubmitted with the POST binding: plain base64, not deflated.
		hidden["SAMLRequest"] = base64.StdEncoding.EncodeToString(req.RequestBuffer)
	} else {
		action = InitiatePath
		hidden["sp"] = r.Form.Get("sp")
	}
	if req.RelayState != "" {
		hidden["RelayState"] = req.RelayState
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if message != "" {
		status = http.StatusUnauthorized
	}
	w.WriteHeader(status)
	_ = p.loginTmpl.Execute(w, struct {
		Action, Error string
		Hidden        map[string]string
	}{action, message, hidden})
}

// assertionMaker wraps the library's assertion maker to shift times and let tests tamper.
type assertionMaker struct {
	shift       time.Duration
	mutate      func(*saml.Assertion)
	sessionLife time.Duration
}

func (m assertionMaker) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return err
	}
	a := req.Assertion
	for i := range a.AuthnStatements {
		end := a.IssueInstant.Add(m.sessionLife)
		a.AuthnStatements[i].SessionNotOnOrAfter = &end
	}
	if m.shift != 0 {
		shiftTimes(a, m.shift)
	}
	if m.mutate != nil {
		m.mutate(a)
	}
	return nil
}

func shiftTimes(a *saml.Assertion, d time.Duration) {
	a.IssueInstant = a.IssueInstant.Add(d)
	if c := a.Conditions; c != nil {
		c.NotBefore = c.NotBefore.Add(d)
		c.NotOnOrAfter = c.NotOnOrAfter.Add(d)
	}
	if a.Subject != nil {
		for _, sc := range a.Subject.SubjectConfirmations {
			if scd := sc.SubjectConfirmationData; scd != nil {
				scd.NotOnOrAfter = scd.NotOnOrAfter.Add(d)
			}
		}
	}
	for i := range a.AuthnStatements {
		st := &a.AuthnStatements[i]
		st.AuthnInstant = st.AuthnInstant.Add(d)
		if st.SessionNotOnOrAfter != nil {
			t := st.SessionNotOnOrAfter.Add(d)
			st.SessionNotOnOrAfter = &t
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("samltest: random: %v", err))
	}
	return hex.EncodeToString(b)
}

// logger adapts a Logf function to the library's logger interface.
type logger struct{ logf func(string, ...any) }

func (l logger) Printf(format string, v ...any) {
	if l.logf != nil {
		l.logf(format, v...)
	}
}
func (l logger) Print(v ...any)                 { l.Printf("%s", fmt.Sprint(v...)) }
func (l logger) Println(v ...any)               { l.Printf("%s", fmt.Sprintln(v...)) }
func (l logger) Fatal(v ...any)                 { panic(fmt.Sprint(v...)) }
func (l logger) Fatalf(format string, v ...any) { panic(fmt.Sprintf(format, v...)) }
func (l logger) Fatalln(v ...any)               { panic(fmt.Sprintln(v...)) }
func (l logger) Panic(v ...any)                 { panic(fmt.Sprint(v...)) }
func (l logger) Panicf(format string, v ...any) { panic(fmt.Sprintf(format, v...)) }
func (l logger) Panicln(v ...any)               { panic(fmt.Sprintln(v...)) }
