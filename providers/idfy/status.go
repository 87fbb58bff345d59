package idfy

import (
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// IDfy status and reviewer_action values KYC Desk acts on. Only
// capture_pending, in_progress and completed, with reviewer_action approved,
// rejected or null, are publicly evidenced; the others are read when they
// appear but are unconfirmed (providers.md §5.5).
const (
	StatusCapturePending   = "capture_pending"
	StatusRecapturePending = "recapture_pending"
	StatusInProgress       = "in_progress"
	StatusCompleted        = "completed"
	StatusReviewRequired   = "review_required"
	StatusRejected         = "rejected"
	StatusCaptureExpired   = "capture_expired"
	StatusPurged           = "purged"

	ReviewerApproved = "approved"
	ReviewerRejected = "rejected"
)

// Decide derives the normalised status from a profile's status and
// reviewer_action (both verbatim, compared case-insensitively):
//
//	capture_pending, recapture_pending  -> invited
//	in_progress                         -> in_progress
//	completed + null reviewer_action    -> needs_review (the checker has not decided)
//	completed + approved                -> approved
//	completed + rejected, or rejected   -> rejected
//	review_required                     -> needs_review
//	capture_expired, expired            -> expired
//	purged                              -> withdrawn, unless a reviewer already
//	                                       decided (the decision stands)
//	anything else                       -> in_progress
//
// An unknown status maps to in_progress, not terminal, so the verification
// keeps being followed; the verbatim value is stored beside it.
func Decide(status, reviewerAction string) providers.Status {
	s := strings.ToLower(strings.TrimSpace(status))
	ra := strings.ToLower(strings.TrimSpace(reviewerAction))
	if ra == "null" {
		ra = ""
	}
	switch s {
	case StatusCapturePending, StatusRecapturePending:
		return providers.StatusInvited
	case StatusInProgress:
		return providers.StatusInProgress
	case StatusCompleted:
		switch ra {
		case ReviewerApproved:
			return providers.StatusApproved
		case ReviewerRejected:
			return providers.StatusRejected
		}
		return providers.StatusNeedsReview
	case StatusReviewRequired:
		return providers.StatusNeedsReview
	case StatusRejected:
		return providers.StatusRejected
	case StatusCaptureExpired, "expired":
		return providers.StatusExpired
	case StatusPurged:
		switch ra {
		case ReviewerApproved:
			return providers.StatusApproved
		case ReviewerRejected:
			return providers.StatusRejected
		}
		return providers.StatusWithdrawn
	}
	return providers.StatusInProgress
}

// ProviderStatus is the verbatim status KYC Desk records for a profile:
// status, followed by "/" and reviewer_action when IDfy set one
// ("completed/approved"), so the timeline shows both halves of the decision.
func ProviderStatus(status, reviewerAction string) string {
	if ra := strings.TrimSpace(reviewerAction); ra != "" && !strings.EqualFold(ra, "null") {
		return status + "/" + reviewerAction
	}
	return status
}
