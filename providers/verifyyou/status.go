package verifyyou

import (
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// Provider statuses this adapter reports verbatim. The webhook events are
// the seed's event names (the path suffix and payload.event); the others
// describe what check_connection_status and register said.
const (
	// StatusRegistered: registered, the user has not connected yet.
	StatusRegistered = "registered"
	// StatusNotConnected: check_connection_status says has_connection false.
	StatusNotConnected = "not_connected"
	// StatusConnected: has_connection true but no data request response yet.
	StatusConnected = "connected"

	EventConnectionVerified = "connection_verified"
	EventConnectionDeleted  = "connection_deleted"
	EventDeverification     = "deverification"
)

// MapStatus normalises a VerifyYou status or webhook event, the seed's and
// the public v1 webhook types (case does not matter). ok is false for a
// name it does not know; the status is then needs_review, so that a person
// looks at it, and the caller keeps the provider's name verbatim.
func MapStatus(providerStatus string) (status providers.Status, ok bool) {
	switch strings.ToLower(strings.TrimSpace(providerStatus)) {
	case StatusRegistered, StatusNotConnected:
		return providers.StatusInvited, true
	case StatusConnected:
		return providers.StatusInProgress, true
	case EventConnectionVerified, "user_verification_completed":
		// "successful verification of a user" (seed).
		return providers.StatusApproved, true
	case EventConnectionDeleted, "user_verification_revoked", "user_deleted":
		// "user deleted their verification or account" (seed).
		return providers.StatusWithdrawn, true
	case EventDeverification, "user_verification_determined_unfulfillable":
		// VerifyYou withdrew the user's verification for fraud (seed,
		// "coming soon"). Blocked, not withdrawn: the provider, not the
		// user, ended it, for cause, and staff must not take it for a
		// routine withdrawal.
		return providers.StatusBlocked, true
	case "user_verification_denied":
		return providers.StatusRejected, true
	}
	return providers.StatusNeedsReview, false
}
