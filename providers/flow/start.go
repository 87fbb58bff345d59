package flow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
)

// StartInput is a staff request to start a verification.
type StartInput struct {
	Provider    providers.Name
	ApplicantID int64            // an existing applicant, or
	New         *db.NewApplicant // a new one (created only once the provider accepted)
	Params      map[string]string
	Actor       Actor
}

// endUserTTL is how long an end-user page link stays valid.
const endUserTTL = 7 * 24 * time.Hour

// Start asks the provider to begin a verification and records it with its
// link/QR, its first timeline event and an audit entry. Nothing is stored
// when the provider refuses.
func (s *Service) Start(ctx context.Context, in StartInput) (db.Verification, providers.Started, error) {
	a, err := s.adapter(in.Provider)
	if err != nil {
		return db.Verification{}, providers.Started{}, err
	}
	if a.Starter == nil {
		return db.Verification{}, providers.Started{}, fmt.Errorf("flow: start %s: %w", in.Provider, ErrNotStartable)
	}
	if in.ApplicantID == 0 && in.New == nil {
		return db.Verification{}, providers.Started{}, errors.New("flow: start: no applicant")
	}
	token := db.NewToken()
	req := providers.StartRequest{
		Reference: NewReference(in.Provider),
		Params:    in.Params,
		ReturnURL: s.EndUserURL(token),
	}
	if a.CallbackPath != "" {
		req.CallbackURL = s.CallbackURL(a.CallbackPath)
	}
	if a.StatusCallbackPath != "" {
		req.StatusCallbackURL = s.CallbackURL(a.StatusCallbackPath)
	}
	req.TTL = a.StartTTL
	started, err := a.Starter.Start(ctx, req)
	if err != nil {
		return db.Verification{}, started, &ProviderError{Provider: in.Provider, Err: err}
	}
	applicantID := in.ApplicantID
	if applicantID == 0 {
		in.New.CreatedBy = in.Actor.ID
		created, err := s.DB.CreateApplicant(ctx, *in.New, in.Actor.audit())
		if err != nil {
			return db.Verification{}, started, err
		}
		applicantID = created.ID
	}
	status := started.Status
	if status == "" {
		status = providers.StatusInvited
	}
	detail := "verification started"
	if len(started.Notes) > 0 {
		detail += " (" + strings.Join(started.Notes, "; ") + ")"
	}
	v, err := s.DB.StartVerification(ctx, db.NewVerification{
		ApplicantID:    applicantID,
		Provider:       string(in.Provider),
		Reference:      req.Reference,
		ProviderRef:    started.ProviderRef,
		ExternalID:     cmp.Or(started.ExternalID, started.ProviderRef),
		Status:         string(status),
		ProviderStatus: started.ProviderStatus,
		Link:           started.Link,
		QRPNG:          started.QRPNG,
		ExpiresAt:      started.ExpiresAt,
		Token:          token,
		TokenTTL:       endUserTTL,
		CreatedBy:      in.Actor.ID,
		Detail:         detail,
	}, in.Actor.audit())
	return v, started, err
}

// ProviderError is a provider's refusal or failure: its message is meant
// for staff (what the provider said, and what to do), unlike internal errors.
type ProviderError struct {
	Provider providers.Name
	Err      error
}

func (e *ProviderError) Error() string { return e.Err.Error() }
func (e *ProviderError) Unwrap() error { return e.Err }
