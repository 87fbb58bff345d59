// Package samltest holds test helpers for SAML sign-in: a real identity provider (crewjam/saml's
// IdentityProvider) running in the test process with certificates made at run time and RSA-SHA256
// signatures, and a Go client that follows the IdP's login form and the auto-submitting SAML POST
// forms like a browser would. The app's end-to-end and browser tests reuse both.
//
// It does not import the service provider package, so that package's own tests can use it.
package samltest
