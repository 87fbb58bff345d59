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
		{http.MethodGet, "/", h.overview.show, web.SignedIn},
		{http.MethodPost, "/logout", h.auth.logout, web.SignedIn},

		// Applicants.
		{http.MethodGet, "/applicants", h.applicants.list, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/applicants/:id", h.applicants.show, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/applicants/:id/timeline", h.applicants.timeline, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/applicants/:id/documents/:doc", h.applicants.document, web.Requires(authz.ViewPII)},

		// Verifications: start, QR and links.
		{http.MethodGet, "/verifications/new", h.verifications.form, web.Requires(authz.StartVerification)},
		{http.MethodPost, "/verifications", h.verifications.create, web.Requires(authz.StartVerification)},
		{http.MethodGet, "/verifications/:id", h.verifications.show, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/verifications/:id/qr.png", h.verifications.qr, web.Requires(authz.ListApplicants)},

		// The applicant's own page: the token is the credential.
		{http.MethodGet, "/v/:token", h.endUser.page, web.EndUser},
		{http.MethodGet, "/v/:token/status", h.endUser.status, web.EndUser},
		{http.MethodGet, "/v/:token/qr.png", h.endUser.qr, web.EndUser},

		// Provider systems: authenticated by signature, stored before the 200.
		{http.MethodPost, "/callbacks/corepass/status", h.inbound.corepassStatus, web.Provider},
		{http.MethodPost, "/callbacks/corepass/data", h.inbound.corepassData, web.Provider},
		{http.MethodPost, "/webhooks/blockpass", h.inbound.blockpass, web.Provider},
		{http.MethodPost, "/webhooks/verifyyou/:event", h.inbound.verifyYou, web.Provider},
		{http.MethodPost, "/webhooks/idfy", h.inbound.idfy, web.Provider},

		// SelfKey wallet endpoints: the wallet calls us. Authenticated by our
		// challenge, wallet and user JWTs and the wallet's signature; no
		// session, no CSRF token. JSON in and out.
		{http.MethodGet, "/selfkey/auth/challenge", h.selfKey.challenge, web.Provider},
		{http.MethodGet, "/selfkey/auth/challenge/:did", h.selfKey.challenge, web.Provider},
		{http.MethodPost, "/selfkey/auth/challenge", h.selfKey.verify, web.Provider},
		{http.MethodGet, "/selfkey/auth/token", h.selfKey.userToken, web.Provider},
		{http.MethodPost, "/selfkey/users", h.selfKey.createUser, web.Provider},
		{http.MethodPost, "/selfkey/users/file", h.selfKey.uploadFile, web.Provider},
		{http.MethodGet, "/selfkey/users/token", h.selfKey.userToken, web.Provider},
		{http.MethodPost, "/selfkey/login", h.selfKey.login, web.Provider},
		{http.MethodGet, "/selfkey/templates", h.selfKey.listTemplates, web.Provider},
		{http.MethodGet, "/selfkey/templates/:id", h.selfKey.showTemplate, web.Provider},
		{http.MethodGet, "/selfkey/templates/:id/schema.json", h.selfKey.showTemplate, web.Provider},
		{http.MethodPost, "/selfkey/files", h.selfKey.uploadFile, web.Provider},
		{http.MethodPost, "/selfkey/applications", h.selfKey.createApplication, web.Provider},

		// Review under four eyes: the queue and claims, proposals (makers),
		// decisions (checkers), bulk assign/note, notes, exports; the rules
		// themselves are enforced in db.
		{http.MethodGet, "/reviews", h.reviews.queue, web.Requires(authz.ListApplicants)},
		{http.MethodPost, "/reviews/next", h.reviews.next, web.Requires(authz.ProposeDecision)},
		{http.MethodPost, "/reviews/bulk", h.reviews.bulk, web.Requires(authz.EditApplicants)},
		{http.MethodGet, "/reviews/settings", h.reviews.settings, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/reviews/settings", h.reviews.saveSettings, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/reviews/reasons", h.reviews.addReason, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/reviews/reasons/active", h.reviews.setReasonActive, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/reviews/:id", h.reviews.show, web.Requires(authz.ListApplicants)},
		{http.MethodPost, "/reviews/:id/claim", h.reviews.claim, web.Requires(authz.ProposeDecision)},
		{http.MethodPost, "/reviews/:id/release", h.reviews.release, web.Requires(authz.ProposeDecision)},
		{http.MethodPost, "/reviews/:id/propose", h.reviews.propose, web.Requires(authz.ProposeDecision)},
		{http.MethodPost, "/reviews/:id/decide", h.reviews.decide, web.Requires(authz.Decide)},
		{http.MethodPost, "/applicants/:id/notes", h.notes.add, web.Requires(authz.EditApplicants)},
		{http.MethodGet, "/applicants/:id/export.json", h.exports.caseFileJSON, web.Requires(authz.Export)},
		{http.MethodGet, "/exports/applicants.csv", h.exports.applicantsCSV, web.Requires(authz.Export)},

		// Admin.
		{http.MethodGet, "/admin", h.admin.index, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/admin/providers", h.admin.providers, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/admin/inbox", h.admin.inbox, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/inbox/:id/replay", h.admin.replay, web.Requires(authz.ManageSystem)},

		// Blockpass KYC Connect: the sync (requested here, run by the Blockpass
		// job, its progress polled) and the import of encrypted profile exports.
		{http.MethodGet, "/admin/blockpass", h.blockpass.show, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/blockpass/sync", h.blockpass.requestSync, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/admin/blockpass/sync/progress", h.blockpass.progress, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/admin/blockpass/import", h.blockpass.importForm, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/blockpass/import", h.blockpass.importExport, web.Requires(authz.ManageSystem)},

		// Archive and retention: archive one applicant or a page of ticked
		// rows, legal holds, deletion receipts, the retention policy.
		{http.MethodPost, "/applicants/archive", h.archive.bulk, web.Requires(authz.Archive)},
		{http.MethodPost, "/applicants/:id/archive", h.archive.archiveOne, web.Requires(authz.Archive)},
		{http.MethodPost, "/applicants/:id/hold", h.archive.hold, web.Requires(authz.Archive)},
		{http.MethodGet, "/applicants/:id/receipt.json", h.archive.receipt, web.Requires(authz.ListApplicants)},
		{http.MethodGet, "/admin/retention", h.retention.show, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/retention", h.retention.save, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/retention/run", h.retention.run, web.Requires(authz.ManageSystem)},

		// SelfKey KYC templates: which attribute schemas a wallet submits.
		{http.MethodGet, "/admin/templates", h.templates.list, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/admin/templates/new", h.templates.newForm, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/templates", h.templates.create, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/admin/templates/:id", h.templates.edit, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/templates/:id", h.templates.update, web.Requires(authz.ManageSystem)},

		// Staff identity: SAML sign-in (the IdP's POST to the ACS carries no
		// CSRF token; the signed response authenticates it), users, SSO
		// settings, and the audit log. GET on the ACS is the redirect
		// binding, which is refused (with an audit entry) without inflating.
		{http.MethodGet, "/saml/metadata", h.samlSP.metadata, web.Public},
		{http.MethodGet, "/saml/login", h.samlSP.login, web.Public},
		{http.MethodPost, "/saml/acs", h.samlSP.acs, web.SignInResponse},
		{http.MethodGet, "/saml/acs", h.samlSP.acs, web.SignInResponse},
		{http.MethodGet, "/admin/users", h.users.list, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/users", h.users.add, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/users/:user/role", h.users.setRole, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/users/:user/disable", h.users.disable, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/users/:user/enable", h.users.enable, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/admin/sso", h.ssoAdmin.settings, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/sso/rules", h.ssoAdmin.addRule, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/sso/rules/:rule/delete", h.ssoAdmin.deleteRule, web.Requires(authz.ManageSystem)},
		{http.MethodPost, "/admin/sso/rules/:rule/move", h.ssoAdmin.moveRule, web.Requires(authz.ManageSystem)},
		{http.MethodGet, "/audit", h.auditLog.list, web.Requires(authz.ViewAudit)},
	}
}

// Mount registers every route on the server, and the provider simulators
// in sandbox mode (test peers reached over HTTP, never called directly).
func (h *Handlers) Mount(s *web.Server) {
	for _, r := range h.Routes() {
		s.Handle(r.Method, r.Path, r.Handler, r.Access)
	}
	for prefix, sim := range h.deps.SandboxMounts {
		handler := echo.WrapHandler(http.StripPrefix(prefix, sim))
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			s.Handle(m, prefix+"/*", handler, web.Provider)
		}
	}
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
