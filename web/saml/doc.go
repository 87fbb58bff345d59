// Package saml is KYC Desk's SAML 2.0 service provider: it starts SP-initiated sign-in, serves the SP
// metadata and verifies what the identity provider posts to the assertion consumer service.
//
// It wraps github.com/crewjam/saml and closes what that library leaves open: assertion IDs are kept
// until they expire so a replay is refused, an audience restriction naming us is required,
// outstanding AuthnRequest IDs live in a server-side store (the IdP's cross-site POST carries no
// SameSite=Lax cookie) and are taken once, the response must come back to the browser that started
// the sign-in, RelayState is only ever a same-origin relative path, IdP-initiated sign-in is off
// unless configured, and requests are signed with RSA-SHA256.
//
// # Browser binding (login CSRF)
//
// A valid response proves who signed in at the IdP, not whose browser posts it: anyone could start
// a sign-in in their own browser and make a victim's browser post the response, signing the victim
// in as them. So StartLogin makes a random 256-bit secret per AuthnRequest, stores only its SHA-256
// with the request, and hands the secret to the browser in the cookie BindingCookieName (HttpOnly,
// Path the ACS path, Max-Age the request's 10-minute lifetime). HandleACS takes the request the
// response names (single use, as before) and, once the signature has been verified, requires that
// cookie to hash to the stored value (compared in constant time); a missing or different cookie is
// ErrUnbound, and the request stays used, so the same response cannot be tried again with another
// cookie. Requests stored before the binding existed have an empty hash and are refused the same
// way. The app deletes the cookie on every ACS answer, accepted or refused.
//
// The response reaches the ACS as a cross-site POST from the IdP, which SameSite=Lax cookies do not
// accompany; over https the cookie is therefore SameSite=None; Secure. Browsers refuse
// SameSite=None without Secure, so over plain http (local development and the sandbox only) the
// cookie is SameSite=Lax, and SSO over http then works only with an IdP on the same site as the app
// (the in-process test IdP on 127.0.0.1, say). One browser holds one binding at a time: if the user
// starts a second sign-in in another tab, the first tab's response is refused.
//
// IdP-initiated responses (off unless configured) answer no request of ours, so there is nothing to
// bind them to and the binding is not checked for them: turning them on accepts login CSRF for
// them, which is one more reason they are off by default.
//
// # Wiring
//
// As the web package does it:
//
//	cfg, err := saml.LoadConfig(getenv)            // KYCDESK_SAML_*, KYCDESK_LOCAL_LOGIN, KYCDESK_BASE_URL
//	certs, err := saml.LoadCerts(ctx, cfg, nil)    // SP key pair + IdP metadata (URL or file)
//	sp, err := saml.New(cfg, certs, saml.Stores{Requests: reqs, Assertions: seen}, time.Now)
//	go sp.RunMetadataRefresh(ctx, cfg.MetadataRefresh, func(ctx context.Context) (*crewsaml.EntityDescriptor, error) {
//		return saml.LoadIDPMetadata(ctx, nil, cfg.IDPMetadata) // picks up a rotated IdP certificate
//	}, onResult)                                        // unless cfg.MetadataRefresh is 0 (off)
//
//	GET  /saml/metadata  -> sp.Metadata(), Content-Type application/samlmetadata+xml
//	GET  /saml/login     -> login, err := sp.StartLogin(ctx, next); set login.BindingCookie and
//	                        redirect (302/303) to login.RedirectURL
//	POST /saml/acs       -> id, next, err := sp.HandleACS(ctx, r); exempt from CSRF, do not parse
//	                        the form first. Whatever the outcome, set sp.ClearBindingCookie().
//	                        On err: audit entry + page with saml.UserMessage(err)
//	                        (403). Else saml.RoleFor(id, mapping): no role means no access; else
//	                        provision by (id.Issuer, id.NameID), new session, 303 to next.
//
// The package holds no database code: the app backs RequestStore and AssertionStore with its own
// store; the in-memory versions here are for tests and single-process development.
package saml
