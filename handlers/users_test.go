package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/password"
)

// userRow finds the users page's row for email.
func userRow(doc *goquery.Document, email string) *goquery.Selection {
	return doc.Find(`[data-testid="user-row"][data-email="` + email + `"]`)
}

func TestUsersAdmin(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	admin := app.signedIn(authz.Admin)

	doc := parse(t, admin.get("/admin/users"))
	if n := doc.Find(`[data-testid="user-row"]`).Length(); n != len(authz.Roles) {
		t.Fatalf("%d user rows, want one per role", n)
	}
	if userRow(doc, app.users[authz.Admin].Email).Find(`[data-testid="user-disable"]`).Length() != 0 {
		t.Error("the admin is offered to disable themselves")
	}
	if got, _ := userRow(doc, app.users[authz.Maker].Email).Find(`[data-testid="user-role"] option[selected]`).Attr("value"); got != "maker" {
		t.Errorf("maker's row shows role %q", got)
	}

	t.Run("add with a temporary password shown once", func(t *testing.T) {
		resp := admin.postForm("/admin/users", url.Values{"email": {"new.checker@example.com"}, "role": {"checker"}, "method": {"password"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users" {
			t.Fatalf("add: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		flash := parse(t, admin.get("/admin/users")).Find(`[data-testid="flash"]`).Text()
		_, pw, ok := strings.Cut(flash, "shown only now: ")
		if !ok {
			t.Fatalf("flash %q has no password", flash)
		}
		u, err := app.db.UserByEmail(ctx, "new.checker@example.com")
		if err != nil || u.Role != "checker" || password.Check(u.PasswordHash, pw) != nil {
			t.Fatalf("added user %+v (%v), or the shown password does not sign in", u, err)
		}
		if again := parse(t, admin.get("/admin/users")).Find(`[data-testid="flash"]`).Text(); strings.Contains(again, pw) {
			t.Error("the password was shown twice")
		}
		c := app.client()
		if resp := c.postForm("/login", url.Values{"email": {u.Email}, "password": {pw}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the new user cannot sign in: %d", resp.StatusCode)
		}
	})
	t.Run("bad input is shown on the form", func(t *testing.T) {
		for _, form := range []url.Values{
			{"email": {"not an email"}, "role": {"checker"}, "method": {"password"}},
			{"email": {"x@example.com"}, "role": {"root"}, "method": {"password"}},
			{"email": {"x@example.com"}, "role": {"maker"}, "method": {"sso"}}, // SSO is not configured here
			{"email": {app.users[authz.Maker].Email}, "role": {"maker"}, "method": {"password"}},
		} {
			resp := admin.postForm("/admin/users", form)
			msg := parse(t, resp).Find(`[data-testid="user-add-error"]`).Text()
			if resp.StatusCode != http.StatusBadRequest || msg == "" {
				t.Errorf("%v: status %d, message %q", form, resp.StatusCode, msg)
			}
		}
	})
	t.Run("change role takes effect on the next request", func(t *testing.T) {
		maker := app.signedIn(authz.Maker)
		if resp := maker.get("/audit"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("maker on /audit: %d", resp.StatusCode)
		}
		id := itoa(app.users[authz.Maker].ID)
		if resp := admin.postForm("/admin/users/"+id+"/role", url.Values{"role": {"auditor"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("set role: %d", resp.StatusCode)
		}
		if resp := maker.get("/audit"); resp.StatusCode != http.StatusOK {
			t.Errorf("after becoming an auditor, /audit: %d", resp.StatusCode)
		}
		es := app.auditActions(t, "user.role_change")
		if len(es) == 0 || es[0].Object != "user:"+id || es[0].Detail != "from=maker to=auditor" || es[0].ActorID != app.users[authz.Admin].ID {
			t.Errorf("audit %+v", es)
		}
		admin.postForm("/admin/users/"+id+"/role", url.Values{"role": {"maker"}})
	})
	t.Run("disabling ends the user's sessions at once: a replayed cookie gets the sign-in page", func(t *testing.T) {
		checker := app.signedIn(authz.Checker)
		appURL, _ := url.Parse(app.srv.URL)
		old := checker.http.Jar.Cookies(appURL)
		if resp := checker.get("/applicants"); resp.StatusCode != http.StatusOK {
			t.Fatalf("before: %d", resp.StatusCode)
		}
		id := itoa(app.users[authz.Checker].ID)
		if resp := admin.postForm("/admin/users/"+id+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", resp.StatusCode)
		}
		replay := app.client()
		replay.http.Jar.SetCookies(appURL, old)
		resp := replay.get("/applicants")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") {
			t.Fatalf("replayed cookie of a disabled user: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp := app.client().postForm("/login", url.Values{"email": {app.users[authz.Checker].Email}, "password": {testPassword}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a disabled user signed in: %d", resp.StatusCode)
		}
		state := userRow(parse(t, admin.get("/admin/users")), app.users[authz.Checker].Email).Find(`[data-testid="user-state"]`).Text()
		if strings.TrimSpace(state) != "Disabled" {
			t.Errorf("state shown %q", state)
		}
		if resp := admin.postForm("/admin/users/"+id+"/enable", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable: %d", resp.StatusCode)
		}
		if resp := replay.get("/applicants"); resp.StatusCode != http.StatusSeeOther {
			t.Error("enabling revived the old session")
		}
		app.signedIn(authz.Checker) // and they can sign in again
	})
	t.Run("the last admin can be neither demoted nor disabled", func(t *testing.T) {
		id := itoa(app.users[authz.Admin].ID)
		resp := admin.postForm("/admin/users/"+id+"/role", url.Values{"role": {"checker"}})
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("demoting the last admin: %d", resp.StatusCode)
		}
		if msg := parse(t, resp).Find(`[data-testid="error-message"]`).Text(); !strings.Contains(msg, "at least one enabled admin") {
			t.Errorf("message %q", msg)
		}
		if resp := admin.postForm("/admin/users/"+id+"/disable", nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("disabling yourself: %d", resp.StatusCode)
		}
		if u, _ := app.db.UserByID(ctx, app.users[authz.Admin].ID); u.Role != "admin" || u.Disabled {
			t.Errorf("admin is now %+v", u)
		}
		// With a second admin, the first may step down.
		admin.postForm("/admin/users/"+itoa(app.users[authz.Auditor].ID)+"/role", url.Values{"role": {"admin"}})
		resp = admin.postForm("/admin/users/"+id+"/role", url.Values{"role": {"checker"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("stepping down: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		other := app.signedIn(authz.Auditor) // an admin now
		for _, path := range []string{"/admin/users/999999/disable", "/admin/users/x/role"} {
			if resp := other.postForm(path, url.Values{"role": {"maker"}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d", path, resp.StatusCode)
			}
		}
	})
}

func TestSSOAdminPage(t *testing.T) {
	t.Run("without SAML", func(t *testing.T) {
		app := newTestApp(t)
		doc := parse(t, app.signedIn(authz.Admin).get("/admin/sso"))
		if doc.Find(`[data-testid="sso-off"]`).Length() != 1 || doc.Find(`[data-testid="sso-rules-empty"]`).Length() != 1 {
			t.Error("the page does not say SSO is off and no rule exists")
		}
	})

	app := newSSOApp(t)
	admin := app.signedIn(authz.Admin)
	doc := parse(t, admin.get("/admin/sso"))
	if href, _ := doc.Find(`[data-testid="sso-metadata-link"]`).Attr("href"); href != "/saml/metadata" {
		t.Errorf("metadata link %q", href)
	}
	if got := doc.Find(`[data-testid="sso-idp-entity"]`).Text(); got != app.idp.MetadataURL {
		t.Errorf("IdP entity %q", got)
	}
	if doc.Find(`[data-testid="sso-cert"]`).Length() != 1 {
		t.Error("the IdP certificate is not listed")
	}
	rules := func() string {
		var out []string
		parse(t, admin.get("/admin/sso")).Find(`[data-testid="sso-rule"]`).Each(func(_ int, s *goquery.Selection) {
			out = append(out, s.Find(`[data-testid="sso-rule-value"]`).Text()+"="+s.Find(`[data-testid="sso-rule-role"]`).Text())
		})
		return strings.Join(out, ",")
	}
	if got := rules(); got != "kyc-checkers=Checker,kyc-admins=Admin" {
		t.Fatalf("seeded rules %q", got)
	}
	if resp := admin.postForm("/admin/sso/rules", url.Values{"value": {"CN=KYC Makers,OU=Groups,DC=corp"}, "role": {"maker"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add rule: %d", resp.StatusCode)
	}
	resp := admin.postForm("/admin/sso/rules", url.Values{"value": {"kyc-admins"}, "role": {"auditor"}})
	if msg := parse(t, resp).Find(`[data-testid="sso-rule-error"]`).Text(); resp.StatusCode != http.StatusBadRequest || msg == "" {
		t.Errorf("duplicate rule: %d %q", resp.StatusCode, msg)
	}
	dbRules, _ := app.db.RoleRules(context.Background())
	admin.postForm("/admin/sso/rules/"+itoa(dbRules[2].ID)+"/move", url.Values{"direction": {"up"}})
	admin.postForm("/admin/sso/rules/"+itoa(dbRules[0].ID)+"/delete", nil)
	if got := rules(); got != "CN=KYC Makers,OU=Groups,DC=corp=Maker,kyc-admins=Admin" {
		t.Errorf("after move and delete: %q", got)
	}
	for _, action := range []string{"sso.rule_add", "sso.rule_move", "sso.rule_delete"} {
		if len(app.auditActions(t, action)) != 1 {
			t.Errorf("no %s audit entry", action)
		}
	}
	if resp := app.signedIn(authz.Checker).get("/admin/sso"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a checker sees /admin/sso: %d", resp.StatusCode)
	}
}
