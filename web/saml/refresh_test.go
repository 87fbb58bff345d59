package saml_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	crewsaml "github.com/crewjam/saml"

	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

// loadMetadata reads the IdP's metadata as it is published now, as a fresh value the test may edit.
func loadMetadata(t *testing.T, idp *samltest.IdP) *crewsaml.EntityDescriptor {
	t.Helper()
	md, err := saml.LoadIDPMetadata(context.Background(), nil, idp.MetadataURL)
	if err != nil {
		t.Fatalf("load IdP metadata: %v", err)
	}
	return md
}

// wantSignIn fails unless a fresh sign-in through the harness is accepted.
func wantSignIn(t *testing.T, h *harness) {
	t.Helper()
	if res, _ := h.signIn(t, "/applicants", nil); res.err != nil {
		t.Fatalf("sign-in refused: %v", res.err)
	}
}

// wantTrusted fails unless the SP trusts exactly certs, in that order.
func wantTrusted(t *testing.T, sp *saml.SP, certs ...*x509.Certificate) {
	t.Helper()
	got := sp.IDPCertificates()
	if len(got) != len(certs) {
		t.Fatalf("SP trusts %d IdP certificates, want %d", len(got), len(certs))
	}
	for i := range certs {
		if !got[i].Equal(certs[i]) {
			t.Fatalf("IdP certificate %d is %s, want %s", i, got[i].Subject, certs[i].Subject)
		}
	}
}

func TestSetIDPMetadataFollowsAKeyRotation(t *testing.T) {
	t.Parallel()
	t.Run("old certificate dropped", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{})
		wantSignIn(t, h)
		oldCert, oldKey := h.idp.RotateKey(false)

		res, _ := h.signIn(t, "/", nil)
		wantKind(t, res.err, saml.ErrSignature)

		if err := h.sp.SetIDPMetadata(loadMetadata(t, h.idp)); err != nil {
			t.Fatalf("SetIDPMetadata: %v", err)
		}
		wantTrusted(t, h.sp, h.idp.Certificate)
		wantSignIn(t, h)

		h.idp.SetSigningKey(oldCert, oldKey)
		res, _ = h.signIn(t, "/", nil)
		wantKind(t, res.err, saml.ErrSignature)
	})
	t.Run("rollover window lists both", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{})
		oldCert, oldKey := h.idp.RotateKey(true)
		if err := h.sp.SetIDPMetadata(loadMetadata(t, h.idp)); err != nil {
			t.Fatalf("SetIDPMetadata: %v", err)
		}
		wantTrusted(t, h.sp, h.idp.Certificate, oldCert)
		wantSignIn(t, h)
		h.idp.SetSigningKey(oldCert, oldKey)
		wantSignIn(t, h)
	})
}

func TestSetIDPMetadataRefusesInvalidMetadata(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	other := samltest.StartIdP(t, samltest.Options{})
	tests := []struct {
		name string
		md   func() *crewsaml.EntityDescriptor
	}{
		{"none", func() *crewsaml.EntityDescriptor { return nil }},
		{"another IdP's entity ID", func() *crewsaml.EntityDescriptor { return loadMetadata(t, other) }},
		{"no HTTP-Redirect SSO", func() *crewsaml.EntityDescriptor {
			md := loadMetadata(t, h.idp)
			for i := range md.IDPSSODescriptors {
				d := &md.IDPSSODescriptors[i]
				var post []crewsaml.Endpoint
				for _, e := range d.SingleSignOnServices {
					if e.Binding != crewsaml.HTTPRedirectBinding {
						post = append(post, e)
					}
				}
				d.SingleSignOnServices = post
			}
			return md
		}},
		{"no signing certificate", func() *crewsaml.EntityDescriptor {
			md := loadMetadata(t, h.idp)
			md.IDPSSODescriptors[0].KeyDescriptors = nil
			return md
		}},
		{"a signing certificate that does not parse", func() *crewsaml.EntityDescriptor {
			md := loadMetadata(t, h.idp)
			md.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data = "bm90IGEgY2VydGlmaWNhdGU="
			return md
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.sp.SetIDPMetadata(tt.md()); err == nil {
				t.Fatal("SetIDPMetadata accepted it")
			}
			if h.sp.IDPEntityID() != h.idp.MetadataURL {
				t.Errorf("IdP entity ID is now %s", h.sp.IDPEntityID())
			}
			wantTrusted(t, h.sp, h.idp.Certificate)
			wantSignIn(t, h)
		})
	}
}

