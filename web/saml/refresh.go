package saml

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	crewsaml "github.com/crewjam/saml"
)

// IdPs rotate their signing certificate on a schedule (ADFS, Entra and Okta publish the new one in
// their metadata before they sign with it). Metadata read only at start would make every sign-in
// fail from the switch until a restart, so the SP re-reads it while running and swaps it in whole.

// MetadataLoader reads the IdP metadata afresh, e.g. LoadIDPMetadata on the configured source.
type MetadataLoader func(ctx context.Context) (*crewsaml.EntityDescriptor, error)

// SetIDPMetadata makes md the IdP metadata from the next request on, if it passes the checks New
// applies and names the same IdP (entity ID) as the current metadata: a refresh must never switch
// to another IdP. On error the current metadata stays. md must not be changed afterwards.
func (s *SP) SetIDPMetadata(md *crewsaml.EntityDescriptor) error {
	_, err := s.swapIDPMetadata(md)
	return err
}

// swapIDPMetadata is SetIDPMetadata, returning the metadata it replaced.
func (s *SP) swapIDPMetadata(md *crewsaml.EntityDescriptor) (*crewsaml.EntityDescriptor, error) {
	if md == nil {
		return nil, errors.New("saml: set IdP metadata: no metadata")
	}
	for {
		cur := s.inner.Load()
		if md.EntityID != cur.IDPMetadata.EntityID {
			return nil, fmt.Errorf("saml: set IdP metadata: entity ID %q is not the configured IdP %q (change KYCDESK_SAML_IDP_METADATA and restart to switch IdPs)",
				truncate(md.EntityID), cur.IDPMetadata.EntityID)
		}
		// A shallow copy is enough: every other field is set once by New and never written again.
		next := *cur
		next.IDPMetadata = md
		if err := checkProvider(&next); err != nil {
			return nil, fmt.Errorf("saml: set IdP metadata: %w", err)
		}
		// Another swap in between (two refreshers) would be lost by a plain Store; try again on it.
		if s.inner.CompareAndSwap(cur, &next) {
			return cur.IDPMetadata, nil
		}
	}
}

// RefreshIDPMetadata loads the IdP metadata with load and swaps it in (SetIDPMetadata). changed
// reports whether the IdP's signing certificates or SSO endpoints differ from before. If load fails
// or the metadata is refused, the current metadata stays and the error says why.
func (s *SP) RefreshIDPMetadata(ctx context.Context, load MetadataLoader) (changed bool, err error) {
	md, err := load(ctx)
	if err != nil {
		return false, fmt.Errorf("saml: refresh IdP metadata: %w", err)
	}
	prev, err := s.swapIDPMetadata(md)
	if err != nil {
		return false, err
	}
	return idpFingerprint(prev) != idpFingerprint(md), nil
}

// RunMetadataRefresh calls RefreshIDPMetadata every interval until ctx ends, passing each outcome
// to onResult. The first refresh is one interval after the call: the SP was just built from
// freshly loaded metadata. A refresh cut short by ctx ending is not reported.
func (s *SP) RunMetadataRefresh(ctx context.Context, interval time.Duration, load MetadataLoader, onResult func(changed bool, err error)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		changed, err := s.RefreshIDPMetadata(ctx, load)
		if ctx.Err() != nil {
			return
		}
		onResult(changed, err)
	}
}

// idpFingerprint sums up what a refresh can change that matters to sign-in: the signing
// certificates (as sorted, whitespace-free base64) and the SSO endpoints (sorted binding and
// location pairs).
func idpFingerprint(md *crewsaml.EntityDescriptor) string {
	var certs, sso []string
	for _, d := range md.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				certs = append(certs, strings.Join(strings.Fields(c.Data), ""))
			}
		}
		for _, e := range d.SingleSignOnServices {
			sso = append(sso, e.Binding+" "+e.Location)
		}
	}
	slices.Sort(certs)
	slices.Sort(sso)
	return strings.Join(slices.Compact(certs), "\n") + "\n\n" + strings.Join(slices.Compact(sso), "\n")
}
