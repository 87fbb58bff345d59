package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors the control methods return.
var (
	ErrNotFound     = errors.New("no such candidate")
	ErrBlocked      = errors.New("candidate is blocked and cannot resubmit")
	ErrNotSubmitted = errors.New("candidate has not submitted yet")
	ErrBadAction    = errors.New("unknown operator action")
	ErrBadRefID     = errors.New("refId must be 1-128 characters without '/'")
)

// Action is an operator decision in the KYC Connect dashboard.
type Action string

// Operator actions.
const (
	ActionStartReview   Action = "inreview"       // -> inreview, webhook user.inReview
	ActionApprove       Action = "approve"        // -> approved, webhook review.approved
	ActionReject        Action = "reject"         // -> rejected, webhook review.rejected
	ActionBlock         Action = "block"          // -> blocked, webhook user.blocked
	ActionRequestReview Action = "request_review" // -> review_requested; no documented event, so no webhook
)

// outcome is the status and webhook an action leads to.
func (a Action) outcome() (status, event string, ok bool) {
	switch a {
	case ActionStartReview:
		return StatusInReview, EventUserInReview, true
	case ActionApprove:
		return StatusApproved, EventReviewApproved, true
	case ActionReject:
		return StatusRejected, EventReviewRejected, true
	case ActionBlock:
		return StatusBlocked, EventUserBlocked, true
	case ActionRequestReview:
		return StatusReviewRequested, "", true
	}
	return "", "", false
}

// Seed replaces the seeded population with n candidates, generated from
// their index on demand (see SeedRecordID, SeedRefID, SeedStatus). Created
// candidates stay.
func (s *Server) Seed(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seeded = max(n, 0)
	s.seedState = map[int]*record{}
	s.deletedSeeded = 0
}

// Register is the user opening the KYC Connect link and registering with
// the service: a new candidate in status incomplete (user.created). An
// existing refId returns its recordId and changes nothing.
func (s *Server) Register(refID string, p Person) (string, error) {
	if err := checkRefID(refID); err != nil {
		return "", err
	}
	s.mu.Lock()
	if rec := s.lookupLocked(refID, false); rec != nil {
		s.mu.Unlock()
		return rec.recordID, nil
	}
	rec := s.createLocked(refID, p)
	idx := s.queueLocked(EventUserCreated, rec, s.cfg.Now())
	s.mu.Unlock()
	return rec.recordID, s.send(idx)
}

// Submit is the user sharing their identity for review: the candidate
// (registered on the way if new, user.created) moves to waiting with p as
// its data (user.readyToReview). Resubmitting after a rejection or a
// review request works the same and counts; a blocked candidate cannot
// resubmit. Webhook failures come back wrapped in ErrDelivery after the
// change is made.
func (s *Server) Submit(refID string, p Person) (string, error) {
	if err := checkRefID(refID); err != nil {
		return "", err
	}
	s.mu.Lock()
	now := s.cfg.Now()
	var idx []int
	rec := s.lookupLocked(refID, false)
	switch {
	case rec == nil:
		rec = s.createLocked(refID, p)
		idx = append(idx, s.queueLocked(EventUserCreated, rec, now))
	case rec.status == StatusBlocked:
		s.mu.Unlock()
		return rec.recordID, ErrBlocked
	default:
		rec = s.materializeLocked(rec)
	}
	// A (re)submission brings fresh data: new pictures, not archived, no
	// review yet.
	rec.person, rec.personSet = p, true
	rec.imageSeed = mix(rec.imageSeed + 1)
	rec.status = StatusWaiting
	rec.submitCount++
	rec.waiting = now
	rec.inreview, rec.approved = time.Time{}, time.Time{}
	rec.archived, rec.willArchiveAt = false, time.Time{}
	rec.certsAt = time.Time{}
	idx = append(idx, s.queueLocked(EventUserReadyToReview, rec, now))
	s.mu.Unlock()
	return rec.recordID, s.send(idx...)
}

