package saml_test

import (
	"context"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/web/saml"
)

func TestMemoryRequestStore(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := saml.NewMemoryRequestStore()
	if err := s.Save(ctx, "id-1", "/a", "hash-1", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "id-2", "/b", "hash-2", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if relay, binding, ok, err := s.Take(ctx, "id-1", now); err != nil || !ok || relay != "/a" || binding != "hash-1" {
		t.Fatalf("Take(id-1) = %q, %q, %v, %v; want /a, hash-1", relay, binding, ok, err)
	}
	if _, _, ok, _ := s.Take(ctx, "id-1", now); ok {
		t.Error("id-1 taken twice")
	}
	if _, _, ok, _ := s.Take(ctx, "unknown", now); ok {
		t.Error("unknown id taken")
	}
	if _, _, ok, _ := s.Take(ctx, "id-2", now.Add(10*time.Minute)); ok {
		t.Error("id-2 taken at its expiry")
	}
	if s.Len() != 0 {
		t.Errorf("%d requests left, want 0", s.Len())
	}
}

func TestMemoryAssertionStore(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := saml.NewMemoryAssertionStore(func() time.Time { return now })
	for i, want := range []bool{true, false, false} {
		if first, err := s.Remember(ctx, "a-1", now.Add(5*time.Minute)); err != nil || first != want {
			t.Fatalf("Remember #%d = %v, %v; want %v", i, first, err, want)
		}
	}
	now = now.Add(5 * time.Minute)
	if first, _ := s.Remember(ctx, "a-1", now.Add(5*time.Minute)); !first {
		t.Error("an expired entry still counts as seen")
	}
}
