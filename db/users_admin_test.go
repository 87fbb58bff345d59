package db

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustUser(t *testing.T, d *DB, email, role, hash string) User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), email, role, hash, AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLastEnabledAdminStays(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a := mustUser(t, d, "a@example.com", "admin", "x")
	b := mustUser(t, d, "b@example.com", "admin", "x")
	by := AuditEntry{Actor: "a@example.com", ActorID: a.ID}

	if err := d.SetDisabled(ctx, b.ID, true, by); err != nil {
		t.Fatal(err)
	}
	if err := d.SetRole(ctx, a.ID, "checker", by); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demoting the last enabled admin: %v, want ErrLastAdmin", err)
	}
	if err := d.SetDisabled(ctx, a.ID, true, by); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("disabling the last enabled admin: %v, want ErrLastAdmin", err)
	}
	// A disabled admin may be demoted: it leaves the enabled count alone.
	if err := d.SetRole(ctx, b.ID, "auditor", by); err != nil {
		t.Errorf("demoting a disabled admin: %v", err)
	}
	// The database itself refuses, whoever writes.
	for _, q := range []string{"UPDATE users SET role = 'maker' WHERE id = ?", "UPDATE users SET disabled = 1 WHERE id = ?", "DELETE FROM users WHERE id = ?"} {
		if _, err := d.write.ExecContext(ctx, q, a.ID); err == nil {
			t.Errorf("%s on the last admin succeeded", q)
		}
	}
	if u, _ := d.UserByID(ctx, a.ID); u.Role != "admin" || u.Disabled {
		t.Errorf("last admin is now %s disabled=%v", u.Role, u.Disabled)
	}
	if es, _ := d.ListAudit(ctx, AuditFilter{Action: "user.role_change"}); len(es) != 1 || es[0].Detail != "from=admin to=auditor" {
		t.Errorf("role change audit = %+v", es)
	}
}

// TestAdminsDemotingEachOtherAtOnce: two admins demote each other at the
// same moment; the check and the change share a transaction, so one wins.
func TestAdminsDemotingEachOtherAtOnce(t *testing.T) {
	ctx := context.Background()
	for range 5 {
		d := openTest(t, t0)
		a := mustUser(t, d, "a@example.com", "admin", "x")
		b := mustUser(t, d, "b@example.com", "admin", "x")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]User{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = d.SetRole(ctx, pair[1].ID, "checker", AuditEntry{ActorID: pair[0].ID, Actor: pair[0].Email})
			}()
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if errors.Is(err, ErrLastAdmin) {
				failed++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		d.read.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0").Scan(&n)
		if failed != 1 || n != 1 {
			t.Fatalf("%d refused, %d admins left; want exactly one of each", failed, n)
		}
	}
}