// Review applies an operator action to the candidate with recordID and
// sends its webhook. A candidate still incomplete cannot be reviewed.
func (s *Server) Review(recordID string, action Action) error {
	status, event, ok := action.outcome()
	if !ok {
		return ErrBadAction
	}
	s.mu.Lock()
	rec := s.lookupLocked(recordID, true)
	if rec == nil {
		s.mu.Unlock()
		return ErrNotFound
	}
	if rec.status == StatusIncomplete {
		s.mu.Unlock()
		return ErrNotSubmitted
	}
	rec = s.materializeLocked(rec)
	now := s.cfg.Now()
	rec.status = status
	switch status {
	case StatusInReview:
		rec.inreview = now
	case StatusApproved:
		rec.approved = now
	}
	if rec.inreview.IsZero() {
		rec.inreview = now
	}
	rec.certsAt = now
	if event == "" {
		s.mu.Unlock()
		return nil
	}
	idx := s.queueLocked(event, rec, now)
	s.mu.Unlock()
	return s.send(idx)
}

// Delete removes the candidate with recordID, as an operator deleting the
// user in the dashboard (user.deleted); the API answers 404 for it after.
func (s *Server) Delete(recordID string) error {
	s.mu.Lock()
	rec := s.lookupLocked(recordID, true)
	if rec == nil {
		s.mu.Unlock()
		return ErrNotFound
	}
	rec = s.materializeLocked(rec)
	rec.deleted = true
	if rec.seed >= 0 {
		s.deletedSeeded++
	} else {
		delete(s.byRecordID, rec.recordID)
		delete(s.byRefID, rec.refID)
		for i, c := range s.created {
			if c == rec {
				s.created = append(s.created[:i], s.created[i+1:]...)
				break
			}
		}
	}
	idx := s.queueLocked(EventUserDeleted, rec, s.cfg.Now())
	s.mu.Unlock()
	return s.send(idx)
}

// SetRateLimited makes every API request answer 429 (on) or lifts that.
func (s *Server) SetRateLimited(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimited = on
}

// RateLimitNext makes the next n API requests answer 429.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimitNext = max(n, 0)
}

// APICalls counts the API requests served so far, 429s included.
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiCalls
}

// Candidate is a read-only view of one candidate, for tests and pages.
type Candidate struct {
	RefID       string
	RecordID    string
	BlockPassID string
	Status      string
	SubmitCount int
	Archived    bool
	Person      Person
}

// Lookup returns the candidate with recordID as it stands now.
func (s *Server) Lookup(recordID string) (Candidate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.lookupLocked(recordID, true)
	if rec == nil {
		return Candidate{}, false
	}
	return rec.view(s.cfg.Now()), true
}

// LookupRef returns the candidate with refID as it stands now.
func (s *Server) LookupRef(refID string) (Candidate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.lookupLocked(refID, false)
	if rec == nil {
		return Candidate{}, false
	}
	return rec.view(s.cfg.Now()), true
}

func (r *record) view(now time.Time) Candidate {
	return Candidate{RefID: r.refID, RecordID: r.recordID, BlockPassID: r.blockPassID, Status: r.status,
		SubmitCount: r.submitCount, Archived: r.archivedAt(now), Person: r.identity()}
}

// createLocked adds a new incomplete candidate.
func (s *Server) createLocked(refID string, p Person) *record {
	s.nextID++
	n := s.nextID
	rec := &record{
		seed:        -1,
		refID:       refID,
		recordID:    fmt.Sprintf("%08x%016x", createdRecordPrefix, n),
		blockPassID: fmt.Sprintf("%08x%016x", blockPassIDPrefix, mix(n^0xb10c)),
		status:      StatusIncomplete,
		person:      p,
		personSet:   true,
		imageSeed:   mix(n),
		certsKey:    "certs",
		riskLevel:   "Low",
	}
	s.created = append(s.created, rec)
	s.byRecordID[rec.recordID] = rec
	s.byRefID[refID] = rec
	return rec
}

func checkRefID(refID string) error {
	if refID == "" || len(refID) > 128 || strings.Contains(refID, "/") {
		return ErrBadRefID
	}
	return nil
}
