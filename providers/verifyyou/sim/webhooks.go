package sim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// HeaderSignature is the webhook signature header (seed).
const HeaderSignature = "X-Hub-Signature-256"

// Delivery records one webhook and how its tries went.
type Delivery struct {
	Event     string
	URL       string
	Body      []byte
	Signature string // the X-Hub-Signature-256 value sent
	Attempts  int
	// Status is the HTTP status of the last try (0 when it got none).
	Status    int
	Delivered bool   // a try got a 2xx
	Err       string // the last transport error, or why nothing was sent
}

// Deliveries lists every webhook the simulator sent or tried, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

type webhookPayload struct {
	Event       string `json:"event"`
	UniqueID    string `json:"unique_id"`
	ReferenceID string `json:"reference_id"`
}

// webhookBody is the seed's body; transaction_id is the public v1 addition
// (omitted with Config.OmitTransactionID).
type webhookBody struct {
	TransactionID string         `json:"transaction_id,omitempty"`
	Payload       webhookPayload `json:"payload"`
}

func (s *Server) webhookBody(event string, u *user) ([]byte, error) {
	b := webhookBody{Payload: webhookPayload{Event: event, UniqueID: u.UniqueID, ReferenceID: u.ReferenceID}}
	if !s.cfg.OmitTransactionID {
		id, err := s.uuid()
		if err != nil {
			return nil, err
		}
		b.TransactionID = "ewh:" + id
	}
	return json.Marshal(b)
}

// sign is "sha256=" and the hex HMAC-SHA256 of body under the secret.
func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// deliver POSTs body to <WebhookBaseURL>/<event>, trying up to MaxAttempts
// times with a doubling wait until the receiver answers 2xx. Every try
// sends the same bytes and signature.
func (s *Server) deliver(ctx context.Context, event string, body []byte) Delivery {
	d := Delivery{Event: event, Body: body, Signature: sign(s.cfg.WebhookSecret, body)}
	if s.cfg.WebhookBaseURL == "" {
		d.Err = "no webhook URL configured"
		return d
	}
	d.URL = strings.TrimRight(s.cfg.WebhookBaseURL, "/") + "/" + event
	wait := s.cfg.RetryBackoff
	for attempt := 1; attempt <= s.cfg.MaxAttempts; attempt++ {
		if attempt > 1 {
			if err := s.cfg.Sleep(ctx, wait); err != nil {
				d.Err = err.Error()
				return d
			}
			wait *= 2
		}
		d.Attempts = attempt
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
		if err != nil {
			d.Err = err.Error()
			return d
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderSignature, d.Signature)
		resp, err := s.cfg.HTTPClient.Do(req)
		if err != nil {
			d.Status, d.Err = 0, err.Error()
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		d.Status, d.Err = resp.StatusCode, ""
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			d.Delivered = true
			return d
		}
	}
	return d
}
