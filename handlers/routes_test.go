package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
)

// TestEveryRouteAsEveryRole walks the whole URL surface as each role and
// signed out, and checks allow or deny against the route's declared access
// and the capability matrix. A route added without a rule cannot be
// mounted (web.Handle panics), and one whose rule is wrong fails here.
func TestEveryRouteAsEveryRole(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	// An applicant created by the link creator, so object checks allow it.
	a, err := app.db.CreateApplicant(ctx, db.NewApplicant{Name: "Route Walker", CreatedBy: app.users[authz.LinkCreator].ID}, db.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	// :user and :rule name no row, so walking the admin POSTs changes no
	// user (disabling the admin would end the walk).
	params := strings.NewReplacer(":id", strconv.FormatInt(a.ID, 10), ":doc", "1", ":token", "unknown-token", "*", "css/app.css",
		":user", "999999", ":rule", "999999")

	type who struct {
		name string
		role authz.Role // "" = signed out
	}
	everyone := []who{{"signed out", ""}}
	for _, r := range authz.Roles {
		everyone = append(everyone, who{string(r), r})
	}
	routes := app.handlers().Routes()
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	// One signed-in client per role: a sign-in costs an argon2id hash, and
	// the walk makes hundreds of requests. Routes that end the session get
	// a fresh one.
	sessions := map[authz.Role]*client{}
	clientFor := func(r authz.Role, path string) *client {
		if r == "" {
			return app.client()
		}
		if path == "/logout" {
			return app.signedIn(r)
		}
		if sessions[r] == nil {
			sessions[r] = app.signedIn(r)
		}
		return sessions[r]
	}
	for _, rt := range routes {
		for _, w := range everyone {
			t.Run(rt.Method+" "+rt.Path+" as "+w.name, func(t *testing.T) {
				c := clientFor(w.role, rt.Path)
				path := params.Replace(rt.Path)
				var resp *http.Response
				if rt.Method == http.MethodGet {
					resp = c.get(path)
				} else {
					resp = c.postForm(path, nil)
				}
				if resp.StatusCode >= 500 {
					t.Fatalf("status %d: a route must answer a bare request without an internal error", resp.StatusCode)
				}
				denied := resp.StatusCode == http.StatusForbidden ||
					(resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login?"))
				want := !rt.Access.IsStaff() // public, provider and end-user routes never need a session
				if rt.Access.IsStaff() && w.role != "" {
					want = rt.Access.Cap() == "" || authz.Can(w.role, rt.Access.Cap())
				}
				if rt.Path == "/login" && rt.Method == http.MethodGet && w.role != "" {
					denied = false // a signed-in user is sent on from the sign-in page
				}
				if denied == want {
					t.Fatalf("status %d (location %q): want allowed=%v", resp.StatusCode, resp.Header.Get("Location"), want)
				}
			})
		}
	}
}
