package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// hashA and hashB stand for the hex SHA-256 of two browsers' binding secrets.
const (
	hashA = "8a1f0a6c4f3d1c2b9e7d6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
	hashB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestSAMLRequestsAreTakenOnceBeforeExpiry(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	s := d.SAMLRequests()
	if err := s.Save(ctx, "id-a", "/applicants?status=open", hashA, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "id-a", "/", hashA, t0.Add(10*time.Minute)); !errors.Is(err, ErrConflict) {
		t.Errorf("saving the same id twice: %v, want ErrConflict", err)
	}
	if err := s.Save(ctx, "id-b", "/", hashB, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}

	relay, binding, ok, err := s.Take(ctx, "id-a", t0.Add(time.Minute))
	if err != nil || !ok || relay != "/applicants?status=open" || binding != hashA {
		t.Fatalf("Take = %q %q %v %v, want the relay state and id-a's binding hash", relay, binding, ok, err)
	}
	if _, _, ok, _ := s.Take(ctx, "id-a", t0.Add(time.Minute)); ok {
		t.Error("a request was taken twice")
	}
	if _, _, ok, _ := s.Take(ctx, "id-unknown", t0); ok {
		t.Error("an unknown request was taken")
	}
	if _, _, ok, _ := s.Take(ctx, "id-b", t0.Add(10*time.Minute)); ok {
		t.Error("a request was taken at its expiry")
	}
}

func TestSAMLRequestBinding(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	s := d.SAMLRequests()
	if err := s.Save(ctx, "id-unbound", "/", "", t0.Add(time.Minute)); !errors.Is(err, ErrInvalid) {
		t.Errorf("saving a request without a binding hash: %v, want ErrInvalid", err)
	}
	for _, bad := range []string{"secret-in-the-clear", hashA[:63], hashA + "0", "8A1F" + hashA[4:]} {
		if err := s.Save(ctx, "id-bad", "/", bad, t0.Add(time.Minute)); err == nil {
			t.Errorf("the database stored binding hash %q, want only 64 lowercase hex digits", bad)
		}
	}
	// A request outstanding when migration 011 ran has no binding: Take
	// reports it with an empty hash, which the ACS refuses.
	if _, err := d.write.ExecContext(ctx, "INSERT INTO saml_requests(id, relay_state, expires_at, created_at) VALUES ('id-legacy', '/x', ?, 0)",
		t0.Add(time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if relay, binding, ok, err := s.Take(ctx, "id-legacy", t0); err != nil || !ok || relay != "/x" || binding != "" {
		t.Errorf("Take(legacy) = %q %q %v %v, want /x with an empty binding hash", relay, binding, ok, err)
	}
}

func TestSAMLRequestTakenByOneOfManyRacers(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	s := d.SAMLRequests()
	if err := s.Save(ctx, "id-race", "/", hashA, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, ok, err := s.Take(ctx, "id-race", t0)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d racers took the request, want 1", won)
	}
}

func TestSAMLRequestsAreBounded(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	s := d.SAMLRequests()
	// Fill to the bound in one statement; expired rows do not count.
	if _, err := d.write.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO saml_requests(id, expires_at, created_at) SELECT 'fill-' || i, ?, 0 FROM n`,
		MaxOutstandingSAMLRequests, t0.Add(time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "one-too-many", "/", hashA, t0.Add(10*time.Minute)); !errors.Is(err, ErrTooManySAMLRequests) {
		t.Fatalf("Save over the bound: %v, want ErrTooManySAMLRequests", err)
	}
	d.now = func() time.Time { return t0.Add(2 * time.Minute) }
	if err := s.Save(ctx, "after-expiry", "/", hashB, t0.Add(12*time.Minute)); err != nil {
		t.Fatalf("Save once the others expired: %v", err)
	}
	var n int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM saml_requests").Scan(&n)
	if n != 1 {
		t.Errorf("%d requests stored, want the expired ones purged", n)
	}
}

func TestSAMLAssertionReplayRefusedUntilExpiry(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	now := t0
	s := d.SAMLAssertions(func() time.Time { return now })
	for i, want := range []bool{true, false, false} {
		first, err := s.Remember(ctx, "assertion-1", t0.Add(5*time.Minute))
		if err != nil || first != want {
			t.Fatalf("use %d: first=%v err=%v, want %v", i+1, first, err, want)
		}
	}
	if first, _ := s.Remember(ctx, "assertion-2", t0.Add(5*time.Minute)); !first {
		t.Error("a different assertion counted as a replay")
	}
	now = t0.Add(5 * time.Minute)
	if first, _ := s.Remember(ctx, "assertion-1", t0.Add(20*time.Minute)); !first {
		t.Error("an expired entry still refused its ID")
	}
	if first, _ := s.Remember(ctx, "assertion-1", t0.Add(20*time.Minute)); first {
		t.Error("the renewed entry did not refuse a replay")
	}
	var n int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM saml_assertions").Scan(&n)
	if n != 1 {
		t.Errorf("%d assertion IDs kept, want only the live one", n)
	}
}

func TestRoleRules(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	by := AuditEntry{Actor: "admin@example.com", ActorID: 1}
	seed := []RoleRuleInput{{"kyc-checkers", "checker"}, {"kyc-admins", "admin"}}
	if changed, err := d.SeedRoleRules(ctx, "kyc-checkers=checker,kyc-admins=admin", seed, AuditEntry{}); err != nil || !changed {
		t.Fatalf("first seed: %v %v", changed, err)
	}
	values := func() string {
		rules, err := d.RoleRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s := ""
		for _, r := range rules {
			s += fmt.Sprintf("%s=%s;", r.Value, r.Role)
		}
		return s
	}
	if got := values(); got != "kyc-checkers=checker;kyc-admins=admin;" {
		t.Fatalf("seeded rules %s", got)
	}
	if _, err := d.AddRoleRule(ctx, "kyc-makers", "maker", by); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddRoleRule(ctx, "kyc-makers", "auditor", by); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate value: %v, want ErrConflict", err)
	}
	if _, err := d.AddRoleRule(ctx, "x", "superuser", by); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown role: %v, want ErrInvalid", err)
	}
	if _, err := d.write.ExecContext(ctx, "INSERT INTO saml_role_rules(position, value, role, created_at) VALUES (9, 'x', 'root', 0)"); err == nil {
		t.Error("the database accepted an unknown role")
	}
	rules, _ := d.RoleRules(ctx)
	if err := d.MoveRoleRule(ctx, rules[2].ID, true, by); err != nil {
		t.Fatal(err)
	}
	if got := values(); got != "kyc-checkers=checker;kyc-makers=maker;kyc-admins=admin;" {
		t.Errorf("after moving kyc-makers up: %s", got)
	}
	if err := d.DeleteRoleRule(ctx, rules[0].ID, by); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteRoleRule(ctx, rules[0].ID, by); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	// A restart with the same variable keeps the admin's edits.
	if changed, _ := d.SeedRoleRules(ctx, "kyc-checkers=checker,kyc-admins=admin", seed, AuditEntry{}); changed {
		t.Error("an unchanged role map re-seeded the rules")
	}
	if got := values(); got != "kyc-makers=maker;kyc-admins=admin;" {
		t.Errorf("after restart: %s", got)
	}
	// A changed variable replaces them.
	if changed, _ := d.SeedRoleRules(ctx, "g=auditor", []RoleRuleInput{{"g", "auditor"}}, AuditEntry{}); !changed {
		t.Error("a changed role map did not re-seed")
	}
	if got := values(); got != "g=auditor;" {
		t.Errorf("after a new role map: %s", got)
	}
	for _, action := range []string{"sso.rules_seeded", "sso.rule_add", "sso.rule_move", "sso.rule_delete"} {
		if es, _ := d.ListAudit(ctx, AuditFilter{Action: action}); len(es) == 0 {
			t.Errorf("no %s audit entry", action)
		}
	}
}
