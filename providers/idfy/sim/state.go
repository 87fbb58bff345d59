package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Profile statuses and reviewer actions the simulator uses. capture_pending,
// in_progress, completed with approved/rejected/null are what public material
// shows; capture_expired and purged are the simulator's names for a link
// left to expire and a purged profile (unconfirmed at IDfy).
const (
	StatusCapturePending = "capture_pending"
	StatusInProgress     = "in_progress"
	StatusCompleted      = "completed"
	StatusCaptureExpired = "capture_expired"
	StatusPurged         = "purged"

	ReviewerApproved = "approved"
	ReviewerRejected = "rejected"
)

type file struct {
	kind        string // document, image, video
	typ         string // profile_report, selfie, customer, ...
	contentType string
	data        []byte
}

type textItem struct {
	attr  string
	value json.RawMessage
}

type profile struct {
	id, ref, groupID, configID string
	status, reviewerAction     string
	comments                   string
	token                      string
	captureExpires             time.Time
	createdAt, completedAt     time.Time
	async, encrypted           bool
	resources                  int
	text                       []textItem
	inputs                     []file // images/videos sent base64 at creation
	files                      []file // what the capture produced
}

// ProfileState is a snapshot of one simulated profile.
type ProfileState struct {
	ProfileID        string
	ReferenceID      string
	Status           string
	ReviewerAction   string
	CaptureLink      string // with its token, without redirect_uri/exit_url
	CaptureExpiresAt time.Time
	Async            bool // created through the asynchronous call
	Encrypted        bool // created through an encrypted call
	Resources        int  // resources in the create request
	Files            int  // resources downloadable now
}

func (s *Server) stateOf(p *profile) ProfileState {
	return ProfileState{
		ProfileID: p.id, ReferenceID: p.ref, Status: p.status, ReviewerAction: p.reviewerAction,
		CaptureLink: s.captureLink(s.cfg.PublicURL, p), CaptureExpiresAt: p.captureExpires,
		Async: p.async, Encrypted: p.encrypted, Resources: p.resources, Files: len(p.files) + len(p.inputs),
	}
}

func (s *Server) captureLink(public string, p *profile) string {
	return public + pagePrefix + "capture/" + p.id + "?t=" + p.token
}

// Profile returns the state of one profile.
func (s *Server) Profile(id string) (ProfileState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[id]
	if !ok {
		return ProfileState{}, false
	}
	return s.stateOf(p), true
}

// ProfileByReference returns the profile created with reference_id ref.
func (s *Server) ProfileByReference(ref string) (ProfileState, bool) {
	s.mu.Lock()
	id, ok := s.byRef[ref]
	s.mu.Unlock()
	if !ok {
		return ProfileState{}, false
	}
	return s.Profile(id)
}

// Profiles lists every profile in creation order.
func (s *Server) Profiles() []ProfileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProfileState, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.stateOf(s.profiles[id]))
	}
	return out
}

// transition applies change to profile id under the lock, then sends the
// webhooks it returns (outside the lock). The error is the state error, or
// the first webhook delivery error.
func (s *Server) transition(ctx context.Context, id string, change func(p *profile) ([]any, error)) error {
	s.mu.Lock()
	p, ok := s.profiles[id]
	if !ok {
		s.mu.Unlock()
		return ErrNotFound
	}
	s.expireIfDue(p)
	hooks, err := change(p)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	var first error
	for _, h := range hooks {
		if err := s.sendWebhook(ctx, id, h); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// expireIfDue turns a capture link past its expiry into capture_expired.
// It sends no webhook: the status is observed on the next fetch (and by
// ExpireCapture, which does send one). Call with the lock held.
func (s *Server) expireIfDue(p *profile) {
	if (p.status == StatusCapturePending || p.status == StatusInProgress) && !s.cfg.Now().Before(p.captureExpires) {
		p.status = StatusCaptureExpired
	}
}

// StartCall is the end user joining the video call: capture_pending ->
// in_progress, with a profile status webhook.
func (s *Server) StartCall(ctx context.Context, id string) error {
	return s.transition(ctx, id, func(p *profile) ([]any, error) {
		if p.status != StatusCapturePending {
			return nil, fmt.Errorf("%w: %s", ErrState, p.status)
		}
		p.status = StatusInProgress
		return []any{profileHook(p)}, nil
	})
}

// FinishCapture is the end user finishing the capture and the video session
// succeeding: -> completed (reviewer_action null), a selfie, a video and the
// profile report become downloadable, and a session update then a profile
// status webhook are sent.
func (s *Server) FinishCapture(ctx context.Context, id string) error {
	return s.transition(ctx, id, func(p *profile) ([]any, error) {
		if p.status != StatusCapturePending && p.status != StatusInProgress {
			return nil, fmt.Errorf("%w: %s", ErrState, p.status)
		}
		p.status = StatusCompleted
		p.completedAt = s.cfg.Now().UTC()
		p.files = capturedFiles(p.id)
		return []any{sessionHook(p, "completed"), profileHook(p)}, nil
	})
}

// CancelCapture is the end user leaving through exit_url: an unsuccessful
// session update; the profile stays as it was (the link can be reused until
// it expires).
func (s *Server) CancelCapture(ctx context.Context, id string) error {
	return s.transition(ctx, id, func(p *profile) ([]any, error) {
		if p.status != StatusCapturePending && p.status != StatusInProgress {
			return nil, fmt.Errorf("%w: %s", ErrState, p.status)
		}
		if p.status == StatusInProgress {
			p.status = StatusCapturePending
		}
		return []any{sessionHook(p, "cancelled")}, nil
	})
}

// Review is the checker's decision on a completed profile: action is
// "approved" or "rejected"; a profile status webhook follows.
func (s *Server) Review(ctx context.Context, id, action string) error {
	if action != ReviewerApproved && action != ReviewerRejected {
		return fmt.Errorf("idfy sim: review action %q: want approved or rejected", action)
	}
	return s.transition(ctx, id, func(p *profile) ([]any, error) {
		if p.status != StatusCompleted || p.reviewerAction != "" {
			return nil, fmt.Errorf("%w: %s", ErrState, p.status)
		}
		p.reviewerAction = action
		p.comments = "Reviewed by checker: " + action
		return []any{profileHook(p)}, nil
	})
}

// Purge applies IDfy's purge policy to a profile: its resources and text are
// deleted, the status becomes purged (reviewer_action kept), and a profile
// status webhook follows.
func (s *Server) Purge(ctx context.Context, id string) error {
	return s.transition(ctx, id, func(p *profile) ([]any, error) {
		if p.status == StatusPurged {
			return nil, fmt.Errorf("%w: %s", ErrState, p.status)
		}
		p.status = StatusPurged
		p.files, p.inputs, p.text = nil, nil, nil
		return []any{profileHook(p)}, nil
	})
}

// ExpireCapture lets the capture link expire now: a pending or in-progress
// profile becomes capture_expired, with a profile status webhook.
func (s *Server) ExpireCapture(ctx context.Context, id string) error {
	return s.transition(ctx, id, func(p *profile) ([]any, error) {
		if p.status != StatusCapturePending && p.status != StatusInProgress && p.status != StatusCaptureExpired {
			return nil, fmt.Errorf("%w: %s", ErrState, p.status)
		}
		p.status = StatusCaptureExpired
		if now := s.cfg.Now(); now.Before(p.captureExpires) {
			p.captureExpires = now
		}
		return []any{profileHook(p)}, nil
	})
}
