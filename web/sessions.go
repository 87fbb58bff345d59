package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// CookieName is the staff session cookie. It holds only the server-side
// session id, the CSRF token and a one-shot flash message, signed and
// encrypted with the session keys.
const CookieName = "kycdesk_session"

// CSRFField is the form field and CSRFHeader the header (sent by htmx) that
// carry the CSRF token.
const (
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// Sessions manages the staff session cookie.
type Sessions struct {
	store *sessions.CookieStore
}

// NewSessions builds the cookie store. keys holds hash/block key pairs
// (32 bytes each); more than one pair allows rotation.
func NewSessions(keys [][]byte, secure bool, maxAge time.Duration) (*Sessions, error) {
	if len(keys) == 0 || len(keys)%2 != 0 {
		return nil, errors.New("web: session keys must come in hash/block pairs")
	}
	store := sessions.NewCookieStore(keys...)
	for _, codec := range store.Codecs {
		if sc, ok := codec.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(stringValues{})
		}
	}
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	store.MaxAge(int(maxAge.Seconds()))
	return &Sessions{store: store}, nil
}

// stringValues serialises the cookie's values, all strings, as a JSON
// object. gorilla's default, gob, sends and decodes a type description in
// every cookie: a twentieth of every staff request's CPU.
type stringValues struct{}

func (stringValues) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("web: session values are %T, not a map", src)
	}
	m := make(map[string]string, len(values))
	for k, v := range values {
		ks, kok := k.(string)
		vs, vok := v.(string)
		if !kok || !vok {
			return nil, fmt.Errorf("web: session value %v is %T; only strings are kept", k, v)
		}
		m[ks] = vs
	}
	return json.Marshal(m)
}

func (stringValues) Deserialize(src []byte, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("web: cannot decode session values into %T", dst)
	}
	var m map[string]string
	if err := json.Unmarshal(src, &m); err != nil {
		return fmt.Errorf("web: session values: %w", err)
	}
	if *values == nil {
		*values = make(map[any]any, len(m))
	}
	for k, v := range m {
		(*values)[k] = v
	}
	return nil
}

func (s *Sessions) get(c echo.Context) *sessions.Session {
	if sess, ok := c.Get("_session").(*sessions.Session); ok {
		return sess
	}
	// A tampered or foreign cookie decodes with an error: start afresh.
	sess, err := s.store.Get(c.Request(), CookieName)
	if err != nil {
		sess, _ = s.store.New(c.Request(), CookieName)
		sess.IsNew = true
	}
	c.Set("_session", sess)
	return sess
}

func (s *Sessions) save(c echo.Context) error {
	return s.get(c).Save(c.Request(), c.Response())
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CSRFToken returns the session's CSRF token, creating the session cookie
// when needed (the sign-in form needs one before anyone is signed in).
func (s *Sessions) CSRFToken(c echo.Context) string {
	sess := s.get(c)
	tok, _ := sess.Values["csrf"].(string)
	if tok == "" {
		tok = randomToken()
		sess.Values["csrf"] = tok
		_ = s.save(c)
	}
	return tok
}

// CheckCSRF compares the request's token with the session's.
func (s *Sessions) CheckCSRF(c echo.Context) bool {
	want, _ := s.get(c).Values["csrf"].(string)
	got := c.Request().Header.Get(CSRFHeader)
	if got == "" {
		got = c.FormValue(CSRFField)
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// SessionID returns the server-side session id in the cookie.
func (s *Sessions) SessionID(c echo.Context) string {
	id, _ := s.get(c).Values["sid"].(string)
	return id
}

// Login binds a new server-side session id to the cookie and rotates the
// CSRF token: a session fixed before sign-in is worthless after it.
func (s *Sessions) Login(c echo.Context, sessionID string) error {
	sess := s.get(c)
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Values["sid"] = sessionID
	sess.Values["csrf"] = randomToken()
	return s.save(c)
}

// Logout clears the cookie.
func (s *Sessions) Logout(c echo.Context) error {
	sess := s.get(c)
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Options.MaxAge = -1
	return s.save(c)
}

// Flash stores a short message shown on the next page.
func (s *Sessions) Flash(c echo.Context, msg string) {
	s.get(c).Values["flash"] = msg
	_ = s.save(c)
}

// TakeFlash returns and clears the flash message.
func (s *Sessions) TakeFlash(c echo.Context) string {
	sess := s.get(c)
	msg, _ := sess.Values["flash"].(string)
	if msg != "" {
		delete(sess.Values, "flash")
		_ = s.save(c)
	}
	return msg
}
