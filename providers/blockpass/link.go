package blockpass

import (
	"net/url"
	"strings"
)

// DefaultConnectPattern is the KYC Connect page an end user opens to share
// their Blockpass identity with the service, with our refId attached so the
// record comes back under it. providers.md does not record this URL: it is
// the verify-with.blockpass.org form that integrator code uses
// (?clientId=…&refId=…). Keep it here, the one place to correct it.
const DefaultConnectPattern = "https://verify-with.blockpass.org/?clientId={clientId}&refId={refId}"

// ConnectLink is the link (and QR payload) for the end user whose merchant
// reference is refID: DefaultConnectPattern, or c.ConnectPattern when set
// (sandbox), with {clientId} and {refId} filled in and escaped so that they
// are safe in a path or in a query.
func (c Config) ConnectLink(refID string) string {
	pattern := c.ConnectPattern
	if pattern == "" {
		pattern = DefaultConnectPattern
	}
	return strings.NewReplacer("{clientId}", escape(c.ClientID), "{refId}", escape(refID)).Replace(pattern)
}

// escape is query escaping with spaces as %20, which reads the same in a
// path segment and in a query value.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
