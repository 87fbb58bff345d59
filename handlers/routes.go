package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/static"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// Route is one entry of the URL surface: method, path, handler and who may
// call it.
type Route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	Access  web.Access
}

// Routes is the whole URL surface of KYC Desk, in groups. Every route
// declares its access; the route test walks each one as every role.
func (h *Handlers) Routes() []Route {
	staticFiles := echo.WrapHandler(http.StripPrefix("/static/", cacheStatic(http.FileServer(http.FS(static.FS)))))
	return []Route{
		// Public: sign-in, health, assets.
		{http.MethodGet, "/healthz", h.health.check, web.Public},
		{http.MethodGet, "/static/*", staticFiles, web.Public},
		{http.MethodGet, "/login", h.auth.form, web.Public},
		{http.MethodPost, "/login", h.auth.login, web.Public},

		// Any signed-in staff member.
		{http.MethodGet, "/", h.applicants.home, web.SignedIn},
		{http.MethodPost, "/logout", h.auth.logout, web.SignedIn},

		// Applicants.
		{http.MethodGet, "/applicants", h.applicants.list, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/applicants/:id", h.applicants.show, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/applicants/:id/timeline", h.applicants.timeline, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/applicants/:id/documents/:doc", h.applicants.document, web.Requires(authz.ViewPII)},
	}
}

// Mount registers every route on the server.
func (h *Handlers) Mount(s *web.Server) {
	for _, r := range h.Routes() {
		s.Handle(r.Method, r.Path, r.Handler, r.Access)
	}
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
