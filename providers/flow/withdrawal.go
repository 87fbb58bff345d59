package flow

import (
	"context"
	"fmt"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
)

// withdrawnByUser reports whether an update says the person withdrew at
// the provider (deleted the connection or the account), which is what the
// retention policy's provider_withdrawal rule is about. A provider ending
// a verification for cause (VerifyYou deverification: blocked) is not a
// withdrawal, nor is IDfy purging its copy under its own purge policy.
func withdrawnByUser(p providers.Name, u providers.Update) bool {
	switch p {
	case providers.VerifyYou:
		return u.Status == providers.StatusWithdrawn
	}
	return false
}

// applyWithdrawal applies the retention policy to what we hold from the
// provider after the person withdrew there: the withdrawal is recorded
// once per applicant and provider, and if the policy makes the applicant
// due at once the personal data is archived now (else the retention job
// does it when due). Called after the event is on the timeline; a retry
// changes nothing.
func (s *Service) applyWithdrawal(ctx context.Context, p providers.Name, v db.Verification, u providers.Update) error {
	at := u.At
	if at.IsZero() {
		at = s.Now()
	}
	res, err := s.DB.ApplyWithdrawal(ctx, v.ApplicantID, string(p), u.Event, at)
	if err != nil {
		return fmt.Errorf("flow: %s withdrawal: %w", p, err)
	}
	if res.Archived {
		s.Logger.Info("withdrawal: personal data archived under the retention policy", "provider", p, "applicant", v.ApplicantID, "rule", res.Plan.Rule)
	}
	return nil
}
