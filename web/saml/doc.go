// Package saml is KYC Desk's SAML 2.0 service provider: it starts SP-initiated sign-in, serves the SP
// metadata and verifies what the identity provider posts to the assertion consumer service.
//
// It wraps github.com/crewjam/saml and closes what that library leaves open: assertion IDs are kept
// until they expire so a replay is refused, an audience restriction naming us is required,
// outstanding AuthnRequest IDs live in a server-side store (the IdP's cross-site POST carries no
// SameSite=Lax cookie) and are taken once, RelayState is only ever a same-origin relative path,
// IdP-initiated sign-in is off unless configured, and requests are signed with RSA-SHA256.
//
// Wiring, as the web package does it:
//
//	cfg, err := saml.LoadConfig(getenv)            // KYCDESK_SAML_*, KYCDESK_LOCAL_LOGIN, KYCDESK_BASE_URL
//	certs, err := saml.LoadCerts(ctx, cfg, nil)    // SP key pair + IdP metadata (URL or file)
//	sp, err := saml.New(cfg, certs, saml.Stores{Requests: reqs, Assertions: seen}, time.Now)
//
//	GET  /saml/metadata  -> sp.Metadata(), Content-Type application/samlmetadata+xml
//	GET  /saml/login     -> redirect (302/303) to sp.StartLogin(ctx, next)
//	POST /saml/acs       -> id, next, err := sp.HandleACS(ctx, r); exempt from CSRF, do not parse
//	                        the form first. On err: audit entry + page with saml.UserMessage(err)
//	                        (403). Else saml.RoleFor(id, mapping): no role means no access; else
//	                        provision by (id.Issuer, id.NameID), new session, 303 to next.
//
// The package holds no database code: the app backs RequestStore and AssertionStore with its own
// store; the in-memory versions here are for tests and single-process development.
package saml
