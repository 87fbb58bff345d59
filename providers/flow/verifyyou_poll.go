package flow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/envconfig"
	"github.com/kycdesk/kycdesk/providers/verifyyou"
)

// VerifyYou polling: check_for_updates names the connections that changed
// since a cursor; each is re-read with check_connection_status and applied
// like a webhook, with source "poll". The poll is the safety net under the
// webhooks (which VerifyYou tries only three times).
const (
	// VerifyYouPollJob names the poll's row in job_state: its cursor is
	// VerifyYou's timestamp_s, in decimal.
	VerifyYouPollJob = "verifyyou/check_for_updates"
	// EnvVerifyYouPollInterval sets how often to poll: a Go duration
	// ("30s", "5m") or a whole number of seconds.
	EnvVerifyYouPollInterval = "KYCDESK_VERIFYYOU_POLL_INTERVAL"
	// DefaultVerifyYouPollInterval applies when the variable is unset.
	DefaultVerifyYouPollInterval = time.Minute
)

// Bounds of the poll interval: faster would only load VerifyYou, slower
// would make the poll useless as a safety net.
const (
	minVerifyYouPollInterval = 5 * time.Second
	maxVerifyYouPollInterval = 24 * time.Hour
)

// ParseVerifyYouPollInterval reads EnvVerifyYouPollInterval's value: empty
// is the default, otherwise a Go duration or whole seconds between 5 s
// and 24 h.
func ParseVerifyYouPollInterval(s string) (time.Duration, error) {
	return envconfig.Interval{Name: EnvVerifyYouPollInterval, Default: DefaultVerifyYouPollInterval,
		Min: minVerifyYouPollInterval, Max: maxVerifyYouPollInterval, BareUnit: time.Second}.Parse(s)
}

// VerifyYouPoller is what the poll needs from the VerifyYou adapter
// (*verifyyou.Client).
type VerifyYouPoller interface {
	CheckForUpdates(ctx context.Context, sinceTimestampS int64) (verifyyou.Updates, error)
	Refresh(ctx context.Context, reference, providerRef string) (providers.Update, error)
}

// VerifyYouPollResult counts what one poll did.
type VerifyYouPollResult struct {
	Since, Cursor int64 // the window asked for, [Since, Cursor)
	Listed        int   // connections check_for_updates named
	Applied       int   // updates recorded on a verification
	Unchanged     int   // re-read, nothing new (a webhook was first, or a repeated page)
	Unknown       int   // not one of our references
	Refused       int   // VerifyYou refused the re-read (recorded on the timeline with its code)
}

// PollVerifyYou runs one check_for_updates poll from the stored cursor,
// applies every connection it names, and only then stores the new cursor:
// a crash or a transient failure before that repeats the window (harmless:
// what was already recorded is recognised and skipped) rather than losing
// it. A refusal of one connection with a documented failure code
// (DOES_NOT_EXIST, ...) is recorded on that verification's timeline with
// the code and does not hold the cursor back; a transport error, a 5xx or
// SERVICE_TEMPORARILY_UNAVAILABLE does.
func (s *Service) PollVerifyYou(ctx context.Context, c VerifyYouPoller) (VerifyYouPollResult, error) {
	var res VerifyYouPollResult
	stored, _, err := s.DB.JobState(ctx, VerifyYouPollJob)
	if err != nil {
		return res, err
	}
	if stored != "" {
		res.Since, err = strconv.ParseInt(stored, 10, 64)
		if err != nil || res.Since < 0 {
			// Never restart from 0 silently: that would replay all history.
			err = fmt.Errorf("flow: verifyyou poll: stored cursor is not a timestamp; fix or delete job_state %q", VerifyYouPollJob)
			s.recordPoll(ctx, stored, err)
			return res, err
		}
	}
	ups, err := c.CheckForUpdates(ctx, res.Since)
	if err != nil {
		s.recordPoll(ctx, stored, err)
		return res, err
	}
	res.Cursor, res.Listed = ups.Cursor, len(ups.Connections)
	digest := "check_for_updates:" + strconv.FormatInt(res.Since, 10)
	for _, name := range ups.Connections {
		if err := s.pollVerifyYouOne(ctx, c, name, digest, &res); err != nil {
			s.recordPoll(ctx, stored, err)
			return res, err
		}
	}
	if err := s.DB.SetJobState(ctx, VerifyYouPollJob, strconv.FormatInt(ups.Cursor, 10), nil); err != nil {
		return res, err
	}
	return res, nil
}

// recordPoll keeps the cursor as it was and stores why the poll failed.
func (s *Service) recordPoll(ctx context.Context, cursor string, runErr error) {
	if err := s.DB.SetJobState(ctx, VerifyYouPollJob, cursor, runErr); err != nil {
		s.Logger.Error("verifyyou poll: record failure", "err", err)
	}
}

