package verifyyou

import (
	"bytes"
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

// HeaderSignature carries the webhook signature: "sha256=" and the hex
// HMAC-SHA256 of the raw body under the shared secret.
const HeaderSignature = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// maxTransactionIDLen bounds a transaction_id used as a delivery key; a
// longer one falls back to the body digest.
const maxTransactionIDLen = 200

// maxEventLen bounds the {event} path segment and body event names.
const maxEventLen = 64

// Verifier authenticates VerifyYou webhooks with the shared secret. It
// implements providers.InboundVerifier.
type Verifier struct {
	secret []byte
}

// NewVerifier returns a verifier for secret. With an empty secret every
// webhook is refused.
func NewVerifier(secret string) *Verifier {
	return &Verifier{secret: []byte(secret)}
}

// VerifyInbound checks X-Hub-Signature-256 against the raw body in
// constant time and returns the delivery with its deduplication key.
//
// The seed's Python sample compares the bare hexdigest with the whole
// header value, "sha256=..." included, so it can never succeed; like the
// public v1 samples we strip the prefix first (a bare hex value is accepted
// too; any other algorithm prefix is not). The scheme carries no timestamp,
// so now is unused: freshness cannot be checked, and replays are caught by
// the inbox deduplicating on DeliveryKey.
func (v *Verifier) VerifyInbound(h http.Header, body []byte, now time.Time) (providers.Delivery, error) {
	if len(v.secret) == 0 {
		return providers.Delivery{}, fmt.Errorf("verifyyou: webhook: no webhook secret configured: %w", providers.ErrBadSignature)
	}
	sig := strings.TrimSpace(h.Get(HeaderSignature))
	if sig == "" {
		return providers.Delivery{}, fmt.Errorf("verifyyou: webhook: %s header missing: %w", HeaderSignature, providers.ErrBadSignature)
	}
	if len(sig) >= len(signaturePrefix) && strings.EqualFold(sig[:len(signaturePrefix)], signaturePrefix) {
		sig = sig[len(signaturePrefix):]
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return providers.Delivery{}, fmt.Errorf("verifyyou: webhook: %s is not sha256=<64 hex digits>: %w", HeaderSignature, providers.ErrBadSignature)
	}
	if !hmac.Equal(got, Sign(v.secret, body)) {
		return providers.Delivery{}, fmt.Errorf("verifyyou: webhook: signature mismatch: %w", providers.ErrBadSignature)
	}
	var msg webhookBody
	if err := decodeWebhook(body, &msg); err != nil {
		return providers.Delivery{}, err
	}
	return providers.Delivery{
		Provider:    providers.VerifyYou,
		Event:       msg.event(),
		DeliveryKey: deliveryKey(msg.TransactionID, body),
		Verified:    true,
	}, nil
}

// VerifyInbound authenticates a webhook with the client's webhook secret;
// see Verifier.VerifyInbound.
func (c *Client) VerifyInbound(h http.Header, body []byte, now time.Time) (providers.Delivery, error) {
	return c.verifier.VerifyInbound(h, body, now)
}

// Sign returns the HMAC-SHA256 of body under secret (the raw bytes that the
// header carries in hex).
func Sign(secret, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return mac.Sum(nil)
}

// deliveryKey is the transaction_id when the body has one (public v1; it
// stays the same across retries), otherwise a digest of the raw body: a
// seed webhook carries no id, and a retry resends the same bytes. Two
// distinct seed events with identical bodies (verified, deleted, verified
// again) share a key, so the caller should re-read the state with Refresh
// rather than trust the order of webhooks alone.
func deliveryKey(transactionID string, body []byte) string {
	if transactionID != "" && len(transactionID) <= maxTransactionIDLen {
		return "txn:" + transactionID
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// webhookBody is the seed's {"payload":{event,unique_id,reference_id}} and
// the public v1 envelope {transaction_id,user_id,reference_user_id,type,
// payload:{},created_at} in one shape.
type webhookBody struct {
	TransactionID   string `json:"transaction_id"`
	UserID          string `json:"user_id"`
	ReferenceUserID string `json:"reference_user_id"`
	Type            string `json:"type"`
	CreatedAt       string `json:"created_at"`
	Payload         struct {
		Event       string `json:"event"`
		UniqueID    string `json:"unique_id"`
		ReferenceID string `json:"reference_id"`
	} `json:"payload"`
}

func (b *webhookBody) event() string { return firstNonEmpty(b.Payload.Event, b.Type) }

func decodeWebhook(body []byte, msg *webhookBody) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("verifyyou: webhook: body is not a JSON object: %w", providers.ErrMalformed)
	}
	if err := json.Unmarshal(trimmed, msg); err != nil {
		return fmt.Errorf("verifyyou: webhook: decode body: %w", providers.ErrMalformed)
	}
	if e := msg.event(); e != "" && !validEvent(e) {
		return fmt.Errorf("verifyyou: webhook: event name not acceptable: %w", providers.ErrMalformed)
	}
	return nil
}

// ParseWebhook turns a verified webhook body into an update. event is the
// {event} path segment; the signed body's own event name (payload.event, or
// v1 type) wins over it when the two differ, because the path is not
// signed. connection_verified is approved, connection_deleted withdrawn,
// deverification blocked (see MapStatus); an event this adapter does not
// know is kept verbatim with status needs_review. A body naming neither
// the reference_id nor the unique_id is malformed.
func ParseWebhook(event string, body []byte) (providers.Update, error) {
	if event != "" && !validEvent(event) {
		return providers.Update{}, fmt.Errorf("verifyyou: webhook: event name not acceptable: %w", providers.ErrMalformed)
	}
	var msg webhookBody
	if err := decodeWebhook(body, &msg); err != nil {
		return providers.Update{}, err
	}
	name := firstNonEmpty(msg.event(), event)
	if name == "" {
		return providers.Update{}, fmt.Errorf("verifyyou: webhook: no event name: %w", providers.ErrMalformed)
	}
	u := providers.Update{
		Reference:      firstNonEmpty(msg.Payload.ReferenceID, msg.ReferenceUserID),
		ProviderRef:    firstNonEmpty(msg.Payload.UniqueID, msg.UserID),
		Event:          name,
		ProviderStatus: name,
	}
	if u.Reference == "" && u.ProviderRef == "" {
		return providers.Update{}, fmt.Errorf("verifyyou: webhook: %s names no user: %w", name, providers.ErrMalformed)
	}
	u.Status, _ = MapStatus(name)
	if msg.CreatedAt != "" {
		if at, err := time.Parse(time.RFC3339Nano, msg.CreatedAt); err == nil {
			u.At = at
		}
	}
	return u, nil
}

// validEvent accepts the event names VerifyYou uses (snake_case and v1's
// UPPER_CASE) and nothing that could smuggle a path or markup.
func validEvent(e string) bool {
	if len(e) == 0 || len(e) > maxEventLen {
		return false
	}
	for _, r := range e {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}
