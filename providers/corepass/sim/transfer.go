package sim

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers/corepass"
)

// Errors of the end-user controls.
var (
	ErrUnknownTransfer = errors.New("corepass sim: no such transfer")
	ErrNotPending      = errors.New("corepass sim: the transfer is no longer waiting for the user")
	ErrTransferExpired = errors.New("corepass sim: the transfer request has expired")
	ErrUnknownStep     = errors.New("corepass sim: unknown failure step (want INITIATED_FAILED, VALIDITY_FAILED or CONFIRM_FAILED)")
)

// FailSteps are the steps "fail at step X" can fail at.
func FailSteps() []string {
	return []string{corepass.StatusInitiatedFailed, corepass.StatusValidityFailed, corepass.StatusConfirmFailed}
}

// StatusEntry is one status a transfer went through.
type StatusEntry struct {
	Status    string
	CreatedAt time.Time
	TxHash    string
}

// Transfer is a snapshot of one KYC-transfer request.
type Transfer struct {
	ID             string
	User           string
	Items          []string
	Callback       string
	StatusCallback string
	Expiration     time.Time
	Link           string
	Statuses       []StatusEntry // oldest first
	// Expired is set by "let expire" or when the expiration passed while
	// the transfer was still PENDING.
	Expired bool
	// Callback bookkeeping, for tests and the page.
	StatusCallbacksSent   int
	StatusCallbackErrors  int
	DataAttempts          int
	DataDelivered         bool
	DataDeliveryAbandoned bool
}

// Status is the transfer's latest status.
func (t Transfer) Status() string {
	if len(t.Statuses) == 0 {
		return ""
	}
	return t.Statuses[len(t.Statuses)-1].Status
}

type transfer struct {
	Transfer
	qrPNG   []byte
	created time.Time
	txs     [2]string         // the initiate and the confirm transaction
	peppers map[string]string // per item, fixed for the transfer
}

func (t *transfer) snapshot() Transfer {
	c := t.Transfer
	c.Items = slices.Clone(t.Items)
	c.Statuses = slices.Clone(t.Statuses)
	return c
}

// ongoing: reached INITIATE_SUBMITTED but not FINISH_* (the document's
// definition for the "ongoing request" 400).
func (t *transfer) ongoing() bool {
	submitted, finished := false, false
	for _, st := range t.Statuses {
		switch st.Status {
		case corepass.StatusInitiateSubmitted:
			submitted = true
		case corepass.StatusFinishSuccess, corepass.StatusFinishFailed:
			finished = true
		}
	}
	return submitted && !finished
}

// open: still waiting for the user and not expired.
func (t *transfer) open(now time.Time) bool {
	return t.Status() == corepass.StatusPending && !t.Expired && !now.After(t.Expiration)
}

func itemsKey(user string, items []string) string {
	s := slices.Clone(items)
	slices.Sort(s)
	return user + "|" + strings.Join(slices.Compact(s), ",")
}

// Transfer returns a snapshot of one transfer.
func (s *Server) Transfer(id string) (Transfer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.transfers[id]
	if !ok {
		return Transfer{}, false
	}
	return t.snapshot(), true
}

// Transfers returns snapshots of every transfer, oldest first.
func (s *Server) Transfers() []Transfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Transfer, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.transfers[id].snapshot())
	}
	return out
}

// latestLocked is the newest transfer for user and items within the past
// month (what kyc/status reports on), or nil.
func (s *Server) latestLocked(user string, items []string) *transfer {
	key := itemsKey(user, items)
	monthAgo := s.cfg.Now().AddDate(0, -1, 0)
	for i := len(s.order) - 1; i >= 0; i-- {
		t := s.transfers[s.order[i]]
		if itemsKey(t.User, t.Items) == key && t.created.After(monthAgo) {
			return t
		}
	}
	return nil
}

// Accept is the user accepting the request in the CorePass app: the
// transfer walks through every status in order with a signed status
// callback for each, then the signed data callback goes to the callback
// URL. If the receiver does not answer 200, the data callback is retried
// in the background every RetryInterval, up to MaxAttempts in all.
func (s *Server) Accept(ctx context.Context, id string) error {
	t, err := s.begin(ctx, id)
	if err != nil {
		return err
	}
	steps := []string{corepass.StatusInitiateSubmitted, corepass.StatusInitiated, corepass.StatusKYCReceived,
		corepass.StatusValidityCheck, corepass.StatusValiditySucceed, corepass.StatusConfirmSubmitted, corepass.StatusConfirmed}
	for _, st := range steps {
		s.advance(ctx, t, st)
	}
	body, contentType, err := s.dataCallback(t)
	if err != nil {
		return err
	}
	if s.sendData(ctx, t, body, contentType) {
		s.dataDelivered(ctx, t)
		return nil
	}
	s.advance(ctx, t, corepass.StatusCallbackFailed)
	s.retryData(t, func() ([]byte, string, error) { return s.dataCallback(t) }, func(ctx context.Context) { s.dataDelivered(ctx, t) })
	return nil
}

