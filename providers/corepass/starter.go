package corepass

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// Start parameters (providers.StartRequest.Params) the adapter reads.
const (
	// ParamCoreID is the applicant's Core ID (required).
	ParamCoreID = "core_id"
	// ParamMeanings is a comma-separated list of meanings (full_name,
	// date_of_birth, document_number, ... see Meanings) or exact item names
	// (SH_Passport_DOB). Empty means DefaultMeanings.
	ParamMeanings = "meanings"
	// ParamAllowPartial "true" starts the transfer with what the user has
	// verified even if some meanings are missing (they are listed in
	// Started.Notes). Otherwise a missing meaning refuses the start, as the
	// CorePass document advises.
	ParamAllowPartial = "allow_partial"
	// ParamWithoutQRCode "true" asks the connector for the link only; the
	// adapter renders the QR itself.
	ParamWithoutQRCode = "without_qr_code"
)

// NotVerifiedError says which requested meanings the user has not verified
// in the CorePass app. It matches ErrItemsNotVerified.
type NotVerifiedError struct {
	Missing []string
}

// Error lists the missing meanings in plain words.
func (e *NotVerifiedError) Error() string {
	return "corepass: start: the user has not verified " + strings.Join(e.Missing, ", ") +
		" in the CorePass app; ask them to complete KYC there first"
}

// Unwrap lets errors.Is match ErrItemsNotVerified.
func (e *NotVerifiedError) Unwrap() error { return ErrItemsNotVerified }

// Start implements providers.Starter: it checks the Core ID, asks the
// connector what the user has verified, picks one item per requested
// meaning (PlanRequest), and requests the transfer QR with our callback and
// status callback URLs. ProviderRef identifies the transfer as
// TransferRef(core id, items): the connector knows a transfer only by user
// and items.
func (c *Client) Start(ctx context.Context, req providers.StartRequest) (providers.Started, error) {
	id, err := c.coreID(req.Params[ParamCoreID])
	if err != nil {
		return providers.Started{}, fmt.Errorf("corepass: start: %s: %w", ParamCoreID, err)
	}
	meanings, unknown := ParseMeanings(req.Params[ParamMeanings])
	if len(unknown) > 0 {
		return providers.Started{}, fmt.Errorf("corepass: start: unknown meanings %s (known: %s)",
			strings.Join(unknown, ", "), strings.Join(Meanings(), ", "))
	}
	if len(meanings) == 0 {
		meanings = DefaultMeanings()
	}

	verified, err := c.Verified(ctx, id, CandidateItems(meanings)...)
	if err != nil {
		return providers.Started{}, err
	}
	items, missing := PlanRequest(verified.Verified, meanings)
	if len(items) == 0 || (len(missing) > 0 && req.Params[ParamAllowPartial] != "true") {
		return providers.Started{}, &NotVerifiedError{Missing: missing}
	}

	qr, err := c.RequestQR(ctx, QRRequest{
		CoreID:         id,
		Items:          items,
		Callback:       req.CallbackURL,
		StatusCallback: req.StatusCallbackURL,
		TTL:            req.TTL,
		WithoutQRCode:  req.Params[ParamWithoutQRCode] == "true",
	})
	if err != nil {
		return providers.Started{}, err
	}

	started := providers.Started{
		ProviderRef:    TransferRef(id, items),
		ExternalID:     id,
		Link:           qr.Link,
		QRPNG:          qr.PNG,
		ExpiresAt:      qr.ExpiresAt,
		ProviderStatus: StatusPending,
		Status:         MapStatus(StatusPending),
	}
	if len(missing) > 0 {
		started.Notes = append(started.Notes, "not verified in CorePass, so not requested: "+strings.Join(missing, ", "))
	}
	if qr.AlreadySent {
		started.Notes = append(started.Notes, "the connector returned the QR code it had already issued for this user and these items, with its original expiry")
	}
	return started, nil
}

// Refresh implements providers.Refresher with /api/v1/kyc/status for the
// transfer named by providerRef (see TransferRef). reference is not used:
// the connector knows nothing of ours.
func (c *Client) Refresh(ctx context.Context, reference, providerRef string) (providers.Update, error) {
	user, items, err := ParseTransferRef(providerRef)
	if err != nil {
		return providers.Update{}, fmt.Errorf("corepass: refresh: %w", err)
	}
	st, err := c.Status(ctx, user, items)
	if err != nil {
		return providers.Update{}, err
	}
	u := providers.Update{
		Reference:      reference,
		ProviderRef:    providerRef,
		Event:          "kyc/status",
		ProviderStatus: st.Status,
		Status:         MapStatus(st.Status),
		TxHash:         st.TxHash,
		At:             st.CreatedAt,
	}
	if u.At.IsZero() {
		u.At = c.now().UTC()
	}
	if u.Status == providers.StatusFailed {
		u.Reason = "CorePass transfer failed: " + st.Status + " (" + DescribeStatus(st.Status) + ")"
	}
	if st.TxHash != "" {
		u.Certificates = append(u.Certificates, txCertificate(st.Status, st.TxHash))
	}
	return u, nil
}

// TransferRef names one transfer as the connector identifies it: the user's
// Core ID and the set of requested items, "<coreid>:<item>,<item>..." with
// the items sorted. Status callbacks, data callbacks and error callbacks
// all yield the same ref for the same transfer.
func TransferRef(coreID string, items []string) string {
	sorted := slices.Clone(items)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	return strings.ToLower(coreID) + ":" + strings.Join(sorted, ",")
}

// ParseTransferRef splits a TransferRef back into Core ID and items.
func ParseTransferRef(ref string) (coreID string, items []string, err error) {
	id, list, ok := strings.Cut(ref, ":")
	if !ok || list == "" {
		return "", nil, errors.New("provider ref is not <core id>:<items>")
	}
	if err := ValidateCoreID(id); err != nil {
		return "", nil, err
	}
	return id, strings.Split(list, ","), nil
}

func txCertificate(status, txHash string) providers.Certificate {
	return providers.Certificate{Name: "corepass tx_hash (" + status + ")", Value: txHash}
}
