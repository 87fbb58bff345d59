package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Webhook events, as Blockpass names them.
const (
	EventUserCreated       = "user.created"
	EventUserReadyToReview = "user.readyToReview"
	EventReviewApproved    = "review.approved"
	EventUserInReview      = "user.inReview"
	EventReviewRejected    = "review.rejected"
	EventUserBlocked       = "user.blocked"
	EventUserDeleted       = "user.deleted"
)

// ErrDelivery wraps a webhook the target did not accept with a 2xx. The
// change that caused it has happened all the same.
var ErrDelivery = errors.New("webhook not delivered")

// Delivery is one webhook the simulator sent (or would have sent).
type Delivery struct {
	GUID     string
	Event    string
	RecordID string
	RefID    string
	Ping     bool
	Body     []byte
	Header   http.Header
	// Attempts counts sends, Redeliver included; StatusCode and Err are the
	// last attempt's (StatusCode 0 when no webhook URL is configured).
	Attempts   int
	StatusCode int
	Err        string
}

// webhookBody is the on-prem variant of the body, the fuller one, which the
// cloud sample is a subset of.
type webhookBody struct {
	GUID         string  `json:"guid"`
	Status       string  `json:"status"`
	ClientID     string  `json:"clientId"`
	Event        string  `json:"event"`
	RecordID     string  `json:"recordId"`
	RefID        string  `json:"refId"`
	SubmitCount  int     `json:"submitCount"`
	BlockPassID  string  `json:"blockPassID"`
	IsArchived   bool    `json:"isArchived"`
	InreviewDate *string `json:"inreviewDate"`
	WaitingDate  *string `json:"waitingDate"`
	ApprovedDate *string `json:"approvedDate"`
	IsPing       bool    `json:"isPing"`
	Env          string  `json:"env"`
	WebhookID    *string `json:"webhookId"`
}

// queueLocked builds the webhook for event about r (nil for a ping),
// signs it and records it; the caller sends it after unlocking.
func (s *Server) queueLocked(event string, r *record, now time.Time) int {
	s.nextID++
	guid := fmt.Sprintf("%08x%016x", guidPrefix, s.nextID)
	b := webhookBody{GUID: guid, ClientID: s.cfg.ClientID, Event: event, Env: "sandbox"}
	if r != nil {
		b.Status, b.RecordID, b.RefID = r.status, r.recordID, r.refID
		b.SubmitCount, b.BlockPassID, b.IsArchived = r.submitCount, r.blockPassID, r.archivedAt(now)
		b.InreviewDate, b.WaitingDate, b.ApprovedDate = wireDate(r.inreview), wireDate(r.waiting), wireDate(r.approved)
	} else {
		b.IsPing = true
	}
	body, err := json.Marshal(b)
	if err != nil {
		panic(err) // a struct of strings, ints and bools always encodes
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Blockpass-Event", event)
	h.Set("X-Blockpass-Delivery", guid)
	if s.cfg.WebhookSecret != "" {
		mac := hmac.New(sha256.New, []byte(s.cfg.WebhookSecret))
		mac.Write(body)
		sig := hex.EncodeToString(mac.Sum(nil))
		if s.cfg.SignatureWithPrefix {
			sig = "sha256=" + sig
		}
		h.Set("X-Hub-Signature", sig)
	}
	s.deliveries = append(s.deliveries, Delivery{GUID: guid, Event: event, RecordID: b.RecordID, RefID: b.RefID, Ping: b.IsPing, Body: body, Header: h})
	return len(s.deliveries) - 1
}

// send posts the queued deliveries at idx, in order, and records the
// outcome. It must be called without s.mu held: the receiver may call the
// API back before it answers.
func (s *Server) send(idx ...int) error {
	var errs []error
	for _, i := range idx {
		s.mu.Lock()
		d := s.deliveries[i]
		s.mu.Unlock()
		status, err := s.post(d)
		s.mu.Lock()
		s.deliveries[i].Attempts++
		s.deliveries[i].StatusCode = status
		s.deliveries[i].Err = ""
		if err != nil {
			s.deliveries[i].Err = err.Error()
			errs = append(errs, fmt.Errorf("%w: %s %s: %v", ErrDelivery, d.Event, d.GUID, err))
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (s *Server) post(d Delivery) (int, error) {
	if s.cfg.WebhookURL == "" {
		return 0, nil
	}
	req, err := http.NewRequest(http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header = d.Header.Clone()
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// Deliveries lists every webhook sent so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	copy(out, s.deliveries)
	return out
}

// Redeliver sends the webhook with guid again, byte for byte (Blockpass
// retries a delivery that was not acknowledged).
func (s *Server) Redeliver(guid string) error {
	s.mu.Lock()
	idx := -1
	for i, d := range s.deliveries {
		if d.GUID == guid {
			idx = i
		}
	}
	s.mu.Unlock()
	if idx < 0 {
		return fmt.Errorf("blockpass sim: redeliver: %w", ErrNotFound)
	}
	return s.send(idx)
}

// Ping sends a test webhook, as the console's test button: a user.created
// body with isPing true and no candidate.
func (s *Server) Ping() error {
	s.mu.Lock()
	idx := s.queueLocked(EventUserCreated, nil, s.cfg.Now())
	s.mu.Unlock()
	return s.send(idx)
}
