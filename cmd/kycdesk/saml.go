package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	crewsaml "github.com/crewjam/saml"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/saml"
)

// ssoSetup is the SAML service provider serve wires: SP is nil when SSO is
// not configured.
type ssoSetup struct {
	SP     *saml.SP
	Config saml.Config
}

// samlConfig reads the KYCDESK_SAML_* settings with baseURL as the base
// of our endpoints; serve calls it before anything else so a bad setting
// (an unknown role in KYCDESK_SAML_ROLE_MAP, say) stops the start at once.
func samlConfig(getenv func(string) string, baseURL string) (saml.Config, error) {
	return saml.LoadConfig(func(k string) string {
		if k == "KYCDESK_BASE_URL" {
			return baseURL
		}
		return getenv(k)
	})
}

// loadSAML reads the KYCDESK_SAML_* settings (an unknown role in
// KYCDESK_SAML_ROLE_MAP stops the start), seeds the role-mapping rules from
// KYCDESK_SAML_ROLE_MAP, and, when KYCDESK_SAML_IDP_METADATA is set, loads
// the IdP metadata and our key pair and builds the service provider on the
// database's stores. In sandbox mode without KYCDESK_SAML_SP_CERT/KEY it
// makes a throwaway self-signed pair; outside sandbox they are required.
// cfg.BaseURL (the listener's address when KYCDESK_BASE_URL is unset) is
// the base of our entity ID and endpoints.
func loadSAML(ctx context.Context, getenv func(string) string, cfg config, d *db.DB, logger *slog.Logger, now func() time.Time) (ssoSetup, error) {
	sc, err := samlConfig(getenv, cfg.BaseURL)
	if err != nil {
		return ssoSetup{}, err
	}
	if sc.RoleMap != "" {
		rules := make([]db.RoleRuleInput, 0, len(sc.RoleRules))
		for _, r := range sc.RoleRules {
			rules = append(rules, db.RoleRuleInput{Value: r.Value, Role: r.Role})
		}
		changed, err := d.SeedRoleRules(ctx, sc.RoleMap, rules, db.AuditEntry{Actor: "system"})
		if err != nil {
			return ssoSetup{}, fmt.Errorf("saml: seed role rules from KYCDESK_SAML_ROLE_MAP: %w", err)
		}
		if changed {
			logger.Info("saml: role-mapping rules set from KYCDESK_SAML_ROLE_MAP", "rules", len(rules))
		}
	}
	if !sc.Enabled() {
		return ssoSetup{Config: sc}, nil
	}

	var certs saml.Certs
	switch {
	case sc.SPCertFile != "":
		if certs, err = saml.LoadCerts(ctx, sc, nil); err != nil {
			return ssoSetup{}, err
		}
	case !cfg.Sandbox:
		return ssoSetup{}, errors.New("saml: outside sandbox mode KYCDESK_SAML_SP_CERT and KYCDESK_SAML_SP_KEY must name the SP's " +
			"certificate and RSA key (PEM files) when KYCDESK_SAML_IDP_METADATA is set")
	default:
		cert, key, err := saml.SelfSignedKeyPair("KYC Desk sandbox SP", now())
		if err != nil {
			return ssoSetup{}, err
		}
		md, err := saml.LoadIDPMetadata(ctx, nil, sc.IDPMetadata)
		if err != nil {
			return ssoSetup{}, err
		}
		certs = saml.Certs{SPCert: cert, SPKey: key, IDPMetadata: md}
		logger.Warn("sandbox mode: the SAML SP signs with a throwaway key pair made at start; set KYCDESK_SAML_SP_CERT and KYCDESK_SAML_SP_KEY for real use (the IdP must re-read our metadata after each restart)")
	}
	sp, err := saml.New(sc, certs, saml.Stores{Requests: d.SAMLRequests(), Assertions: d.SAMLAssertions(now)}, now)
	if err != nil {
		return ssoSetup{}, err
	}
	rules, err := d.RoleRules(ctx)
	if err != nil {
		return ssoSetup{}, err
	}
	if len(rules) == 0 {
		logger.Warn("saml: no role-mapping rules: nobody can sign in with SSO until an admin adds one at /admin/sso or KYCDESK_SAML_ROLE_MAP is set")
	}
	logger.Info("saml: SSO on", "entity_id", sp.EntityID(), "idp", sp.IDPEntityID())
	return ssoSetup{SP: sp, Config: sc}, nil
}

// samlMetadataJob is the job_state name the IdP metadata refresh records
// its runs under, so /admin/providers shows when it last ran and why it
// last failed.
const samlMetadataJob = "saml/metadata"

// refreshSAMLMetadata re-reads the IdP metadata from
// KYCDESK_SAML_IDP_METADATA every KYCDESK_SAML_METADATA_REFRESH until ctx
// ends, so a certificate the IdP rotates is trusted without a restart. The
// source is always a URL or a file (the only ones LoadIDPMetadata takes,
// sandbox included), so there is always something to re-read. The load at
// start is recorded as the job's first run; each refresh then records its
// outcome and logs it: a change at Info with the certificates now trusted
// (fingerprints only), a failure at Warn (the metadata in use stays).
// Neither the metadata nor the source's content is ever logged.
func refreshSAMLMetadata(ctx context.Context, sso ssoSetup, d *db.DB, logger *slog.Logger) {
	record := func(err error) {
		if err := d.SetJobState(ctx, samlMetadataJob, "", err); err != nil && ctx.Err() == nil {
			logger.Error("saml: record the IdP metadata refresh", "err", err)
		}
	}
	record(nil)
	load := func(ctx context.Context) (*crewsaml.EntityDescriptor, error) {
		return saml.LoadIDPMetadata(ctx, nil, sso.Config.IDPMetadata)
	}
	sso.SP.RunMetadataRefresh(ctx, sso.Config.MetadataRefresh, load, func(changed bool, err error) {
		switch {
		case err != nil:
			logger.Warn("saml: IdP metadata refresh failed; keeping the metadata in use", "err", err)
		case changed:
			logger.Info("saml: IdP metadata changed; trusting its current signing certificates",
				"idp", sso.SP.IDPEntityID(), "certificates", certFingerprints(sso.SP.IDPCertificates()))
		}
		record(err)
	})
}

// certFingerprints are the SHA-256 fingerprints of certs (hex), what an
// operator compares with the IdP's console after a rotation.
func certFingerprints(certs []*x509.Certificate) []string {
	out := make([]string, 0, len(certs))
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		out = append(out, hex.EncodeToString(sum[:]))
	}
	return out
}
