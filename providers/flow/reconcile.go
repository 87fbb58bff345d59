package flow

import (
	"context"
	"fmt"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
)

// ReconcileWindow is how far back reconciliation looks: the CorePass
// connector answers kyc/status for about a month.
const ReconcileWindow = 30 * 24 * time.Hour

// ReconcileResult counts what one reconciliation pass did.
type ReconcileResult struct {
	Checked, Changed, Expired, Failed int
}

// Reconcile asks a provider for the current state of every verification
// not yet terminal and records what changed, so a lost callback or webhook
// is caught up. A verification whose link expired while the user never
// started is marked expired: CorePass sends nothing when a QR expires.
func (s *Service) Reconcile(ctx context.Context, p providers.Name) (ReconcileResult, error) {
	var res ReconcileResult
	a, err := s.adapter(p)
	if err != nil {
		return res, err
	}
	now := s.Now()
	open, err := s.DB.OpenVerifications(ctx, string(p), now.Add(-ReconcileWindow), 500)
	if err != nil {
		return res, err
	}
	for _, v := range open {
		res.Checked++
		if a.Refresher != nil {
			moved, err := s.refreshOne(ctx, p, a.Refresher, v)
			if err != nil {
				res.Failed++
				s.Logger.Warn("reconcile: refresh", "provider", p, "verification", v.ID, "err", err)
			} else if moved {
				res.Changed++
			}
			if moved {
				// The provider has moved on: never expire it, even when
				// recording that failed (it is retried next pass).
				continue
			}
		}
		if v.Status == string(providers.StatusInvited) && !v.ExpiresAt.IsZero() && v.ExpiresAt.Before(now) {
			err := s.DB.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "system",
				Status: string(providers.StatusExpired), Detail: "the link expired before the user started"})
			if err != nil {
				return res, fmt.Errorf("flow: reconcile: expire %d: %w", v.ID, err)
			}
			res.Expired++
		}
	}
	return res, nil
}

// refreshOne catches one verification up with its provider and reports
// whether the provider's status moved (true with an error when recording
// it failed). Only a changed status is news:
// data-carrying refreshes (IDfy, Blockpass) return the same files and
// attributes on every pass, and recording them again would add a timeline
// event each time; where the provider lets us peek at the status alone,
// nothing is downloaded unless it moved.
func (s *Service) refreshOne(ctx context.Context, p providers.Name, r providers.Refresher, v db.Verification) (bool, error) {
	if moved, err := statusMoved(ctx, r, v); err != nil || !moved {
		return false, err
	}
	u, err := r.Refresh(ctx, v.Reference, v.ProviderRef)
	if err != nil {
		return false, err
	}
	if u.ProviderStatus == "" || (u.ProviderStatus == v.ProviderStatus && (u.Status == "" || string(u.Status) == v.Status)) {
		return false, nil
	}
	if u.Reference == "" && u.ProviderRef == "" {
		u.Reference, u.ProviderRef = v.Reference, v.ProviderRef
	}
	if _, err := s.ApplyUpdate(ctx, p, "poll", u, "reconcile"); err != nil {
		return true, fmt.Errorf("apply: %w", err)
	}
	return true, nil
}

// statusMoved reports whether the provider's status for v may have moved:
// always, unless the refresher can peek at the status and it has not.
func statusMoved(ctx context.Context, r providers.Refresher, v db.Verification) (bool, error) {
	peeker, ok := r.(providers.StatusPeeker)
	if !ok {
		return true, nil
	}
	ps, st, err := peeker.PeekStatus(ctx, v.Reference, v.ProviderRef)
	if err != nil {
		return false, err
	}
	return ps != v.ProviderStatus || (st != "" && string(st) != v.Status), nil
}

// RunReconcile reconciles every configured provider with a refresher on a
// ticker until ctx ends.
func (s *Service) RunReconcile(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, a := range s.Registry.All() {
			if a.Refresher == nil {
				continue
			}
			res, err := s.Reconcile(ctx, a.Name)
			_ = s.DB.SetJobState(ctx, "reconcile/"+string(a.Name), "", err)
			if err != nil && ctx.Err() == nil {
				s.Logger.Error("reconcile", "provider", a.Name, "err", err)
			} else if res.Changed+res.Expired > 0 {
				s.Logger.Info("reconcile", "provider", a.Name, "checked", res.Checked, "changed", res.Changed, "expired", res.Expired)
			}
		}
	}
}
