package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/web/authz"
)

// Access says who may call a route. Every route declares one; there is no
// default.
type Access struct {
	kind accessKind
	cap  authz.Cap
}

type accessKind int

const (
	accessPublic         accessKind = iota + 1 // anyone: sign-in, health, static
	accessProvider                             // provider systems and wallets: authenticated by signature, no session, no CSRF
	accessEndUser                              // the applicant's phone: authenticated by an unguessable token
	accessStaff                                // a signed-in staff member with a capability
	accessSignedIn                             // any signed-in staff member
	accessSignInResponse                       // the IdP's cross-site POST to the SAML ACS: no CSRF token, sets the session cookie
)

// Access values for route declarations.
var (
	Public   = Access{kind: accessPublic}
	Provider = Access{kind: accessProvider}
	EndUser  = Access{kind: accessEndUser}
	SignedIn = Access{kind: accessSignedIn}
	// SignInResponse is the SAML assertion consumer service: the IdP's
	// auto-submitted form arrives cross-site, so it carries no CSRF token
	// (and no SameSite=Lax cookie); the signed assertion and the
	// server-side record of the AuthnRequest authenticate it, and the
	// handler starts a new session.
	SignInResponse = Access{kind: accessSignInResponse}
)

// Requires is staff access with one capability.
func Requires(c authz.Cap) Access { return Access{kind: accessStaff, cap: c} }

// Cap is the capability a staff route requires ("" for others).
func (a Access) Cap() authz.Cap { return a.cap }

// IsStaff reports whether the route needs a signed-in staff member.
func (a Access) IsStaff() bool { return a.kind == accessStaff || a.kind == accessSignedIn }

// IsPublic, IsProvider and IsEndUser describe the other groups.
func (a Access) IsPublic() bool   { return a.kind == accessPublic }
func (a Access) IsProvider() bool { return a.kind == accessProvider }
func (a Access) IsEndUser() bool  { return a.kind == accessEndUser }

// IsSignInResponse reports whether the route is the SAML ACS.
func (a Access) IsSignInResponse() bool { return a.kind == accessSignInResponse }

// Handle mounts a route with its access rule.
func (s *Server) Handle(method, path string, h echo.HandlerFunc, a Access) {
	var mw []echo.MiddlewareFunc
	switch a.kind {
	case accessPublic:
		mw = append(mw, s.csrf)
	case accessProvider, accessEndUser:
		// Signature- or token-authenticated; no cookie is read or set.
	case accessSignInResponse:
		// Authenticated by the SAML response itself; no CSRF check.
	case accessStaff, accessSignedIn:
		mw = append(mw, s.requireStaff(a), s.csrf)
	default:
		panic("web: route " + method + " " + path + " declares no access rule")
	}
	s.Echo.Add(method, path, h, mw...)
}

// csrf refuses state-changing requests without the session's token.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if !s.Sessions.CheckCSRF(c) {
			staff, _ := StaffFrom(c)
			if s.cfg.OnDenied != nil {
				s.cfg.OnDenied(c, staff, "csrf token missing or wrong")
			}
			return Errorf(http.StatusForbidden, "This form has expired or did not come from KYC Desk. Reload the page and try again.")
		}
		return next(c)
	}
}

// requireStaff resolves the session and checks the capability. Not signed
// in: to the sign-in page (HX-Redirect for htmx). Signed in but not allowed:
// 403, recorded.
func (s *Server) requireStaff(a Access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			staff, err := s.lookup(c)
			if err != nil {
				// The query tells the sign-in page why the user is there.
				target := "/login?expired=1"
				if c.Request().Method == http.MethodGet {
					target = "/login?next=" + url.QueryEscape(c.Request().URL.RequestURI())
				}
				if IsHTMX(c) {
					c.Response().Header().Set("HX-Redirect", target)
					return c.NoContent(http.StatusUnauthorized)
				}
				return c.Redirect(http.StatusSeeOther, target)
			}
			c.Set(keyStaff, staff)
			if a.kind == accessStaff && !staff.Can(a.cap) {
				if s.cfg.OnDenied != nil {
					s.cfg.OnDenied(c, staff, "role "+string(staff.Role)+" lacks "+string(a.cap))
				}
				return Errorf(http.StatusForbidden, "Your role (%s) does not allow this. Ask an admin if you need it.", staff.Role.Title())
			}
			return next(c)
		}
	}
}

func (s *Server) lookup(c echo.Context) (Staff, error) {
	if st, ok := StaffFrom(c); ok {
		return st, nil
	}
	sid := s.Sessions.SessionID(c)
	if sid == "" || s.cfg.LookupSession == nil {
		return Staff{}, echo.ErrUnauthorized
	}
	st, err := s.cfg.LookupSession(c.Request().Context(), sid)
	if err != nil {
		return Staff{}, err
	}
	st.SessionID = sid
	return st, nil
}

// CurrentStaff resolves the session on routes that do not require one
// (the sign-in page shows "already signed in").
func (s *Server) CurrentStaff(c echo.Context) (Staff, bool) {
	st, err := s.lookup(c)
	return st, err == nil
}

// Sandbox reports whether the server runs in sandbox mode.
func (s *Server) Sandbox() bool { return s.cfg.Sandbox }
