// Package applicants renders the applicants list and the applicant page.
package applicants

import (
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

var meaningLabels = map[string]string{
	"full_name":        "Full name",
	"given_name":       "Given name",
	"family_name":      "Family name",
	"date_of_birth":    "Date of birth",
	"document_number":  "Document number",
	"document_country": "Document country",
	"email":            "Email",
	"phone":            "Phone",
	"address":          "Address",
	"nationality":      "Nationality",
}

func meaningLabel(m string) string {
	if l, ok := meaningLabels[m]; ok {
		return l
	}
	if m == "" {
		return "—"
	}
	return strings.ToUpper(m[:1]) + strings.ReplaceAll(m[1:], "_", " ")
}

func isTerminal(status string) bool { return providers.Status(status).Terminal() }
