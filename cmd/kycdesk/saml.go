package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