func TestRefreshIDPMetadata(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	fromIdP := func(ctx context.Context) (*crewsaml.EntityDescriptor, error) {
		return saml.LoadIDPMetadata(ctx, nil, h.idp.MetadataURL)
	}
	down := errors.New("metadata endpoint down")

	// Subtests run in order: each starts from the metadata the one before left.
	t.Run("unchanged", func(t *testing.T) {
		changed, err := h.sp.RefreshIDPMetadata(context.Background(), fromIdP)
		if err != nil || changed {
			t.Fatalf("refresh = %v, %v; want unchanged, no error", changed, err)
		}
		wantSignIn(t, h)
	})
	t.Run("failing loader keeps the metadata", func(t *testing.T) {
		changed, err := h.sp.RefreshIDPMetadata(context.Background(), func(context.Context) (*crewsaml.EntityDescriptor, error) {
			return nil, down
		})
		if !errors.Is(err, down) || changed {
			t.Fatalf("refresh = %v, %v; want unchanged and the loader's error", changed, err)
		}
		wantTrusted(t, h.sp, h.idp.Certificate)
		wantSignIn(t, h)
	})
	t.Run("refused metadata keeps the metadata", func(t *testing.T) {
		changed, err := h.sp.RefreshIDPMetadata(context.Background(), func(context.Context) (*crewsaml.EntityDescriptor, error) {
			md := loadMetadata(t, h.idp)
			md.EntityID = "https://attacker.example/idp"
			return md, nil
		})
		if err == nil || changed {
			t.Fatalf("refresh = %v, %v; want unchanged and an error", changed, err)
		}
		wantSignIn(t, h)
	})
	t.Run("rotated key", func(t *testing.T) {
		h.idp.RotateKey(false)
		changed, err := h.sp.RefreshIDPMetadata(context.Background(), fromIdP)
		if err != nil || !changed {
			t.Fatalf("refresh = %v, %v; want changed, no error", changed, err)
		}
		wantTrusted(t, h.sp, h.idp.Certificate)
		wantSignIn(t, h)
	})
	t.Run("moved SSO endpoint", func(t *testing.T) {
		changed, err := h.sp.RefreshIDPMetadata(context.Background(), func(ctx context.Context) (*crewsaml.EntityDescriptor, error) {
			md := loadMetadata(t, h.idp)
			d := &md.IDPSSODescriptors[0]
			d.SingleSignOnServices = append(d.SingleSignOnServices, crewsaml.Endpoint{Binding: crewsaml.HTTPArtifactBinding, Location: h.idp.SSOURL})
			return md, nil
		})
		if err != nil || !changed {
			t.Fatalf("refresh = %v, %v; want changed, no error", changed, err)
		}
	})
}

type refreshResult struct {
	changed bool
	err     error
}

func TestRunMetadataRefresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	down := errors.New("metadata endpoint down")
	var mu sync.Mutex
	calls := 0
	load := func(ctx context.Context) (*crewsaml.EntityDescriptor, error) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			return nil, down
		}
		return saml.LoadIDPMetadata(ctx, nil, h.idp.MetadataURL)
	}
	h.idp.RotateKey(false)
	results := make(chan refreshResult, 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.sp.RunMetadataRefresh(ctx, 10*time.Millisecond, load, func(changed bool, err error) {
			select {
			case results <- refreshResult{changed, err}:
			default: // the test has seen the three it checks
			}
		})
	}()
	next := func() refreshResult {
		t.Helper()
		select {
		case r := <-results:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no refresh reported")
			return refreshResult{}
		}
	}
	if r := next(); !errors.Is(r.err, down) || r.changed {
		t.Errorf("first refresh = %+v, want the loader's error", r)
	}
	if r := next(); r.err != nil || !r.changed {
		t.Errorf("second refresh = %+v, want changed", r)
	}
	if r := next(); r.err != nil || r.changed {
		t.Errorf("third refresh = %+v, want unchanged", r)
	}
	wantSignIn(t, h)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunMetadataRefresh did not return when its context ended")
	}
}

// TestSetIDPMetadataUnderConcurrentSignIns swaps the metadata back and forth while sign-ins run;
// both versions list the key the IdP signs with, so every sign-in must succeed. Run with -race.
func TestSetIDPMetadataUnderConcurrentSignIns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	before := loadMetadata(t, h.idp)
	oldCert, oldKey := h.idp.RotateKey(true)
	h.idp.SetSigningKey(oldCert, oldKey)
	rollover := loadMetadata(t, h.idp)

	ctx, cancel := context.WithCancel(context.Background())
	var swaps sync.WaitGroup
	swaps.Add(1)
	go func() {
		defer swaps.Done()
		for i := 0; ctx.Err() == nil; i++ {
			md := before
			if i%2 == 1 {
				md = rollover
			}
			if err := h.sp.SetIDPMetadata(md); err != nil {
				t.Errorf("swap %d: %v", i, err)
				return
			}
			_ = h.sp.IDPCertificates()
			_ = h.sp.IDPEntityID()
			_ = h.sp.Metadata()
			time.Sleep(time.Millisecond)
		}
	}()

	var signIns sync.WaitGroup
	for w := range 4 {
		signIns.Add(1)
		go func() {
			defer signIns.Done()
			for i := range 5 {
				next := fmt.Sprintf("/applicants/%d-%d", w, i)
				c := samltest.NewClient(alice.Username, alice.Password)
				page, err := c.Get(ctx, h.app.URL+saml.LoginPath+"?next="+url.QueryEscape(next))
				if err != nil {
					t.Errorf("sign-in %s: %v", next, err)
					return
				}
				if want := "app page " + next; string(page.Body) != want {
					t.Errorf("sign-in %s ended on %q, want %q", next, page.Body, want)
				}
			}
		}()
	}
	signIns.Wait()
	cancel()
	swaps.Wait()
}
