// Package applicants renders the applicants list and the applicant page.
package applicants

import (
	"github.com/kycdesk/kycdesk/providers"
)

func isTerminal(status string) bool { return providers.Status(status).Terminal() }
