package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Delivery records one webhook the simulator sent.
type Delivery struct {
	ProfileID string
	Event     string // "session_update" or "profile_status_update"
	Body      []byte
	Status    int // the receiver's HTTP status, 0 on a transport error
	Err       string
	At        time.Time
}

// profileStatusBody is a Profile Status Update. IDfy's body is NOT PUBLIC;
// integrators read it like the Get Profile object, so the simulator sends
// that object's identifying fields (no resources, no PII) and no event key:
// receivers must cope with either.
type profileStatusBody struct {
	ProfileID      string  `json:"profile_id"`
	ReferenceID    string  `json:"reference_id"`
	Status         string  `json:"status"`
	ReviewerAction *string `json:"reviewer_action"`
}

// sessionBody is a Session Update: the profile fields plus the session that
// ended, successfully ("completed") or not ("cancelled").
type sessionBody struct {
	profileStatusBody
	Session struct {
		Status string `json:"status"`
	} `json:"session"`
}

func reviewerAction(p *profile) *string {
	if p.reviewerAction == "" {
		return nil
	}
	v := p.reviewerAction
	return &v
}

func profileHook(p *profile) any {
	return profileStatusBody{ProfileID: p.id, ReferenceID: p.ref, Status: p.status, ReviewerAction: reviewerAction(p)}
}

func sessionHook(p *profile, status string) any {
	b := sessionBody{profileStatusBody: profileStatusBody{ProfileID: p.id, ReferenceID: p.ref, Status: p.status, ReviewerAction: reviewerAction(p)}}
	b.Session.Status = status
	return b
}

// sendWebhook POSTs body to the configured URL once and records the
// delivery. No URL configured sends nothing.
func (s *Server) sendWebhook(ctx context.Context, profileID string, body any) error {
	if s.cfg.WebhookURL == "" {
		return nil
	}
	event := "profile_status_update"
	if _, ok := body.(sessionBody); ok {
		event = "session_update"
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("idfy sim: webhook: encode: %w", err)
	}
	d := Delivery{ProfileID: profileID, Event: event, Body: raw, At: s.cfg.Now()}
	defer func() {
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(raw))
	if err != nil {
		d.Err = err.Error()
		return fmt.Errorf("idfy sim: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.WebhookSecret != "" {
		req.Header.Set(s.cfg.WebhookHeader, s.cfg.WebhookSecret)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		d.Err = err.Error()
		return fmt.Errorf("idfy sim: webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	d.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		d.Err = resp.Status
		return fmt.Errorf("idfy sim: webhook: receiver answered %s", resp.Status)
	}
	return nil
}

// Deliveries lists the webhooks sent so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}
