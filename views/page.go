// Package views holds the templ components of KYC Desk: the layout, shared
// components, and one folder per feature. Views are pure: they render the
// typed data they are given and do no I/O.
//
// htmx convention: every htmx target is a named component that the full
// page also renders, so a partial and a full page never drift apart. htmx 2
// does not swap 4xx/5xx responses; invalid forms are re-rendered with 200
// and their errors inline, and real errors come back as the error page,
// which the layout's htmx config shows in place (see static/js/app.js).
package views

import (
	"fmt"

	"github.com/kycdesk/kycdesk/web/authz"
)

// Viewer is the signed-in staff member as the views see them.
type Viewer struct {
	Email string
	Role  authz.Role
}

// Can reports whether the viewer has capability c.
func (v *Viewer) Can(c authz.Cap) bool { return v != nil && authz.Can(v.Role, c) }

// Page is what the layout needs on every staff page.
type Page struct {
	Title   string
	Nav     string // active navigation item
	User    *Viewer
	CSRF    string
	Sandbox bool
	Flash   string
}

// NavItem is one entry of the main navigation.
type NavItem struct {
	Key, Href, Label string
	Cap              authz.Cap // "" = every signed-in user
}

// Navigation is the main menu; items the viewer's role cannot use are not
// shown (the server refuses them anyway).
var Navigation = []NavItem{
	{Key: "overview", Href: "/", Label: "Overview"},
	{Key: "applicants", Href: "/applicants", Label: "Applicants", Cap: authz.ListApplicants},
	{Key: "reviews", Href: "/reviews", Label: "Reviews", Cap: authz.ListApplicants},
	{Key: "verifications", Href: "/verifications/new", Label: "Start verification", Cap: authz.StartVerification},
	{Key: "audit", Href: "/audit", Label: "Audit log", Cap: authz.ViewAudit},
	{Key: "admin", Href: "/admin", Label: "Admin", Cap: authz.ManageSystem},
}

// NavItems are the navigation entries this page's viewer may use.
func (p Page) NavItems() []NavItem {
	var out []NavItem
	for _, it := range Navigation {
		if it.Cap == "" || p.User.Can(it.Cap) {
			out = append(out, it)
		}
	}
	return out
}

// CSRFHeaders is the hx-headers value that sends the CSRF token with every
// htmx request.
func (p Page) CSRFHeaders() string {
	return fmt.Sprintf(`{"X-CSRF-Token": %q}`, p.CSRF)
}
