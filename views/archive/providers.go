package archive

import (
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
	"github.com/kycdesk/kycdesk/views/components"
)

// Statement is one provider's line in "At the providers": where its copy
// of the person's data stands.
type Statement struct {
	Provider string
	Text     string
	When     time.Time // the date the text refers to, if any
	OnlyOurs bool      // ours is the only copy held by a business
}

// Statements turns what the provider flows stored into one plain
// statement per provider the applicant is linked with.
func Statements(copies []db.ProviderCopy, now time.Time) []Statement {
	var out []Statement
	for _, c := range copies {
		s := Statement{Provider: c.Provider}
		name := components.ProviderTitle(c.Provider)
		switch {
		case c.Deleted && !c.DeletedAt.IsZero():
			s.Text, s.When = name+" deleted its copy (reported "+views.ExactTime(c.DeletedAt)+").", c.DeletedAt
		case c.Deleted:
			s.Text = name + " deleted its copy."
		case !c.DeletesAt.IsZero() && c.DeletesAt.After(now):
			s.Text, s.When = name+" deletes its copy on "+views.ExactTime(c.DeletesAt)+".", c.DeletesAt
		case !c.DeletesAt.IsZero():
			s.Text, s.When = name+" was due to delete its copy on "+views.ExactTime(c.DeletesAt)+".", c.DeletesAt
		default:
			s.Text, s.OnlyOurs = providerDefault(c.Provider)
		}
		if !c.Withdrawn.IsZero() {
			s.Text += " The person withdrew at " + name + " (" + c.WithdrawnEvent + ", " + views.ExactTime(c.Withdrawn) + ")."
		}
		out = append(out, s)
	}
	return out
}

// providerDefault is what each provider's documents say about its copy
// when it has told us nothing more.
func providerDefault(provider string) (string, bool) {
	switch provider {
	case "blockpass":
		return "Blockpass keeps its copy until the candidate is archived in KYC Connect: no archive-after-extract date was reported.", false
	case "idfy":
		return "IDfy deletes its copy under its purge policy (the period is agreed with IDfy, not published); no purge was reported yet.", false
	case "corepass":
		return "CorePass sends the data from the person's phone; the connector keeps none. Ours is the only copy outside the person's CorePass app.", true
	case "verifyyou":
		return "The data comes from the person's VerifyYou app. Ours is the only copy outside that app.", true
	case "selfkey":
		return "The data comes from the person's SelfKey wallet. Ours is the only copy outside that wallet.", true
	}
	return "Nothing is known about this provider's copy.", false
}
