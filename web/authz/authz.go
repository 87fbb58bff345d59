// Package authz holds the staff roles and what each may do: the capability
// matrix of design.md §5. Deny by default: a role has only the capabilities
// listed here.
package authz

// Role is a staff role.
type Role string

// The five staff roles.
const (
	Admin       Role = "admin"
	Checker     Role = "checker"
	Maker       Role = "maker"
	LinkCreator Role = "link_creator"
	Auditor     Role = "auditor"
)

// Roles lists every role, most powerful first.
var Roles = []Role{Admin, Checker, Maker, LinkCreator, Auditor}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// Title is the role's display name.
func (r Role) Title() string {
	switch r {
	case Admin:
		return "Admin"
	case Checker:
		return "Checker"
	case Maker:
		return "Maker"
	case LinkCreator:
		return "Link creator"
	case Auditor:
		return "External auditor"
	}
	return string(r)
}

// Cap is one capability a route or action requires.
type Cap string

// Capabilities.
const (
	ListApplicants    Cap = "applicants.list" // browse and search (link creators: their own)
	ViewPII           Cap = "applicants.pii"  // see decrypted personal data (audited)
	EditApplicants    Cap = "applicants.edit" // create applicants, add notes
	StartVerification Cap = "verifications.start"
	ProposeDecision   Cap = "reviews.propose"
	Decide            Cap = "reviews.decide"
	Archive           Cap = "applicants.archive"
	Export            Cap = "applicants.export"
	ManageSystem      Cap = "admin" // users, roles, providers, retention, templates, inbox
	ViewAudit         Cap = "audit.view"
)

var matrix = map[Role]map[Cap]bool{
	Admin:       set(ListApplicants, ViewPII, EditApplicants, StartVerification, Archive, Export, ManageSystem, ViewAudit),
	Checker:     set(ListApplicants, ViewPII, EditApplicants, StartVerification, Decide, Archive, Export),
	Maker:       set(ListApplicants, ViewPII, EditApplicants, ProposeDecision),
	LinkCreator: set(ListApplicants, ViewPII, EditApplicants, StartVerification),
	Auditor:     set(ListApplicants, ViewPII, ViewAudit),
}

func set(caps ...Cap) map[Cap]bool {
	m := make(map[Cap]bool, len(caps))
	for _, c := range caps {
		m[c] = true
	}
	return m
}

// Can reports whether role r has capability c.
func Can(r Role, c Cap) bool { return matrix[r][c] }

// OwnOnly reports whether the role sees only the applicants and
// verifications it created (the IDfy document's link creator).
func OwnOnly(r Role) bool { return r == LinkCreator }
