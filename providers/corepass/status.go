package corepass

import (
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// The connector's transfer statuses, in their order of appearance (CorePass
// document, "Statuses and their meanings").
const (
	StatusPending           = "PENDING"
	StatusAccepted          = "ACCEPTED"
	StatusInitiateSubmitted = "INITIATE_SUBMITTED"
	StatusInitiated         = "INITIATED"
	StatusInitiatedFailed   = "INITIATED_FAILED"
	StatusKYCReceived       = "KYC_RECEIVED"
	StatusValidityCheck     = "VALIDITY_CHECK"
	StatusValiditySucceed   = "VALIDITY_SUCCEED"
	StatusValidityFailed    = "VALIDITY_FAILED"
	StatusConfirmSubmitted  = "CONFIRM_SUBMITTED"
	StatusConfirmed         = "CONFIRMED"
	StatusConfirmFailed     = "CONFIRM_FAILED"
	StatusCallbackSucceed   = "CALLBACK_SUCCEED"
	StatusCallbackFailed    = "CALLBACK_FAILED"
	StatusFinishSuccess     = "FINISH_SUCCESS"
	StatusFinishFailed      = "FINISH_FAILED"

	// StatusConfirmedFailed is how one sentence of the CorePass document
	// spells CONFIRM_FAILED in the error callback; both are accepted.
	StatusConfirmedFailed = "CONFIRMED_FAILED"
	// StatusDataReceived is KYC Desk's own label for a successful data
	// callback, which carries no status of its own. The connector never
	// sends it.
	StatusDataReceived = "DATA_RECEIVED"
)

// AllStatuses lists the 16 documented statuses in order of appearance.
func AllStatuses() []string {
	return []string{StatusPending, StatusAccepted, StatusInitiateSubmitted, StatusInitiated,
		StatusInitiatedFailed, StatusKYCReceived, StatusValidityCheck, StatusValiditySucceed,
		StatusValidityFailed, StatusConfirmSubmitted, StatusConfirmed, StatusConfirmFailed,
		StatusCallbackSucceed, StatusCallbackFailed, StatusFinishSuccess, StatusFinishFailed}
}

// MapStatus normalises a connector status.
//
//   - PENDING: the QR/link exists, the user has not accepted: invited.
//   - ACCEPTED through CONFIRMED, and CALLBACK_FAILED (the connector retries
//     our data callback): in_progress.
//   - CALLBACK_SUCCEED, FINISH_SUCCESS and our DATA_RECEIVED: needs_review.
//     CorePass only transfers data the user verified in the app; whether the
//     applicant is acceptable is decided by staff under four eyes, so a
//     completed transfer is never "approved" by itself.
//   - INITIATED_FAILED, VALIDITY_FAILED, CONFIRM(ED)_FAILED, FINISH_FAILED:
//     failed (a new request is possible).
//   - EXPIRED is not a documented status (an unaccepted request simply stays
//     PENDING past its expiration); it is mapped in case a connector sends it.
//   - anything else is kept verbatim by the caller and counts as in_progress.
func MapStatus(providerStatus string) providers.Status {
	switch strings.ToUpper(strings.TrimSpace(providerStatus)) {
	case StatusPending:
		return providers.StatusInvited
	case StatusAccepted, StatusInitiateSubmitted, StatusInitiated, StatusKYCReceived,
		StatusValidityCheck, StatusValiditySucceed, StatusConfirmSubmitted, StatusConfirmed,
		StatusCallbackFailed:
		return providers.StatusInProgress
	case StatusCallbackSucceed, StatusFinishSuccess, StatusDataReceived:
		return providers.StatusNeedsReview
	case StatusInitiatedFailed, StatusValidityFailed, StatusConfirmFailed, StatusConfirmedFailed, StatusFinishFailed:
		return providers.StatusFailed
	case "EXPIRED":
		return providers.StatusExpired
	}
	return providers.StatusInProgress
}

// DescribeStatus explains a connector status in one line for the timeline.
func DescribeStatus(providerStatus string) string {
	switch strings.ToUpper(providerStatus) {
	case StatusPending:
		return "QR code or link issued; the user has not accepted yet"
	case StatusAccepted:
		return "the user accepted the data transfer in the CorePass app"
	case StatusInitiateSubmitted:
		return "the transfer was submitted to the Core blockchain"
	case StatusInitiated:
		return "the transfer started on the Core blockchain"
	case StatusInitiatedFailed:
		return "the initiate transaction failed on the Core blockchain"
	case StatusKYCReceived:
		return "the connector received the user's raw KYC data"
	case StatusValidityCheck:
		return "the connector is checking the data against its on-chain fingerprints"
	case StatusValiditySucceed:
		return "the connector found the data valid"
	case StatusValidityFailed:
		return "the connector found the transferred data invalid"
	case StatusConfirmSubmitted:
		return "the confirm (payment) transaction was submitted"
	case StatusConfirmed:
		return "the confirm transaction succeeded; the data callback follows"
	case StatusConfirmFailed, StatusConfirmedFailed:
		return "the confirm (payment) transaction failed"
	case StatusCallbackSucceed:
		return "our data callback answered 200"
	case StatusCallbackFailed:
		return "our data callback did not answer 200; the connector will retry"
	case StatusFinishSuccess:
		return "the transfer completed and the user was paid"
	case StatusFinishFailed:
		return "the transfer failed"
	case StatusDataReceived:
		return "the user's data arrived and awaits review"
	}
	return "status not documented by CorePass"
}