func (s *Server) dataDelivered(ctx context.Context, t *transfer) {
	s.advance(ctx, t, corepass.StatusCallbackSucceed)
	s.advance(ctx, t, corepass.StatusFinishSuccess)
}

// Fail walks the transfer to the failure step (INITIATED_FAILED,
// VALIDITY_FAILED or CONFIRM_FAILED), sends the signed error callback and
// ends with FINISH_FAILED.
func (s *Server) Fail(ctx context.Context, id, step string) error {
	var steps []string
	switch step {
	case corepass.StatusInitiatedFailed:
		steps = []string{corepass.StatusInitiateSubmitted}
	case corepass.StatusValidityFailed:
		steps = []string{corepass.StatusInitiateSubmitted, corepass.StatusInitiated, corepass.StatusKYCReceived, corepass.StatusValidityCheck}
	case corepass.StatusConfirmFailed:
		steps = []string{corepass.StatusInitiateSubmitted, corepass.StatusInitiated, corepass.StatusKYCReceived,
			corepass.StatusValidityCheck, corepass.StatusValiditySucceed, corepass.StatusConfirmSubmitted}
	default:
		return ErrUnknownStep
	}
	t, err := s.begin(ctx, id)
	if err != nil {
		return err
	}
	for _, st := range append(steps, step) {
		s.advance(ctx, t, st)
	}
	build := func() ([]byte, string, error) { return s.errorCallback(t, step) }
	body, contentType, err := build()
	if err != nil {
		return err
	}
	delivered := s.sendData(ctx, t, body, contentType)
	s.advance(ctx, t, corepass.StatusFinishFailed)
	if !delivered {
		s.retryData(t, build, func(context.Context) {})
	}
	return nil
}

// Expire is the user letting the request lapse. Nothing is sent: the
// connector documents no expired status or callback; the transfer stays
// PENDING, Accept refuses it, and a new kyc/qrcode request for the same
// user and items starts a new transfer.
func (s *Server) Expire(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.transfers[id]
	if !ok {
		return ErrUnknownTransfer
	}
	if t.Status() != corepass.StatusPending {
		return ErrNotPending
	}
	t.Expired = true
	return nil
}

// begin moves a PENDING, unexpired transfer to ACCEPTED under the lock, so
// that two clicks cannot both drive it; the ACCEPTED callback follows.
func (s *Server) begin(ctx context.Context, id string) (*transfer, error) {
	s.mu.Lock()
	t, ok := s.transfers[id]
	if !ok {
		s.mu.Unlock()
		return nil, ErrUnknownTransfer
	}
	now := s.cfg.Now()
	switch {
	case t.Status() != corepass.StatusPending:
		s.mu.Unlock()
		return nil, ErrNotPending
	case t.Expired || now.After(t.Expiration):
		t.Expired = true
		s.mu.Unlock()
		return nil, ErrTransferExpired
	}
	var err error
	for i := range t.txs {
		if t.txs[i], err = s.randomHex(32); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		t.txs[i] = "0x" + t.txs[i]
	}
	t.peppers = make(map[string]string, len(t.Items))
	for _, it := range t.Items {
		if t.peppers[it], err = s.pepper(t.User, it); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
	s.mu.Unlock()
	s.advance(ctx, t, corepass.StatusAccepted)
	return t, nil
}

// advance records a status and sends its signed status callback.
func (s *Server) advance(ctx context.Context, t *transfer, status string) {
	s.mu.Lock()
	entry := StatusEntry{Status: status, CreatedAt: s.cfg.Now().UTC(), TxHash: txHashFor(t, status)}
	t.Statuses = append(t.Statuses, entry)
	s.mu.Unlock()
	s.sendStatus(ctx, t, entry)
}

// txHashFor: the initiate transaction for INITIATE_SUBMITTED and
// VALIDITY_*; the confirm transaction for CONFIRM_SUBMITTED and after; the
// last one sent for CALLBACK_* and FINISH_*. Other statuses carry none
// (CorePass document, statusCallback section).
func txHashFor(t *transfer, status string) string {
	confirmed := slices.ContainsFunc(t.Statuses, func(e StatusEntry) bool { return e.Status == corepass.StatusConfirmSubmitted })
	switch status {
	case corepass.StatusInitiateSubmitted, corepass.StatusValidityCheck, corepass.StatusValiditySucceed:
		return t.txs[0]
	case corepass.StatusConfirmSubmitted:
		return t.txs[1]
	case corepass.StatusCallbackSucceed, corepass.StatusCallbackFailed, corepass.StatusFinishSuccess, corepass.StatusFinishFailed:
		if confirmed {
			return t.txs[1]
		}
		return t.txs[0]
	}
	return ""
}

func (s *Server) randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("corepass sim: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
