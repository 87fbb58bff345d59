package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/auth"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/password"
)

type authHandler struct{ *Handlers }

func (h *authHandler) loginForm(c echo.Context) auth.LoginForm {
	f := auth.LoginForm{
		CSRF:       h.deps.Web.Sessions.CSRFToken(c),
		Next:       safeNext(c.QueryParam("next")),
		SSO:        h.deps.SSO,
		LocalLogin: h.deps.LocalLogin || !h.deps.SSO,
		Sandbox:    h.deps.Sandbox,
	}
	if h.deps.Sandbox {
		f.SandboxHint = h.deps.SandboxHint
	}
	if c.QueryParam("expired") != "" {
		f.Error = "Your session has ended. Sign in again."
	}
	return f
}

// form shows the sign-in page (or goes on if already signed in).
func (h *authHandler) form(c echo.Context) error {
	if _, ok := h.deps.Web.CurrentStaff(c); ok {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return web.Render(c, http.StatusOK, auth.Login(h.loginForm(c)))
}

// genericLoginError never says whether the account exists.
const genericLoginError = "Email or password is wrong, or the account is locked or disabled. After 5 failed attempts an account is locked for 15 minutes."

// login checks a local password and starts a new session.
func (h *authHandler) login(c echo.Context) error {
	ctx := c.Request().Context()
	if !h.deps.LocalLogin && h.deps.SSO {
		return web.Errorf(http.StatusForbidden, "Password sign-in is switched off here. Use \"Sign in with SSO\".")
	}
	email := strings.TrimSpace(c.FormValue("email"))
	pw := c.FormValue("password")
	f := h.loginForm(c)
	f.Email, f.Next = email, safeNext(c.FormValue("next"))
	if email == "" || pw == "" || len(email) > 254 || len(pw) > 1024 {
		f.Error = "Enter your email and password."
		return web.Render(c, http.StatusBadRequest, auth.Login(f))
	}
	u, err := h.deps.DB.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	fail := func(reason string) error {
		e := h.auditEntry(c)
		e.Action, e.Object, e.Detail = "auth.login_failed", "", reason
		if u.ID != 0 {
			e.Object = fmt.Sprintf("user:%d", u.ID)
		}
		if err := h.deps.DB.Audit(ctx, e); err != nil {
			return err
		}
		f.Error = genericLoginError
		return web.Render(c, http.StatusUnauthorized, auth.Login(f))
	}
	if u.ID == 0 {
		password.CheckDummy(pw)
		return fail("unknown account")
	}
	now := h.deps.Now()
	if u.LockedUntil.After(now) {
		password.CheckDummy(pw)
		return fail("account locked")
	}
	if u.PasswordHash == "" || password.Check(u.PasswordHash, pw) != nil {
		if err := h.deps.DB.RecordLoginFailure(ctx, u.ID, h.deps.Lockout); err != nil {
			return err
		}
		return fail("wrong password")
	}
	if u.Disabled {
		return fail("account disabled")
	}
	if err := h.deps.DB.ResetLoginFailures(ctx, u.ID); err != nil {
		return err
	}
	sid, err := h.deps.DB.CreateSession(ctx, u.ID, web.ClientIP(c))
	if err != nil {
		return err
	}
	if err := h.deps.Web.Sessions.Login(c, sid); err != nil {
		return fmt.Errorf("login: save session: %w", err)
	}
	e := h.auditEntry(c)
	e.ActorID, e.Actor, e.Action, e.Object, e.Detail = u.ID, u.Email, "auth.login", fmt.Sprintf("user:%d", u.ID), "method=password"
	if err := h.deps.DB.Audit(ctx, e); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, f.Next)
}

// logout ends the server-side session and clears the cookie.
func (h *authHandler) logout(c echo.Context) error {
	st, _ := web.StaffFrom(c)
	if err := h.deps.DB.DeleteSession(c.Request().Context(), st.SessionID); err != nil {
		return err
	}
	if err := h.audit(c, "auth.logout", fmt.Sprintf("user:%d", st.ID), ""); err != nil {
		return err
	}
	if err := h.deps.Web.Sessions.Logout(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
