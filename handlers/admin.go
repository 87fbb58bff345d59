package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/admin"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// adminHandler serves the admin index, the providers page and the inbox.
type adminHandler struct{ *Handlers }

// AdminLinks are the admin pages, each with the capability it needs; new
// admin features add themselves here.
var AdminLinks = []struct {
	admin.Link
	Cap authz.Cap
}{
	{admin.Link{Href: "/admin/users", Label: "Users", Description: "Who may sign in, with which role; add, change role, disable."}, authz.ManageSystem},
	{admin.Link{Href: "/admin/sso", Label: "SSO", Description: "SAML sign-in: our metadata, the identity provider, and the rules that map its groups to roles."}, authz.ManageSystem},
	{admin.Link{Href: "/admin/providers", Label: "Providers", Description: "Mode, credentials present, and the URLs to register with each provider."}, authz.ManageSystem},
	{admin.Link{Href: "/admin/inbox", Label: "Inbox", Description: "Every inbound webhook and callback: what arrived, what failed and why; replay."}, authz.ManageSystem},
	{admin.Link{Href: "/admin/blockpass", Label: "Blockpass", Description: "Sync KYC Connect candidates now and see the runs; import encrypted profile exports."}, authz.ManageSystem},
	{admin.Link{Href: "/admin/retention", Label: "Retention", Description: "How long personal data is kept per provider and outcome before it is archived; legal holds stop it."}, authz.ManageSystem},
	{admin.Link{Href: "/admin/templates", Label: "SelfKey templates", Description: "Which identity attributes a SelfKey wallet submits with an application, and which are required."}, authz.ManageSystem},
}

func (h *adminHandler) index(c echo.Context) error {
	st, _ := web.StaffFrom(c)
	var links []admin.Link
	for _, l := range AdminLinks {
		if st.Can(l.Cap) {
			links = append(links, l.Link)
		}
	}
	return web.Render(c, http.StatusOK, admin.Index(h.page(c, "Admin", "admin"), links))
}

func (h *adminHandler) providers(c echo.Context) error {
	jobs, err := h.deps.DB.Jobs(c.Request().Context())
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, admin.Providers(h.page(c, "Providers", "admin"), h.deps.Registry.All(), jobs, h.deps.Now()))
}

func (h *adminHandler) inbox(c echo.Context) error {
	f := db.InboxFilter{FailedOnly: c.QueryParam("failed") == "1", Limit: 50}
	if b := c.QueryParam("before"); b != "" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("This page link is broken.")
		}
		f.Before = id
	}
	items, err := h.deps.DB.ListInbox(c.Request().Context(), f)
	if err != nil {
		return err
	}
	v := admin.InboxView{Items: items, FailedOnly: f.FailedOnly, Now: h.deps.Now()}
	if len(items) == f.Limit {
		v.NextURL = "/admin/inbox?before=" + strconv.FormatInt(items[len(items)-1].ID, 10)
		if f.FailedOnly {
			v.NextURL += "&failed=1"
		}
	}
	v.Page = h.page(c, "Inbox", "admin")
	return web.Render(c, http.StatusOK, admin.Inbox(v))
}

func (h *adminHandler) replay(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	err = h.deps.DB.ReplayInbound(c.Request().Context(), id, h.auditEntry(c))
	if errors.Is(err, db.ErrConflict) {
		return web.Errorf(http.StatusConflict, "This delivery is already processed or has no stored body; nothing to replay.")
	}
	if err != nil {
		return err
	}
	h.deps.Flow.Nudge()
	h.deps.Web.Sessions.Flash(c, "Delivery queued for processing.")
	return web.Redirect(c, "/admin/inbox")
}
