package idfy

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// WebhookPath is where KYC Desk receives IDfy webhooks (configured with
// IDfy by hand; there is no self-service API).
const WebhookPath = "/webhooks/idfy"

// Webhook events. The seed names two of IDfy's "four kinds" of webhooks;
// the body shape is NOT PUBLIC, so the event is read from an event, event_type
// or type key when one is there and inferred otherwise.
const (
	EventSessionUpdate       = "session_update"
	EventProfileStatusUpdate = "profile_status_update"
)

// Webhook is what KYC Desk reads from an IDfy webhook body: which profile to
// re-fetch, and the fields of the deduplication key. Nothing else in the body
// is trusted; the profile itself comes from GET /profiles/{id}.
type Webhook struct {
	Event          string
	ProfileID      string
	ReferenceID    string
	Status         string
	ReviewerAction string
}

// DeliveryKey is the deduplication key of a webhook: (profile_id, status,
// reviewer_action), stable across IDfy's retries (providers.md §6). Two
// webhooks with the same key trigger the same re-fetch, so dropping the
// second loses nothing.
func (w Webhook) DeliveryKey() string {
	return w.ProfileID + "|" + w.Status + "|" + w.ReviewerAction
}

type wireWebhook struct {
	ProfileID      lenientString   `json:"profile_id"`
	ReferenceID    lenientString   `json:"reference_id"`
	Status         lenientString   `json:"status"`
	ReviewerAction lenientString   `json:"reviewer_action"`
	Event          lenientString   `json:"event"`
	EventType      lenientString   `json:"event_type"`
	Type           lenientString   `json:"type"`
	Session        json.RawMessage `json:"session"`
	SessionID      json.RawMessage `json:"session_id"`
	SessionStatus  json.RawMessage `json:"session_status"`
	Profile        json.RawMessage `json:"profile"`
	Data           json.RawMessage `json:"data"`
}

// ParseWebhook reads an IDfy webhook body: a JSON object shaped like the Get
// Profile object (profile_id, reference_id, status, reviewer_action, ...),
// or carrying it under "profile" or "data". Unknown keys are ignored. A body
// without a profile_id is malformed (errors wrap providers.ErrMalformed).
func ParseWebhook(body []byte) (Webhook, error) {
	var w wireWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return Webhook{}, fmt.Errorf("idfy: webhook: %w", providers.ErrMalformed)
	}
	top := w
	for _, nested := range []json.RawMessage{w.Profile, w.Data} {
		if w.ProfileID != "" {
			break
		}
		if len(bytes.TrimSpace(nested)) > 0 && bytes.TrimSpace(nested)[0] == '{' {
			var inner wireWebhook
			if json.Unmarshal(nested, &inner) == nil && inner.ProfileID != "" {
				w = inner
			}
		}
	}
	out := Webhook{
		ProfileID:      strings.TrimSpace(string(w.ProfileID)),
		ReferenceID:    string(w.ReferenceID),
		Status:         string(w.Status),
		ReviewerAction: string(w.ReviewerAction),
		Event:          firstNonEmpty(string(top.Event), string(top.EventType), string(top.Type), string(w.Event), string(w.EventType), string(w.Type)),
	}
	if !validProfileID(out.ProfileID) {
		return Webhook{}, fmt.Errorf("idfy: webhook: no usable profile_id: %w", providers.ErrMalformed)
	}
	if out.Event == "" {
		out.Event = EventProfileStatusUpdate
		if present(top.Session) || present(top.SessionID) || present(top.SessionStatus) {
			out.Event = EventSessionUpdate
		}
	}
	return out, nil
}

// validProfileID accepts what a profile id can be (IDfy's are UUIDs):
// 1-128 letters, digits, '-', '_' or '.', and not a dot path segment. It is
// put into a request path, so nothing else passes.
func validProfileID(id string) bool {
	if id == "" || len(id) > 128 || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// VerifyInbound checks an IDfy webhook. IDfy publishes no signature scheme,
// so by default the delivery is a trigger (Verified false): the flow
// re-fetches the profile with our credentials and trusts only that. When a
// shared secret is configured, it must arrive in Config.WebhookHeader
// (compared in constant time) or the webhook is refused with
// providers.ErrBadSignature; a matching secret makes the delivery Verified
// (its origin, not its content: the flow still re-fetches). An encrypted
// body (encrypted_data) is decrypted first in encrypted mode. The profile to
// re-fetch is ParseWebhook(body).ProfileID. The sender's address is checked
// separately (AllowedRemote).
func (c *Client) VerifyInbound(h http.Header, body []byte, _ time.Time) (providers.Delivery, error) {
	verified := false
	if c.cfg.WebhookSecret != "" {
		if !secretEqual(h.Get(c.cfg.WebhookHeader), c.cfg.WebhookSecret) {
			return providers.Delivery{}, fmt.Errorf("idfy: webhook: shared secret header: %w", providers.ErrBadSignature)
		}
		verified = true
	}
	w, err := c.ParseWebhook(body)
	if err != nil {
		return providers.Delivery{}, err
	}
	return providers.Delivery{Provider: providers.IDfy, Event: w.Event, DeliveryKey: w.DeliveryKey(), Verified: verified}, nil
}

// ParseWebhook is the package ParseWebhook after decrypting an
// encrypted_data field (encrypted mode).
func (c *Client) ParseWebhook(body []byte) (Webhook, error) {
	plain, err := c.unseal(body)
	if err != nil {
		return Webhook{}, fmt.Errorf("idfy: webhook: %w", providers.ErrMalformed)
	}
	return ParseWebhook(plain)
}

// secretEqual compares in constant time, also in the length: both sides are
// hashed first.
func secretEqual(got, want string) bool {
	if got == "" {
		return false
	}
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// AllowedRemote reports whether a webhook sender's address is in allow; an
// empty list allows every address. remote is an address with or without a
// port (http.Request.RemoteAddr works); behind a proxy the caller passes the
// client address it trusts. An unreadable address is refused.
func AllowedRemote(allow []netip.Prefix, remote string) bool {
	if len(allow) == 0 {
		return true
	}
	remote = strings.TrimSpace(remote)
	addr, err := netip.ParseAddr(strings.Trim(remote, "[]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(remote)
		if perr != nil {
			return false
		}
		addr = ap.Addr()
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// AllowsRemote is AllowedRemote with the configured allow-list.
func (c *Client) AllowsRemote(remote string) bool {
	return AllowedRemote(c.cfg.AllowedIPs, remote)
}
