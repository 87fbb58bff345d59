// Package web is the HTTP edge of KYC Desk: the Echo server and its
// middleware (request ids and logging, security headers, sessions, CSRF,
// the staff gate), htmx-aware render helpers and the one error handler. It
// knows nothing of features: handlers mount routes on it, and it reaches the
// store only through the small function types it is given.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/web/authz"
)

// Staff is the signed-in staff member of a request.
type Staff struct {
	ID        int64
	Email     string
	Role      authz.Role
	SessionID string
}

// Can reports whether the staff member has capability c.
func (s Staff) Can(c authz.Cap) bool { return authz.Can(s.Role, c) }

// Config configures the edge.
type Config struct {
	BaseURL     string
	SessionKeys [][]byte // pairs of (hash key, block key); the first pair signs new cookies
	Sandbox     bool
	Limits      SessionLimits
	Logger      *slog.Logger
	// LookupSession resolves a server-side session id to its staff member;
	// an error means "not signed in".
	LookupSession func(ctx context.Context, sessionID string) (Staff, error)
	// ErrorPage renders a user-facing error page (no internals).
	ErrorPage func(c echo.Context, code int, title, message string) error
	// OnDenied records a refused request (audit).
	OnDenied func(c echo.Context, s Staff, reason string)
}

// SessionLimits are the staff session timeouts.
type SessionLimits struct {
	Idle     time.Duration
	Absolute time.Duration
}

// Server is the configured Echo instance and its session machinery.
type Server struct {
	Echo     *echo.Echo
	Sessions *Sessions
	cfg      Config
}

// New builds the Echo server with the middleware every request passes.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	secure := strings.HasPrefix(cfg.BaseURL, "https://")
	sessions, err := NewSessions(cfg.SessionKeys, secure, cfg.Limits.Absolute)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Trust no forwarding header by default: behind a proxy, cmd sets a
	// trusted extractor.
	e.IPExtractor = echo.ExtractIPDirect()
	s := &Server{Echo: e, Sessions: sessions, cfg: cfg}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.requestID, s.logRequests, s.recoverPanics, securityHeaders)
	return s, nil
}

type ctxKey string

const (
	keyRequestID = "request_id"
	keyStaff     = "staff"
)

// RequestID returns the request's id (also sent as X-Request-Id).
func RequestID(c echo.Context) string {
	id, _ := c.Get(keyRequestID).(string)
	return id
}

// StaffFrom returns the signed-in staff member, if any.
func StaffFrom(c echo.Context) (Staff, bool) {
	s, ok := c.Get(keyStaff).(Staff)
	return s, ok
}

func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		c.Set(keyRequestID, id)
		c.Response().Header().Set("X-Request-Id", id)
		return next(c)
	}
}

// logRequests logs method, route pattern (never the raw path or query
// string: they can hold a token or a searched name), status and duration.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		if strings.HasPrefix(c.Request().URL.Path, "/static/") {
			return nil
		}
		// The route pattern, not the URL: paths carry tokens, DIDs and ids
		// that have no place in a log.
		path := c.Path()
		if path == "" {
			path = "(no route)"
		}
		s.cfg.Logger.Info("request", "id", RequestID(c), "method", c.Request().Method, "path", path,
			"status", c.Response().Status, "ms", time.Since(start).Milliseconds())
		return nil
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// securityHeaders sets the headers every response carries. Pages are never
// cached: most staff pages show personal data.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// Error is a user-facing error: a status and a message safe to show.
type Error struct {
	Code    int
	Message string
	Err     error // the cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a user-facing error with a status.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// handleError is the one place errors become responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, title, msg := http.StatusInternalServerError, "Something went wrong", "An internal error occurred. It has been logged; quote request id "+RequestID(c)+" if you report it."
	var ue *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ue):
		code, msg = ue.Code, ue.Message
		title = http.StatusText(code)
		if code >= 500 {
			s.cfg.Logger.Error("request failed", "id", RequestID(c), "err", err)
		}
	case errors.As(err, &he):
		code = he.Code
		title = http.StatusText(code)
		msg = fmt.Sprint(he.Message)
		if code == http.StatusNotFound {
			msg = "There is nothing at this address. Check the link, or go back to the applicants list."
		}
		if code >= 500 {
			s.cfg.Logger.Error("request failed", "id", RequestID(c), "err", err)
			msg = "An internal error occurred. Quote request id " + RequestID(c) + " if you report it."
		}
	default:
		s.cfg.Logger.Error("request failed", "id", RequestID(c), "err", err)
	}
	if code == http.StatusForbidden && title == "Forbidden" {
		title = "Not allowed"
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	if s.cfg.ErrorPage != nil && wantsHTML(c) {
		if rerr := s.cfg.ErrorPage(c, code, title, msg); rerr == nil {
			return
		}
	}
	_ = c.JSON(code, map[string]string{"code": strings.ReplaceAll(strings.ToLower(http.StatusText(code)), " ", "_"), "message": msg})
}

func wantsHTML(c echo.Context) bool {
	p := c.Request().URL.Path
	for _, api := range []string{"/webhooks/", "/callbacks/", "/selfkey/"} {
		if strings.HasPrefix(p, api) {
			return false
		}
	}
	return true
}

// renderBuffers are reused page buffers: templ writes in many small
// pieces, and a page is sent in one write.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render writes a templ component with status code. The page is rendered
// whole before anything is sent, so a rendering error still becomes a clean
// error page instead of half a page.
func Render(c echo.Context, code int, comp templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			renderBuffers.Put(buf)
		}
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	// The whole page is in hand: its length spares both ends chunked
	// encoding.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(code)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// IsHTMX reports whether the request came from htmx (and not as a boosted
// full-page navigation).
func IsHTMX(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Boosted") != "true"
}

// Redirect sends the browser to url after a successful POST: 303 for plain
// forms, HX-Redirect for htmx requests.
func Redirect(c echo.Context, url string) error {
	if IsHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// PushURL tells htmx to put url in the address bar after a swap.
func PushURL(c echo.Context, url string) {
	c.Response().Header().Set("HX-Push-Url", url)
}

// ClientIP is the caller's address as seen by our listener. Behind a
// reverse proxy, configure Echo's IPExtractor in cmd.
func ClientIP(c echo.Context) string { return c.RealIP() }
