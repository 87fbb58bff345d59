// Package archive renders archiving and retention: the applicant page's
// panel (the deletion receipt once archived, otherwise when the data will
// go, the legal hold, "archive now", and what each provider keeps), the
// list's retention badge and bulk archive form, and the admin retention
// policy page.
package archive

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
	"github.com/kycdesk/kycdesk/views/components"
)

// Badge is an applicant's retention state in a few words, with details on
// hover. Kind picks the colour: archived, hold, due, scheduled, kept.
type Badge struct {
	Kind  string
	Text  string
	Title string
}

// BadgeFor says where an applicant stands with the retention policy at now.
func BadgeFor(p db.RetentionPlan, now time.Time) Badge {
	switch {
	case p.Archived:
		return Badge{Kind: "archived", Text: "archived", Title: "Personal data deleted; the record is kept."}
	case p.Held:
		return Badge{Kind: "hold", Text: "legal hold", Title: "Not archived while the legal hold lasts."}
	case p.DueAt.IsZero():
		title := "No retention rule applies: the personal data is kept."
		if p.Kept != "" {
			title = "Kept: " + p.Kept + "."
		}
		return Badge{Kind: "kept", Text: "kept", Title: title}
	case !p.DueAt.After(now):
		return Badge{Kind: "due", Text: "archiving due", Title: "Due since " + views.ExactTime(p.DueAt) + " (" + RuleTitle(p.Rule) + "); the retention job archives it at its next run."}
	}
	days := int(math.Ceil(p.DueAt.Sub(now).Hours() / 24))
	return Badge{Kind: "scheduled", Text: fmt.Sprintf("archives in %d d", days),
		Title: "Archived on " + views.ExactTime(p.DueAt) + " (" + RuleTitle(p.Rule) + ")."}
}

// retentionBadgeClass is the whole class string of a retention badge (one
// per list row: a plain string costs less than a templ class list).
func retentionBadgeClass(kind string) string {
	return "badge whitespace-nowrap " + badgeClass(kind)
}

func badgeClass(kind string) string {
	switch kind {
	case "archived":
		return "bg-slate-200 text-slate-700 ring-slate-400"
	case "hold":
		return "bg-slate-800 text-white ring-slate-800"
	case "due":
		return "bg-red-50 text-red-800 ring-red-300"
	case "scheduled":
		return "bg-sky-50 text-sky-900 ring-sky-300"
	}
	return "bg-white text-slate-600 ring-slate-300"
}

// RuleTitle says a receipt's or plan's rule in words.
func RuleTitle(rule string) string {
	switch {
	case rule == "":
		return "no rule"
	case rule == db.RuleManual:
		return "archived by staff"
	case rule == "restore":
		return "restored without its data key"
	case strings.HasPrefix(rule, "retention:"):
		parts := strings.Split(strings.TrimPrefix(rule, "retention:"), "/")
		if len(parts) == 3 {
			return fmt.Sprintf("retention: %s, %s, %s after the last event", providerWord(parts[0]), OutcomeTitle(parts[1]), daysWord(parts[2]))
		}
	case strings.HasPrefix(rule, "withdrawal:"):
		parts := strings.Split(strings.TrimPrefix(rule, "withdrawal:"), "/")
		if len(parts) == 2 {
			p := strings.TrimSuffix(parts[0], "(any)")
			return fmt.Sprintf("withdrawn at %s, %s after the withdrawal", components.ProviderTitle(p), daysWord(parts[1]))
		}
	}
	return rule
}

func providerWord(p string) string {
	if p == db.RetentionAny {
		return "any provider"
	}
	return components.ProviderTitle(p)
}

func daysWord(d string) string {
	d = strings.TrimSuffix(d, "d")
	if d == "1" {
		return "1 day"
	}
	return d + " days"
}

// OutcomeTitle names a retention outcome.
func OutcomeTitle(o string) string {
	switch o {
	case db.OutcomeApproved:
		return "approved"
	case db.OutcomeRejected:
		return "rejected"
	case db.OutcomeWithdrawn:
		return "withdrawn"
	case db.OutcomeAbandoned:
		return "abandoned"
	case db.OutcomeProviderWithdrawal:
		return "withdrawn at the provider"
	}
	return o
}

// outcomeHint explains an outcome column on the policy page.
func outcomeHint(o string) string {
	switch o {
	case db.OutcomeApproved:
		return "days after the last event"
	case db.OutcomeRejected:
		return "rejected, blocked or failed"
	case db.OutcomeWithdrawn:
		return "status withdrawn"
	case db.OutcomeAbandoned:
		return "no outcome and no event for N days"
	case db.OutcomeProviderWithdrawal:
		return "days after connection_deleted / user.deleted"
	}
	return ""
}

// deletedList says what a receipt deleted, kind by kind, skipping zeros.
func deletedList(d db.Deleted) []string {
	var out []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			out = append(out, "1 "+one)
		case n > 1:
			out = append(out, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(d.Attributes, "attribute", "attributes")
	add(d.Peppers, "CorePass pepper", "CorePass peppers")
	if d.Documents > 0 {
		docs := "1 document"
		if d.Documents > 1 {
			docs = fmt.Sprintf("%d documents", d.Documents)
		}
		out = append(out, fmt.Sprintf("%s (%s)", docs, byteSize(d.DocumentBytes)))
	}
	if d.Name > 0 {
		out = append(out, "the name")
	}
	if d.Email > 0 {
		out = append(out, "the email")
	}
	if d.DataKeys > 0 {
		out = append(out, "the data key (destroyed)")
	}
	if d.SearchRows > 0 {
		out = append(out, "the search entry")
	}
	add(d.ProviderIDs, "provider identifier (Core ID, DID)", "provider identifiers (Core ID, DID)")
	add(d.Links, "verification link or QR", "verification links or QRs")
	add(d.InboxBodies, "stored callback body", "stored callback bodies")
	add(d.Notes, "note", "notes")
	if len(out) == 0 {
		out = append(out, "nothing personal was held")
	}
	return out
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// RowExtras is what the archive feature adds to an applicants list row.
type RowExtras struct {
	Select    bool  // show the bulk-archive checkbox
	Retention Badge // the retention badge
}
