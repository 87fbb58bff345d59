package saml

import (
	"maps"
	"slices"
	"strings"
	"time"

	crewsaml "github.com/crewjam/saml"
)

// Identity is who the IdP says signed in. It holds PII: never log it.
type Identity struct {
	// Issuer is the IdP's entity ID; NameID is unique only together with it.
	Issuer       string
	NameID       string
	NameIDFormat string
	// Email is the first plausible address among the usual email attributes, or the NameID when
	// its format is emailAddress; empty if there is none.
	Email string
	// Attributes holds every attribute value by attribute Name.
	Attributes map[string][]string
	// FriendlyNames maps an attribute Name to its FriendlyName, where the IdP sent one.
	FriendlyNames map[string]string
	// SessionNotOnOrAfter is the earliest SessionNotOnOrAfter of the AuthnStatements (zero if the
	// IdP set none): the app should not keep the session past it.
	SessionNotOnOrAfter time.Time
}

// AttributeValues returns the values of the attributes whose Name or FriendlyName is name.
func (id Identity) AttributeValues(name string) []string {
	var values []string
	values = append(values, id.Attributes[name]...)
	for _, n := range slices.Sorted(maps.Keys(id.FriendlyNames)) {
		if id.FriendlyNames[n] == name && n != name {
			values = append(values, id.Attributes[n]...)
		}
	}
	return values
}

func identityFrom(a *crewsaml.Assertion) Identity {
	id := Identity{
		Issuer:        a.Issuer.Value,
		NameID:        a.Subject.NameID.Value,
		NameIDFormat:  a.Subject.NameID.Format,
		Attributes:    map[string][]string{},
		FriendlyNames: map[string]string{},
	}
	for _, st := range a.AttributeStatements {
		for _, attr := range st.Attributes {
			if attr.Name == "" {
				continue
			}
			for _, v := range attr.Values {
				id.Attributes[attr.Name] = append(id.Attributes[attr.Name], v.Value)
			}
			if attr.FriendlyName != "" {
				id.FriendlyNames[attr.Name] = attr.FriendlyName
			}
		}
	}
	for _, st := range a.AuthnStatements {
		if t := st.SessionNotOnOrAfter; t != nil && (id.SessionNotOnOrAfter.IsZero() || t.Before(id.SessionNotOnOrAfter)) {
			id.SessionNotOnOrAfter = *t
		}
	}
	id.Email = findEmail(id)
	return id
}

// findEmail looks through the attribute names (Name or FriendlyName, compared without case) that
// carry an email address at ADFS, Entra ID, Okta, Shibboleth and crewjam's IdP, in that order.
func findEmail(id Identity) string {
	emailAttributes := [...]string{
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		"urn:oid:0.9.2342.19200300.100.1.3",
		"mail",
		"email",
		"emailaddress",
	}
	names := slices.Sorted(maps.Keys(id.Attributes))
	for _, want := range emailAttributes {
		for _, name := range names {
			values := id.Attributes[name]
			if !strings.EqualFold(name, want) && !strings.EqualFold(id.FriendlyNames[name], want) {
				continue
			}
			for _, v := range values {
				if plausibleEmail(v) {
					return strings.TrimSpace(v)
				}
			}
		}
	}
	if id.NameIDFormat == string(crewsaml.EmailAddressNameIDFormat) && plausibleEmail(id.NameID) {
		return strings.TrimSpace(id.NameID)
	}
	return ""
}

func plausibleEmail(v string) bool {
	v = strings.TrimSpace(v)
	at := strings.LastIndex(v, "@")
	return at > 0 && at < len(v)-1 && !strings.ContainsAny(v, " \t\r\n<>")
}
