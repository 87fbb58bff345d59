// Package handlers holds one small struct per feature and routes.go, which
// lists the whole URL surface. Handlers are thin: parse, validate, call the
// store or a workflow, render or return an error for web's one error
// handler.
package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/providers/selfkey"
	"github.com/kycdesk/kycdesk/views"
	"github.com/kycdesk/kycdesk/views/auth"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/saml"
)

// Deps are what the handlers need, built once in cmd.
type Deps struct {
	DB      *db.DB
	Web     *web.Server
	Logger  *slog.Logger
	Now     func() time.Time
	Sandbox bool
	// LocalLogin enables the password form; SSO says SAML is configured.
	LocalLogin bool
	SSO        bool
	// SandboxHint tells a new user how to sign in (sandbox mode only).
	SandboxHint string
	Lockout     db.LoginLockout
	// Registry holds the configured providers; Flow runs their workflows.
	Registry *providers.Registry
	Flow     *flow.Service
	// SandboxMounts are the provider simulators served in sandbox mode,
	// by path prefix (e.g. "/sandbox/corepass"). Empty outside sandbox.
	SandboxMounts map[string]http.Handler
	// SAML is the SAML service provider (nil when SSO is not configured);
	// SAMLConfig is its configuration (role attribute, sources) for the
	// ACS and the SSO admin page.
	SAML       *saml.SP
	SAMLConfig saml.Config
	// SelfKey is the SelfKey wallet protocol behind /selfkey (nil when
	// SelfKey is not configured: the wallet endpoints answer 404).
	SelfKey *selfkey.Service
}

// Handlers groups the feature handlers.
type Handlers struct {
	deps          Deps
	auth          *authHandler
	applicants    *applicantsHandler
	health        *healthHandler
	inbound       *inboundHandler
	endUser       *endUserHandler
	verifications *verificationsHandler
	admin         *adminHandler
	blockpass     *blockpassHandler
	samlSP        *samlHandler
	users         *usersHandler
	ssoAdmin      *ssoHandler
	auditLog      *auditHandler
	reviews       *reviewsHandler
	notes         *notesHandler
	exports       *exportsHandler
	overview      *overviewHandler
	archive       *archiveHandler
	retention     *retentionHandler
	selfKey       *selfKeyHandler
	templates     *templatesHandler
}

// New builds the handlers.
func New(d Deps) *Handlers {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Lockout.MaxFailures == 0 {
		d.Lockout = db.LoginLockout{MaxFailures: 5, LockFor: 15 * time.Minute}
	}
	h := &Handlers{deps: d}
	h.auth = &authHandler{h}
	h.applicants = &applicantsHandler{h}
	h.health = &healthHandler{h}
	h.inbound = &inboundHandler{h}
	h.endUser = &endUserHandler{h}
	h.verifications = &verificationsHandler{h}
	h.admin = &adminHandler{h}
	h.blockpass = &blockpassHandler{h}
	h.samlSP = &samlHandler{Handlers: h, refusals: newRefusalBudget(acsRefusalsAudited, time.Minute, d.Now)}
	h.users = &usersHandler{h}
	h.ssoAdmin = &ssoHandler{h}
	h.auditLog = &auditHandler{h}
	h.reviews = &reviewsHandler{h}
	h.notes = &notesHandler{h}
	h.exports = &exportsHandler{h}
	h.overview = &overviewHandler{h}
	h.archive = &archiveHandler{h}
	h.retention = &retentionHandler{h}
	h.selfKey = &selfKeyHandler{h}
	h.templates = &templatesHandler{Handlers: h}
	return h
}

// SetWeb gives the handlers the web server they are mounted on (built
// after the handlers, because the server's gate calls back into them).
func (h *Handlers) SetWeb(s *web.Server) { h.deps.Web = s }

// page builds the layout data for a staff page.
func (h *Handlers) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, Sandbox: h.deps.Sandbox, CSRF: h.deps.Web.Sessions.CSRFToken(c)}
	if st, ok := web.StaffFrom(c); ok {
		p.User = &views.Viewer{Email: st.Email, Role: st.Role}
	}
	p.Flash = h.deps.Web.Sessions.TakeFlash(c)
	return p
}

// audit appends an audit entry for the current request; a failure to audit
// fails the request (an unaudited PII view must not happen).
func (h *Handlers) audit(c echo.Context, action, object, detail string) error {
	e := h.auditEntry(c)
	e.Action, e.Object, e.Detail = action, object, detail
	if err := h.deps.DB.Audit(c.Request().Context(), e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// auditEntry describes who is acting, from where.
func (h *Handlers) auditEntry(c echo.Context) db.AuditEntry {
	e := db.AuditEntry{IP: web.ClientIP(c), Actor: "anonymous"}
	if st, ok := web.StaffFrom(c); ok {
		e.ActorID, e.Actor = st.ID, st.Email
	}
	return e
}

// LookupSession resolves a session id for web's gate.
func (h *Handlers) LookupSession(limits db.SessionLimits) func(ctx context.Context, sid string) (web.Staff, error) {
	return func(ctx context.Context, sid string) (web.Staff, error) {
		u, err := h.deps.DB.LiveSessionUser(ctx, sid, limits)
		if err != nil {
			return web.Staff{}, err
		}
		return web.Staff{ID: u.ID, Email: u.Email, Role: authz.Role(u.Role)}, nil
	}
}

// ErrorPage renders web's error responses.
func (h *Handlers) ErrorPage(c echo.Context, code int, title, message string) error {
	_, signedIn := web.StaffFrom(c)
	return web.Render(c, code, auth.ErrorPage(code, title, message, signedIn))
}

// OnDenied audits a refused request.
func (h *Handlers) OnDenied(c echo.Context, st web.Staff, reason string) {
	e := h.auditEntry(c)
	if st.ID != 0 {
		e.ActorID, e.Actor = st.ID, st.Email
	}
	e.Action, e.Object, e.Detail = "access.denied", c.Request().Method+" "+c.Path(), reason
	if err := h.deps.DB.Audit(c.Request().Context(), e); err != nil {
		h.deps.Logger.Error("audit denied request", "err", err)
	}
}

// safeNext accepts only a same-origin relative path as a redirect target.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/applicants"
	}
	return next
}

func badRequest(format string, args ...any) error {
	return web.Errorf(http.StatusBadRequest, format, args...)
}
