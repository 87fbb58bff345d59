package blockpass

import "github.com/kycdesk/kycdesk/providers"

// MapStatus normalises a Blockpass status. review_requested maps to
// rejected: the operator sent the profile back and the user may resubmit,
// like rejected. An unknown status maps to needs_review so that a person
// looks at it; the caller keeps the verbatim status beside it either way.
func MapStatus(status string) providers.Status {
	switch status {
	case StatusIncomplete:
		return providers.StatusInvited
	case StatusWaiting:
		return providers.StatusInProgress
	case StatusInReview:
		return providers.StatusNeedsReview
	case StatusApproved:
		return providers.StatusApproved
	case StatusRejected, StatusReviewRequested:
		return providers.StatusRejected
	case StatusBlocked:
		return providers.StatusBlocked
	}
	return providers.StatusNeedsReview
}

// KnownStatus reports whether status is one of the seven documented
// Blockpass statuses.
func KnownStatus(status string) bool {
	switch status {
	case StatusIncomplete, StatusWaiting, StatusInReview, StatusApproved, StatusRejected, StatusBlocked, StatusReviewRequested:
		return true
	}
	return false
}