// pollVerifyYouOne re-reads one connection and records what changed. It
// returns an error only for what a later poll may fix (the cursor then
// stays put).
func (s *Service) pollVerifyYouOne(ctx context.Context, c VerifyYouPoller, name, digest string, res *VerifyYouPollResult) error {
	// VerifyYou names users by our reference_id (the simulator) or its
	// unique_id: match either.
	v, err := s.DB.VerificationByReference(ctx, string(providers.VerifyYou), name, name)
	if errors.Is(err, db.ErrNotFound) {
		res.Unknown++
		return nil
	}
	if err != nil {
		return err
	}
	u, err := c.Refresh(ctx, v.Reference, v.ProviderRef)
	if err != nil {
		if transientVerifyYou(err) {
			return err
		}
		res.Refused++
		_, aerr := s.ApplyUpdate(ctx, providers.VerifyYou, "poll", providers.Update{
			Reference: v.Reference, ProviderRef: v.ProviderRef, At: s.Now(),
			Reason: "VerifyYou refused to re-read this connection after check_for_updates: " + providerMessage(err),
		}, digest)
		return aerr
	}
	u, changed := verifyYouPolled(v, u)
	if !changed {
		res.Unchanged++
		return nil
	}
	if u.Reference == "" && u.ProviderRef == "" {
		u.Reference, u.ProviderRef = v.Reference, v.ProviderRef
	}
	if _, err := s.ApplyUpdate(ctx, providers.VerifyYou, "poll", u, digest); err != nil {
		return err
	}
	res.Applied++
	return nil
}

// verifyYouPolled decides what a re-read connection means for a
// verification: the update to record, and whether there is anything new.
// check_connection_status does not tell "never connected" from "connection
// deleted", so a connection gone after it was made is taken as the user's
// connection_deleted (whose webhook did not reach us), and a
// verification already withdrawn or blocked stays as it is.
func verifyYouPolled(v db.Verification, u providers.Update) (providers.Update, bool) {
	connected := u.ProviderStatus == verifyyou.StatusConnected || u.ProviderStatus == verifyyou.EventConnectionVerified
	st := providers.Status(v.Status)
	if !connected {
		switch {
		case st == providers.StatusWithdrawn || st == providers.StatusBlocked:
			return u, false
		case st == providers.StatusApproved || st == providers.StatusInProgress ||
			v.ProviderStatus == verifyyou.StatusConnected || v.ProviderStatus == verifyyou.EventConnectionVerified:
			u.Event, u.ProviderStatus, u.Status = verifyyou.EventConnectionDeleted, verifyyou.EventConnectionDeleted, providers.StatusWithdrawn
			u.Reason = "the connection is gone (check_for_updates, then check_connection_status): taken as connection_deleted"
			return u, true
		}
		// Still waiting for the user: "registered" and "not_connected"
		// say the same thing.
		return u, v.ProviderStatus != verifyyou.StatusRegistered && v.ProviderStatus != verifyyou.StatusNotConnected
	}
	return u, u.ProviderStatus != v.ProviderStatus || u.Status != st
}

// transientVerifyYou reports whether a failed call may succeed later: no
// answer at all, a rate limit, a 5xx, or VerifyYou's maintenance code.
func transientVerifyYou(err error) bool {
	var api *providers.APIError
	if !errors.As(err, &api) {
		return !errors.Is(err, providers.ErrMalformed)
	}
	return api.HTTPStatus == http.StatusTooManyRequests || api.HTTPStatus >= 500 ||
		api.Code == "SERVICE_TEMPORARILY_UNAVAILABLE" || api.Code == "INTERNAL_ERROR"
}

// providerMessage is a provider failure as staff should read it: the code
// and the provider's reason (APIError keeps both), never a URL or secret.
func providerMessage(err error) string {
	var api *providers.APIError
	if errors.As(err, &api) {
		msg := api.Call + " failed"
		if api.Code != "" {
			msg += " with " + api.Code
		} else if api.HTTPStatus != 0 {
			msg += " with HTTP " + strconv.Itoa(api.HTTPStatus)
		}
		if api.Message != "" {
			msg += ": " + api.Message
		}
		return msg
	}
	return err.Error()
}

// RunVerifyYouPoll polls VerifyYou every interval until ctx ends (rawInterval
// is EnvVerifyYouPollInterval's value; a bad value is logged and the
// default used). It does nothing when VerifyYou is not configured.
func (s *Service) RunVerifyYouPoll(ctx context.Context, rawInterval string) {
	a, ok := s.Registry.Get(providers.VerifyYou)
	if !ok {
		return
	}
	c, ok := a.Refresher.(VerifyYouPoller)
	if !ok {
		s.Logger.Warn("verifyyou poll: the adapter cannot poll check_for_updates; not polling")
		return
	}
	interval, err := ParseVerifyYouPollInterval(rawInterval)
	if err != nil {
		s.Logger.Error("verifyyou poll: bad interval; using the default", "err", err, "default", DefaultVerifyYouPollInterval)
		interval = DefaultVerifyYouPollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := s.PollVerifyYou(ctx, c)
		switch {
		case err != nil && ctx.Err() == nil:
			s.Logger.Warn("verifyyou poll failed; the cursor stays for the next try", "err", err)
		case res.Applied+res.Refused > 0:
			s.Logger.Info("verifyyou poll", "listed", res.Listed, "applied", res.Applied, "refused", res.Refused, "unchanged", res.Unchanged)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
