package handlers

import (
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/users"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/password"
)

// usersHandler serves /admin/users: list, add, change role, disable and
// enable. The last-admin rule lives in db, inside the transactions.
type usersHandler struct{ *Handlers }

// errLastAdmin explains the refusal to leave KYC Desk without an admin.
func errLastAdmin() error {
	return web.Errorf(http.StatusConflict, "KYC Desk needs at least one enabled admin. Make another user an admin first.")
}

func (h *usersHandler) view(c echo.Context, form users.AddForm) (users.ListView, error) {
	list, err := h.deps.DB.ListStaff(c.Request().Context())
	if err != nil {
		return users.ListView{}, err
	}
	st, _ := web.StaffFrom(c)
	return users.ListView{
		Page:       h.page(c, "Users", "admin"),
		Users:      list,
		SelfID:     st.ID,
		SSO:        h.deps.SAML != nil,
		LocalLogin: h.deps.LocalLogin || h.deps.SAML == nil,
		Form:       form,
		Now:        h.deps.Now(),
	}, nil
}

// list shows every user.
func (h *usersHandler) list(c echo.Context) error {
	v, err := h.view(c, users.AddForm{Role: string(authz.Checker)})
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, users.List(v))
}

// add creates a user who signs in with SSO (linked at the first sign-in)
// or with a temporary password shown once.
func (h *usersHandler) add(c echo.Context) error {
	f := users.AddForm{
		Email:  strings.TrimSpace(c.FormValue("email")),
		Role:   c.FormValue("role"),
		Method: c.FormValue("method"),
	}
	sso, local := h.deps.SAML != nil, h.deps.LocalLogin || h.deps.SAML == nil
	if f.Method == "" {
		f.Method = "password"
		if sso {
			f.Method = "sso"
		}
	}
	addr, err := mail.ParseAddress(f.Email)
	switch {
	case f.Email == "" || len(f.Email) > 254 || err != nil || addr.Address != f.Email:
		f.Error = "Enter the person's email address, like name@example.com."
	case !authz.Role(f.Role).Valid():
		f.Error = "Choose a role from the list."
	case f.Method == "sso" && !sso:
		f.Error = "Single sign-on is not configured: choose password sign-in."
	case f.Method == "password" && !local:
		f.Error = "Password sign-in is switched off: choose SSO."
	case f.Method != "sso" && f.Method != "password":
		f.Error = "Choose how the person signs in."
	}
	if f.Error != "" {
		return h.renderForm(c, f)
	}
	hash, pw := "", ""
	if f.Method == "password" {
		pw = password.Generate()
		if hash, err = password.Hash(pw); err != nil {
			return err
		}
	}
	u, err := h.deps.DB.CreateUser(c.Request().Context(), f.Email, f.Role, hash, h.auditEntry(c))
	if errors.Is(err, db.ErrConflict) {
		f.Error = "A user with this email already exists."
		return h.renderForm(c, f)
	}
	if err != nil {
		return err
	}
	msg := "Added " + u.Email + " as " + authz.Role(u.Role).Title() + ". They are linked to their identity at their first SSO sign-in."
	if pw != "" {
		msg = "Added " + u.Email + " as " + authz.Role(u.Role).Title() + ". Their temporary password, shown only now: " + pw
	}
	h.deps.Web.Sessions.Flash(c, msg)
	return web.Redirect(c, "/admin/users")
}

func (h *usersHandler) renderForm(c echo.Context, f users.AddForm) error {
	v, err := h.view(c, f)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusBadRequest, users.List(v))
}

// target parses :user and loads that user.
func (h *usersHandler) target(c echo.Context) (db.User, error) {
	id, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil || id <= 0 {
		return db.User{}, echo.ErrNotFound
	}
	u, err := h.deps.DB.UserByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return u, echo.ErrNotFound
	}
	return u, err
}

// setRole changes a user's role; it takes effect on their next request.
func (h *usersHandler) setRole(c echo.Context) error {
	u, err := h.target(c)
	if err != nil {
		return err
	}
	role := authz.Role(c.FormValue("role"))
	if !role.Valid() {
		return badRequest("Choose a role from the list.")
	}
	err = h.deps.DB.SetRole(c.Request().Context(), u.ID, string(role), h.auditEntry(c))
	if errors.Is(err, db.ErrLastAdmin) {
		return errLastAdmin()
	}
	if err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, u.Email+" is now "+role.Title()+".")
	if st, _ := web.StaffFrom(c); st.ID == u.ID && !authz.Can(role, authz.ManageSystem) {
		return web.Redirect(c, "/")
	}
	return web.Redirect(c, "/admin/users")
}

// disable disables a user and ends their sessions at once.
func (h *usersHandler) disable(c echo.Context) error { return h.setDisabled(c, true) }

// enable lets a disabled user sign in again.
func (h *usersHandler) enable(c echo.Context) error { return h.setDisabled(c, false) }

func (h *usersHandler) setDisabled(c echo.Context, disabled bool) error {
	u, err := h.target(c)
	if err != nil {
		return err
	}
	if st, _ := web.StaffFrom(c); st.ID == u.ID && disabled {
		return badRequest("You cannot disable your own account. Ask another admin.")
	}
	err = h.deps.DB.SetDisabled(c.Request().Context(), u.ID, disabled, h.auditEntry(c))
	if errors.Is(err, db.ErrLastAdmin) {
		return errLastAdmin()
	}
	if err != nil {
		return err
	}
	msg := u.Email + " can sign in again."
	if disabled {
		msg = u.Email + " is disabled; their sessions have ended."
	}
	h.deps.Web.Sessions.Flash(c, msg)
	return web.Redirect(c, "/admin/users")
}
