package blockpass

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// The seven webhook events a KYC Connect service can subscribe to
// (providers.md §1.5).
const (
	EventUserCreated       = "user.created"
	EventUserReadyToReview = "user.readyToReview"
	EventReviewApproved    = "review.approved"
	EventUserInReview      = "user.inReview"
	EventReviewRejected    = "review.rejected"
	EventUserBlocked       = "user.blocked"
	EventUserDeleted       = "user.deleted"
)

// Webhook headers.
const (
	HeaderSignature = "X-Hub-Signature"
	HeaderDelivery  = "X-Blockpass-Delivery"
	HeaderEvent     = "X-Blockpass-Event"
	// HeaderEvents is the spelling one documentation page uses.
	HeaderEvents = "X-Blockpass-Events"
)

// Events lists the documented webhook events.
func Events() []string {
	return []string{EventUserCreated, EventUserReadyToReview, EventReviewApproved, EventUserInReview,
		EventReviewRejected, EventUserBlocked, EventUserDeleted}
}

// KnownEvent reports whether name is one of Events.
func KnownEvent(name string) bool {
	for _, e := range Events() {
		if e == name {
			return true
		}
	}
	return false
}

// Event is a parsed webhook body. Webhooks carry no personal data: re-fetch
// the candidate by RecordID (or RefID) for the details.
type Event struct {
	Name        string `json:"event"`
	GUID        string `json:"guid"`
	Status      string `json:"status"`
	ClientID    string `json:"clientId"`
	RecordID    string `json:"recordId"`
	RefID       string `json:"refId"`
	BlockPassID string `json:"blockPassID"`
	SubmitCount int    `json:"submitCount"`
	IsArchived  bool   `json:"isArchived"`
	IsPing      bool   `json:"isPing"`
	Env         string `json:"env"`

	WaitingDate  Date `json:"waitingDate"`
	InreviewDate Date `json:"inreviewDate"`
	ApprovedDate Date `json:"approvedDate"`
}

// ParseWebhook decodes a webhook body (unknown fields ignored). It fails
// with providers.ErrMalformed when the body is not a JSON object or names
// neither an event nor a ping.
func ParseWebhook(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("blockpass: webhook: %w: %v", providers.ErrMalformed, err)
	}
	if e.Name == "" && !e.IsPing {
		return Event{}, fmt.Errorf("blockpass: webhook: %w: no event", providers.ErrMalformed)
	}
	return e, nil
}

// Update is what the event says about the verification: the status the
// body carries (user.deleted is withdrawn whatever the last status was), and
// the ids to re-fetch with. It carries no personal data.
func (e Event) Update() providers.Update {
	u := providers.Update{
		Reference:      e.RefID,
		ProviderRef:    e.RecordID,
		Event:          e.Name,
		ProviderStatus: e.Status,
	}
	switch {
	case e.Name == EventUserDeleted:
		u.Status = providers.StatusWithdrawn
		if u.ProviderStatus == "" {
			u.ProviderStatus = EventUserDeleted
		}
	case e.Status != "":
		u.Status = MapStatus(e.Status)
	default:
		u.ProviderStatus = eventStatus(e.Name)
		u.Status = MapStatus(u.ProviderStatus)
	}
	for _, d := range []Date{e.WaitingDate, e.InreviewDate, e.ApprovedDate} {
		if d.After(u.At) {
			u.At = d.Time
		}
	}
	return u
}

// eventStatus is the status an event implies when the body omits it.
func eventStatus(event string) string {
	switch event {
	case EventUserCreated:
		return StatusIncomplete
	case EventUserReadyToReview:
		return StatusWaiting
	case EventUserInReview:
		return StatusInReview
	case EventReviewApproved:
		return StatusApproved
	case EventReviewRejected:
		return StatusRejected
	case EventUserBlocked:
		return StatusBlocked
	}
	return ""
}

// Verifier checks Blockpass webhooks against the service's endpoint secret.
type Verifier struct {
	secret []byte
}

// NewVerifier returns a verifier for secret. With an empty secret every
// webhook is refused: Blockpass only signs when a secret is configured, and
// an unsigned webhook is not one we act on.
func NewVerifier(secret string) *Verifier {
	return &Verifier{secret: []byte(secret)}
}

var _ providers.InboundVerifier = (*Verifier)(nil)

// VerifyInbound checks X-Hub-Signature (see CheckSignature), then parses
// the body: one that is not a JSON object, or names no event in the body
// nor in X-Blockpass-Event(s), is providers.ErrMalformed. The delivery key
// is X-Blockpass-Delivery, else the body's guid, else the body's SHA-256
// (identical retries still collapse). Pings come back with Ping set.
// Blockpass webhooks carry no timestamp, so now is unused: replays are
// caught by the delivery key.
func (v *Verifier) VerifyInbound(h http.Header, body []byte, _ time.Time) (providers.Delivery, error) {
	if err := CheckSignature(v.secret, h.Get(HeaderSignature), body); err != nil {
		return providers.Delivery{}, err
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return providers.Delivery{}, fmt.Errorf("blockpass: webhook: %w: %v", providers.ErrMalformed, err)
	}
	name := e.Name
	for _, hdr := range []string{HeaderEvent, HeaderEvents} {
		if name == "" {
			name = strings.TrimSpace(h.Get(hdr))
		}
	}
	if name == "" && !e.IsPing {
		return providers.Delivery{}, fmt.Errorf("blockpass: webhook: %w: no event", providers.ErrMalformed)
	}
	key := strings.TrimSpace(h.Get(HeaderDelivery))
	if key == "" {
		key = e.GUID
	}
	if key == "" {
		sum := sha256.Sum256(body)
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return providers.Delivery{Provider: providers.Blockpass, Event: name, DeliveryKey: key, Verified: true, Ping: e.IsPing}, nil
}

// CheckSignature checks one X-Hub-Signature value against body: the hex
// HMAC-SHA256 of the raw body keyed with secret, with or without a
// "sha256=" prefix (the docs say "hex digest"; integrators send the
// prefixed form), compared in constant time. An empty secret fails: an
// unsigned webhook is not one we act on.
func CheckSignature(secret []byte, header string, body []byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("blockpass: webhook: %w: no webhook secret configured", providers.ErrBadSignature)
	}
	got := strings.TrimSpace(header)
	if got == "" {
		return fmt.Errorf("blockpass: webhook: %w: no %s header", providers.ErrBadSignature, HeaderSignature)
	}
	if len(got) > 7 && strings.EqualFold(got[:7], "sha256=") {
		got = got[7:]
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("blockpass: webhook: %w: signature is not hex", providers.ErrBadSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("blockpass: webhook: %w", providers.ErrBadSignature)
	}
	return nil
}
