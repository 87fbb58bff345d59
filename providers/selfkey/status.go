package selfkey

import (
	"github.com/kycdesk/kycdesk/providers"
)

// KYCCStatus is a KYC-Chain application status code, the currentStatus
// the SelfKey Marketplace shows (public: selfkey.js
// src/kycc/kycc-statuses.js).
type KYCCStatus int

// KYC-Chain status codes.
const (
	StatusMissing                   KYCCStatus = 0
	StatusInProgress                KYCCStatus = 1
	StatusApproved                  KYCCStatus = 2
	StatusRejected                  KYCCStatus = 3
	StatusUploaded                  KYCCStatus = 4
	StatusInvited                   KYCCStatus = 5
	StatusUserProcessing            KYCCStatus = 6
	StatusUserDeclined              KYCCStatus = 7
	StatusCanceled                  KYCCStatus = 8
	StatusAdditionalRequested       KYCCStatus = 9
	StatusCorporateDetails          KYCCStatus = 10
	StatusUserProcessingRequirement KYCCStatus = 11
	StatusPartiallyApproved         KYCCStatus = 12
	StatusSendTokens                KYCCStatus = 13
	StatusManagerAssigned           KYCCStatus = 14
	StatusDataCheck                 KYCCStatus = 15
	StatusReopened                  KYCCStatus = 16
)

// String is the code's KYC-Chain name (MISSING, IN_PROGRESS, …), kept
// verbatim as the provider status; "UNKNOWN" outside the table.
func (s KYCCStatus) String() string {
	switch s {
	case StatusMissing:
		return "MISSING"
	case StatusInProgress:
		return "IN_PROGRESS"
	case StatusApproved:
		return "APPROVED"
	case StatusRejected:
		return "REJECTED"
	case StatusUploaded:
		return "UPLOADED"
	case StatusInvited:
		return "INVITED"
	case StatusUserProcessing:
		return "USER_PROCESSING"
	case StatusUserDeclined:
		return "USER_DECLINED"
	case StatusCanceled:
		return "CANCELED"
	case StatusAdditionalRequested:
		return "ADDITIONAL_REQUESTED"
	case StatusCorporateDetails:
		return "CORPORATE_DETAILS"
	case StatusUserProcessingRequirement:
		return "USER_PROCESSING_REQUIREMENT"
	case StatusPartiallyApproved:
		return "PARTIALLY_APPROVED"
	case StatusSendTokens:
		return "SEND_TOKENS"
	case StatusManagerAssigned:
		return "MANAGER_ASSIGNED"
	case StatusDataCheck:
		return "DATA_CHECK"
	case StatusReopened:
		return "REOPENED"
	}
	return "UNKNOWN"
}

// MapStatus maps a KYC-Chain code to the normalised status, following the
// common mapping of providers.md §6; ok is false for a code outside the
// table (keep it verbatim, do not guess).
func MapStatus(code KYCCStatus) (status providers.Status, ok bool) {
	switch code {
	case StatusMissing, StatusInvited, StatusUserProcessing, StatusUserProcessingRequirement:
		return providers.StatusInvited, true
	case StatusUploaded, StatusCorporateDetails, StatusSendTokens, StatusManagerAssigned, StatusDataCheck, StatusReopened:
		return providers.StatusInProgress, true
	case StatusInProgress, StatusPartiallyApproved:
		return providers.StatusNeedsReview, true
	case StatusApproved:
		return providers.StatusApproved, true
	case StatusRejected, StatusAdditionalRequested:
		return providers.StatusRejected, true
	case StatusUserDeclined, StatusCanceled:
		return providers.StatusBlocked, true
	}
	return "", false
}

// CodeFor is the KYC-Chain code to report to the wallet (currentStatus)
// for a verification in normalised status s.
func CodeFor(s providers.Status) KYCCStatus {
	switch s {
	case providers.StatusInvited:
		return StatusUserProcessing
	case providers.StatusInProgress, providers.StatusNeedsReview:
		return StatusInProgress
	case providers.StatusApproved:
		return StatusApproved
	case providers.StatusRejected:
		return StatusRejected
	case providers.StatusWithdrawn:
		return StatusUserDeclined
	}
	return StatusCanceled // blocked, expired, failed
}