func TestDisablingEndsSessionsAtOnce(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	admin := mustUser(t, d, "a@example.com", "admin", "x")
	u := mustUser(t, d, "c@example.com", "checker", "x")
	lim := SessionLimits{Idle: time.Hour, Absolute: 12 * time.Hour}
	s1, _ := d.CreateSession(ctx, u.ID, "")
	s2, _ := d.CreateSession(ctx, u.ID, "")
	keep, _ := d.CreateSession(ctx, admin.ID, "")
	if err := d.SetDisabled(ctx, u.ID, true, AuditEntry{ActorID: admin.ID, Actor: admin.Email}); err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{s1, s2} {
		if _, err := d.LiveSessionUser(ctx, sid, lim); !errors.Is(err, ErrNotFound) {
			t.Errorf("session of a disabled user: %v, want ErrNotFound", err)
		}
	}
	var n int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE user_id = ?", u.ID).Scan(&n)
	if n != 0 {
		t.Errorf("%d sessions left in the table", n)
	}
	if _, err := d.LiveSessionUser(ctx, keep, lim); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	if err := d.SetDisabled(ctx, u.ID, false, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.LiveSessionUser(ctx, s1, lim); err == nil {
		t.Error("enabling the user revived an old session")
	}
	es, _ := d.ListAudit(ctx, AuditFilter{Action: "user.disable"})
	if len(es) != 1 || es[0].Detail != "2 sessions ended" {
		t.Errorf("disable audit = %+v", es)
	}
}

func TestSSOSignIn(t *testing.T) {
	ctx := context.Background()
	now := t0
	d := openTest(t, t0)
	d.now = func() time.Time { return now }
	lim := SessionLimits{Idle: time.Hour, Absolute: 12 * time.Hour}
	bootstrap := mustUser(t, d, "root@example.com", "admin", "password-hash")
	by := AuditEntry{IP: "192.0.2.1"}
	alice := SSOLogin{Issuer: "https://idp.example/", NameID: "alice-7f3a", Email: "alice@example.com", Role: "checker"}

	first, err := d.SSOSignIn(ctx, alice, by)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Provisioned || first.User.Role != "checker" || first.User.Email != "alice@example.com" || first.User.PasswordHash != "" {
		t.Fatalf("first sign-in = %+v", first)
	}
	again, err := d.SSOSignIn(ctx, alice, by)
	if err != nil || again.Provisioned || again.User.ID != first.User.ID || again.SessionID == first.SessionID {
		t.Fatalf("second sign-in = %+v, %v; want the same user and a new session", again, err)
	}

	t.Run("same NameID at another IdP is another person", func(t *testing.T) {
		other := alice
		other.Issuer, other.Email = "https://other-idp.example/", "alice@other.example"
		r, err := d.SSOSignIn(ctx, other, by)
		if err != nil || r.User.ID == first.User.ID {
			t.Fatalf("got user %d, %v; want a new user", r.User.ID, err)
		}
	})
	t.Run("role follows the IdP at each sign-in", func(t *testing.T) {
		in := alice
		in.Role = "auditor"
		r, err := d.SSOSignIn(ctx, in, by)
		if err != nil || r.User.Role != "auditor" {
			t.Fatalf("role %q, %v", r.User.Role, err)
		}
		if es, _ := d.ListAudit(ctx, AuditFilter{Action: "user.role_change", Object: "user:" + itoa(r.User.ID)}); len(es) != 1 {
			t.Errorf("role sync audit entries: %d", len(es))
		}
	})
	t.Run("a password account is not taken over by email", func(t *testing.T) {
		in := SSOLogin{Issuer: alice.Issuer, NameID: "mallory", Email: "ROOT@example.com", Role: "admin"}
		if _, err := d.SSOSignIn(ctx, in, by); !errors.Is(err, ErrIdentityConflict) {
			t.Fatalf("err %v, want ErrIdentityConflict", err)
		}
		var n int
		d.read.QueryRowContext(ctx, "SELECT count(*) FROM user_identities WHERE user_id = ?", bootstrap.ID).Scan(&n)
		if n != 0 {
			t.Error("the bootstrap admin got linked")
		}
	})
	t.Run("an account an admin added for SSO is linked", func(t *testing.T) {
		added := mustUser(t, d, "bob@example.com", "maker", "")
		r, err := d.SSOSignIn(ctx, SSOLogin{Issuer: alice.Issuer, NameID: "bob", Email: "bob@example.com", Role: "maker"}, by)
		if err != nil || r.User.ID != added.ID || !r.Provisioned {
			t.Fatalf("got %+v, %v", r, err)
		}
		if _, err := d.SSOSignIn(ctx, SSOLogin{Issuer: alice.Issuer, NameID: "not-bob", Email: "bob@example.com", Role: "maker"}, by); !errors.Is(err, ErrIdentityConflict) {
			t.Errorf("a second identity for bob: %v, want ErrIdentityConflict", err)
		}
	})
	t.Run("no email, no account", func(t *testing.T) {
		if _, err := d.SSOSignIn(ctx, SSOLogin{Issuer: alice.Issuer, NameID: "anon", Role: "maker"}, by); !errors.Is(err, ErrInvalid) {
			t.Errorf("err %v, want ErrInvalid", err)
		}
	})
	t.Run("disabled user refused", func(t *testing.T) {
		if err := d.SetDisabled(ctx, first.User.ID, true, AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.SSOSignIn(ctx, alice, by); !errors.Is(err, ErrDisabled) {
			t.Errorf("err %v, want ErrDisabled", err)
		}
		d.SetDisabled(ctx, first.User.ID, false, AuditEntry{})
	})
	t.Run("the last admin keeps the role", func(t *testing.T) {
		chief := SSOLogin{Issuer: alice.Issuer, NameID: "chief", Email: "chief@example.com", Role: "admin"}
		r, err := d.SSOSignIn(ctx, chief, by)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetDisabled(ctx, bootstrap.ID, true, AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		chief.Role = "checker"
		r, err = d.SSOSignIn(ctx, chief, by)
		if err != nil || r.User.Role != "admin" {
			t.Fatalf("role %q, %v; want admin kept", r.User.Role, err)
		}
		if es, _ := d.ListAudit(ctx, AuditFilter{Action: "user.role_sync_refused"}); len(es) != 1 {
			t.Errorf("no audit entry for the kept role")
		}
	})
	t.Run("session capped at the IdP's SessionNotOnOrAfter", func(t *testing.T) {
		in := alice
		in.NotAfter = now.Add(20 * time.Minute)
		r, err := d.SSOSignIn(ctx, in, by)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := d.SSOSignIn(ctx, alice, by)
		now = now.Add(19 * time.Minute)
		if _, err := d.LiveSessionUser(ctx, r.SessionID, lim); err != nil {
			t.Fatalf("capped session ended early: %v", err)
		}
		now = now.Add(time.Minute)
		if _, err := d.LiveSessionUser(ctx, r.SessionID, lim); !errors.Is(err, ErrNotFound) {
			t.Errorf("capped session outlived SessionNotOnOrAfter: %v", err)
		}
		if _, err := d.LiveSessionUser(ctx, plain.SessionID, lim); err != nil {
			t.Errorf("uncapped session ended: %v", err)
		}
	})
	logins, _ := d.ListAudit(ctx, AuditFilter{Action: "auth.login", Limit: 500})
	for _, e := range logins {
		if e.IP != "192.0.2.1" || e.ActorID == 0 || e.Detail[:11] != "method=saml" {
			t.Errorf("login audit entry %+v", e)
		}
	}
	if es, _ := d.ListAudit(ctx, AuditFilter{Action: "user.provision", Limit: 500}); len(es) < 2 {
		t.Errorf("%d provision entries", len(es))
	}
	staff, err := d.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range staff {
		switch s.Email {
		case "alice@example.com":
			if !s.SSO || s.LastLogin.IsZero() {
				t.Errorf("alice listed as %+v, want SSO with a last sign-in", s)
			}
		case "root@example.com":
			if s.SSO {
				t.Error("the password admin listed as SSO")
			}
		}
	}
	all, _ := d.ListAudit(ctx, AuditFilter{Limit: 500})
	for _, e := range all {
		if strings.Contains(e.Actor+e.Object+e.Detail, alice.NameID) {
			t.Errorf("audit entry %d holds the NameID: %+v", e.ID, e)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
