package saml

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Roles returns the staff roles a mapping rule may grant, in the order the design lists them.
func Roles() []string { return []string{"admin", "checker", "maker", "link_creator", "auditor"} }

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles(), role) }

// RoleRule grants Role to a user whose role attribute has the value Value (compared exactly).
type RoleRule struct {
	Value string
	Role  string
}

// RoleMapping is the attribute RoleFor reads (matched by Name or FriendlyName) and the rules it
// applies in order.
type RoleMapping struct {
	Attribute string
	Rules     []RoleRule
}

// ParseRoleMap parses "kyc-checkers=checker,kyc-admins=admin" into rules, keeping their order (the
// first rule that matches wins). Each entry is split at its last "=", so a value may contain "=".
// When the text contains ";" entries are separated by ";" instead of ",", so values such as LDAP
// DNs ("CN=KYC Admins,OU=Groups,DC=corp=admin;...") can contain commas. Unknown roles, empty
// values and a value mapped twice are errors. Empty text gives no rules.
func ParseRoleMap(s string) ([]RoleRule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	sep := ","
	if strings.Contains(s, ";") {
		sep = ";"
	}
	var rules []RoleRule
	seen := map[string]bool{}
	for entry := range strings.SplitSeq(s, sep) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		i := strings.LastIndex(entry, "=")
		if i < 0 {
			return nil, fmt.Errorf("entry %q: want value=role", entry)
		}
		value, role := strings.TrimSpace(entry[:i]), strings.TrimSpace(entry[i+1:])
		if value == "" {
			return nil, fmt.Errorf("entry %q: empty attribute value", entry)
		}
		if !ValidRole(role) {
			return nil, fmt.Errorf("entry %q: unknown role %q (want one of %s)", entry, role, strings.Join(Roles(), ", "))
		}
		if seen[value] {
			return nil, fmt.Errorf("entry %q: value %q is mapped twice", entry, value)
		}
		seen[value] = true
		rules = append(rules, RoleRule{Value: value, Role: role})
	}
	if len(rules) == 0 {
		return nil, errors.New("no entries")
	}
	return rules, nil
}

// RoleFor returns the role the first matching rule grants to id: a rule matches when the
// attribute named m.Attribute (by Name or FriendlyName) has the rule's value. ok is false when no
// rule matches, which means no access.
func RoleFor(id Identity, m RoleMapping) (role string, ok bool) {
	values := id.AttributeValues(m.Attribute)
	if len(values) == 0 {
		return "", false
	}
	for _, r := range m.Rules {
		if slices.Contains(values, r.Value) && ValidRole(r.Role) {
			return r.Role, true
		}
	}
	return "", false
}
