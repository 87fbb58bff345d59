package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/sso"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/saml"
)

// samlHandler serves the SAML service provider's endpoints: metadata,
// sign-in start and the assertion consumer service.
type samlHandler struct {
	*Handlers
	refusals *refusalBudget // audited ACS refusals per client address
}

// acsRefusalsAudited is how many refused sign-ins per client address and
// minute are audited; more are answered 429 (see refusalBudget).
const acsRefusalsAudited = 20

// errSSOOff answers the SAML endpoints when SSO is not configured.
func errSSOOff() error {
	return web.Errorf(http.StatusNotFound, "Single sign-on is not configured here. Sign in with your email and password.")
}

// metadata serves our SP metadata for the IdP.
func (h *samlHandler) metadata(c echo.Context) error {
	if h.deps.SAML == nil {
		return errSSOOff()
	}
	return c.Blob(http.StatusOK, "application/samlmetadata+xml", h.deps.SAML.Metadata())
}

// login starts SP-initiated sign-in: it records an AuthnRequest, gives the
// browser the cookie that binds the IdP's answer to it, and sends it to the
// IdP. ?next= (a same-origin path) is where to land.
func (h *samlHandler) login(c echo.Context) error {
	if h.deps.SAML == nil {
		return errSSOOff()
	}
	// Signed in or not, this starts a sign-in: its ACS replaces any
	// session the browser has with a new one.
	login, err := h.deps.SAML.StartLogin(c.Request().Context(), safeNext(c.QueryParam("next")))
	if errors.Is(err, db.ErrTooManySAMLRequests) {
		h.deps.Logger.Warn("saml: too many sign-ins in progress", "id", web.RequestID(c))
		return web.Errorf(http.StatusServiceUnavailable, "Too many sign-ins are in progress right now. Try again in a few minutes.")
	}
	if err != nil {
		return err
	}
	c.SetCookie(login.BindingCookie)
	return c.Redirect(http.StatusSeeOther, login.RedirectURL)
}

// noRoleMessage is shown when no role rule matches the signed-in user.
const noRoleMessage = "Your identity provider signed you in, but none of your groups is mapped to a role in KYC Desk, so you have no access. Ask a KYC Desk admin to add a role-mapping rule for your group."

// acs verifies the IdP's response, applies the role rules, provisions the
// user on the first sign-in and starts a new session. Every refusal shows
// a page saying why and leaves an audit entry (never the NameID).
func (h *samlHandler) acs(c echo.Context) error {
	if h.deps.SAML == nil {
		return errSSOOff()
	}
	ctx := c.Request().Context()
	id, next, err := h.deps.SAML.HandleACS(ctx, c.Request())
	// The binding is single-use like the request it binds: whatever the
	// outcome, the browser drops it.
	c.SetCookie(h.deps.SAML.ClearBindingCookie())
	if err != nil {
		var refused *saml.Error
		if !errors.As(err, &refused) {
			return err // the stores failed: an internal error, logged
		}
		return h.refuse(c, refusalKind(refused.Kind), "", saml.UserMessage(err), err)
	}
	rules, err := h.deps.DB.RoleRules(ctx)
	if err != nil {
		return err
	}
	mapping := saml.RoleMapping{Attribute: h.deps.SAMLConfig.RoleAttribute}
	if mapping.Attribute == "" {
		mapping.Attribute = saml.DefaultRoleAttribute
	}
	for _, r := range rules {
		mapping.Rules = append(mapping.Rules, saml.RoleRule{Value: r.Value, Role: r.Role})
	}
	role, ok := saml.RoleFor(id, mapping)
	if !ok {
		return h.refuse(c, "no_role", "", noRoleMessage, nil)
	}
	if !id.SessionNotOnOrAfter.IsZero() && !h.deps.Now().Before(id.SessionNotOnOrAfter) {
		return h.refuse(c, "session_ended", "", "Your identity provider says your session there has already ended. Sign in again.", nil)
	}
	res, err := h.deps.DB.SSOSignIn(ctx, db.SSOLogin{
		Issuer: id.Issuer, NameID: id.NameID, Email: id.Email, Role: role, NotAfter: id.SessionNotOnOrAfter,
	}, h.auditEntry(c))
	object := ""
	if res.User.ID != 0 {
		object = fmt.Sprintf("user:%d", res.User.ID)
	}
	switch {
	case errors.Is(err, db.ErrDisabled):
		return h.refuse(c, "disabled", object, "Your KYC Desk account is disabled. Ask an admin to enable it.", err)
	case errors.Is(err, db.ErrIdentityConflict):
		return h.refuse(c, "identity_conflict", object, "A KYC Desk account with your email address already exists and signs in another way. Ask an admin to sort out your account.", err)
	case errors.Is(err, db.ErrInvalid):
		return h.refuse(c, "no_email", "", "Your identity provider did not send an email address, which KYC Desk needs to create your account. Ask your IdP administrator to release it.", err)
	case err != nil:
		return err
	}
	// A session this browser had before is ended, not just forgotten.
	if old := h.deps.Web.Sessions.SessionID(c); old != "" {
		if err := h.deps.DB.DeleteSession(ctx, old); err != nil {
			return err
		}
	}
	if err := h.deps.Web.Sessions.Login(c, res.SessionID); err != nil {
		return fmt.Errorf("saml: save session: %w", err)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// refuse records a refused SSO sign-in and shows why. kind goes into the
// audit entry; cause (whose text never holds the NameID or attributes)
// only into the log.
func (h *samlHandler) refuse(c echo.Context, kind, object, message string, cause error) error {
	if within, firstOver := h.refusals.take(web.ClientIP(c)); !within {
		if firstOver {
			h.deps.Logger.Warn("saml sign-in refusals over budget; further ones this minute are not audited",
				"id", web.RequestID(c), "kind", kind, "per_minute", acsRefusalsAudited)
		}
		return web.Errorf(http.StatusTooManyRequests, "Too many failed sign-ins from your network. Wait a minute, then start the sign-in again.")
	}
	attrs := []any{"id", web.RequestID(c), "kind", kind}
	if cause != nil {
		attrs = append(attrs, "err", cause.Error())
	}
	h.deps.Logger.Warn("saml sign-in refused", attrs...)
	e := h.auditEntry(c)
	e.Action, e.Object, e.Detail = "auth.saml_refused", object, "kind="+kind
	if err := h.deps.DB.Audit(c.Request().Context(), e); err != nil {
		return err
	}
	return web.Render(c, http.StatusForbidden, sso.Refused(message, h.deps.Sandbox))
}

// refusalKind names a saml refusal for the audit log.
func refusalKind(kind error) string {
	kinds := []struct {
		err  error
		name string
	}{
		{saml.ErrMalformed, "malformed"},
		{saml.ErrSignature, "signature"},
		{saml.ErrExpired, "expired"},
		{saml.ErrAudience, "audience"},
		{saml.ErrInResponseTo, "in_response_to"},
		{saml.ErrUnbound, "unbound_response"},
		{saml.ErrReplay, "replay"},
		{saml.ErrRelayState, "relay_state"},
		{saml.ErrIDPInitiated, "idp_initiated"},
		{saml.ErrIDPStatus, "idp_status"},
		{saml.ErrInvalid, "invalid"},
	}
	for _, k := range kinds {
		if errors.Is(kind, k.err) {
			return k.name
		}
	}
	return "other"
}
