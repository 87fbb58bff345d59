// Package components holds small view pieces shared by every feature.
package components

import (
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// statusClasses gives each normalised status its one colour.
var statusClasses = map[string]string{
	"invited":      "bg-slate-100 text-slate-800 ring-slate-300",
	"in_progress":  "bg-blue-50 text-blue-800 ring-blue-300",
	"needs_review": "bg-amber-50 text-amber-900 ring-amber-400",
	"approved":     "bg-green-50 text-green-800 ring-green-400",
	"rejected":     "bg-red-50 text-red-800 ring-red-400",
	"blocked":      "bg-rose-100 text-rose-900 ring-rose-500",
	"expired":      "bg-zinc-100 text-zinc-700 ring-zinc-300",
	"failed":       "bg-orange-50 text-orange-900 ring-orange-400",
	"withdrawn":    "bg-purple-50 text-purple-800 ring-purple-300",
}

// badgeBase is the shape every status badge shares (tailwind/input.css).
const badgeBase = "badge "

// badgeClass is the whole class string of a status badge, as one constant
// string per status (the list renders 50 of them per page).
func badgeClass(s string) string {
	if c, ok := badgeClasses[s]; ok {
		return c
	}
	return badgeBase + "bg-white text-slate-700 ring-slate-300"
}

var badgeClasses = func() map[string]string {
	m := make(map[string]string, len(statusClasses))
	for s, c := range statusClasses {
		m[s] = badgeBase + c
	}
	return m
}()

// StatusLabel is a normalised status in words.
func StatusLabel(s string) string { return Words(s) }

// MeaningLabel is an attribute meaning in words ("date_of_birth" is "Date
// of birth").
func MeaningLabel(m string) string { return Words(m) }

// Words turns a snake_case code into words with a capital first letter;
// "" is shown as a dash.
func Words(s string) string {
	if s == "" {
		return "—"
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}

// ProviderTitle is a provider's display name.
func ProviderTitle(p string) string { return providers.Name(p).Title() }
