package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/sso"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/saml"
)

// ssoHandler serves /admin/sso: our SP metadata, the IdP's status and the
// role-mapping rules.
type ssoHandler struct{ *Handlers }

func (h *ssoHandler) view(c echo.Context, form sso.RuleForm) (sso.SettingsView, error) {
	rules, err := h.deps.DB.RoleRules(c.Request().Context())
	if err != nil {
		return sso.SettingsView{}, err
	}
	cfg := h.deps.SAMLConfig
	v := sso.SettingsView{
		Page:          h.page(c, "SSO", "admin"),
		RoleAttribute: cfg.RoleAttribute,
		IDPInitiated:  cfg.AllowIDPInitiated,
		LocalLogin:    h.deps.LocalLogin,
		Rules:         rules,
		Form:          form,
		Now:           h.deps.Now(),
	}
	if v.RoleAttribute == "" {
		v.RoleAttribute = saml.DefaultRoleAttribute
	}
	if sp := h.deps.SAML; sp != nil {
		v.Configured = true
		v.MetadataURL, v.EntityID, v.ACSURL = sp.MetadataURL(), sp.EntityID(), sp.ACSURL()
		v.IDPEntityID, v.IDPSource = sp.IDPEntityID(), cfg.IDPMetadata
		for _, cert := range sp.IDPCertificates() {
			v.IDPCerts = append(v.IDPCerts, sso.Cert{Subject: cert.Subject.String(), NotAfter: cert.NotAfter})
		}
	}
	return v, nil
}

// settings shows the SSO page.
func (h *ssoHandler) settings(c echo.Context) error {
	v, err := h.view(c, sso.RuleForm{Role: string(authz.Checker)})
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, sso.Settings(v))
}

// addRule appends a role-mapping rule.
func (h *ssoHandler) addRule(c echo.Context) error {
	f := sso.RuleForm{Value: strings.TrimSpace(c.FormValue("value")), Role: c.FormValue("role")}
	switch {
	case f.Value == "" || len(f.Value) > 512:
		f.Error = "Enter the attribute value (up to 512 characters), e.g. the IdP group's name."
	case !authz.Role(f.Role).Valid():
		f.Error = "Choose a role from the list."
	}
	if f.Error == "" {
		_, err := h.deps.DB.AddRoleRule(c.Request().Context(), f.Value, f.Role, h.auditEntry(c))
		switch {
		case errors.Is(err, db.ErrConflict):
			f.Error = "A rule for this value exists already. Delete it first to map the value to another role."
		case err != nil:
			return err
		default:
			h.deps.Web.Sessions.Flash(c, "Rule added: "+f.Value+" → "+authz.Role(f.Role).Title()+".")
			return web.Redirect(c, "/admin/sso")
		}
	}
	v, err := h.view(c, f)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusBadRequest, sso.Settings(v))
}

func ruleID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("rule"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// deleteRule removes a rule.
func (h *ssoHandler) deleteRule(c echo.Context) error {
	id, err := ruleID(c)
	if err != nil {
		return err
	}
	err = h.deps.DB.DeleteRoleRule(c.Request().Context(), id, h.auditEntry(c))
	if errors.Is(err, db.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, "Rule deleted.")
	return web.Redirect(c, "/admin/sso")
}

// moveRule moves a rule up or down (the first matching rule wins).
func (h *ssoHandler) moveRule(c echo.Context) error {
	id, err := ruleID(c)
	if err != nil {
		return err
	}
	dir := c.FormValue("direction")
	if dir != "up" && dir != "down" {
		return badRequest("Choose to move the rule up or down.")
	}
	err = h.deps.DB.MoveRoleRule(c.Request().Context(), id, dir == "up", h.auditEntry(c))
	if errors.Is(err, db.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/admin/sso")
}
