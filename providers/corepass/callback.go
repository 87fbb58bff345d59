package corepass

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// Event names in Delivery.Event and Update.Event.
const (
	EventStatus = "status" // a statusCallback call
	EventData   = "data"   // the data (or error) callback
)

// statusCallback is the body the connector POSTs to statusCallback.
type statusCallback struct {
	callbackEnvelope
	Fields     []string `json:"fields"`
	Status     string   `json:"status"`
	Expiration int64    `json:"expiration"`
	TxHash     string   `json:"tx_hash"`
}

// callbackEnvelope is what both callbacks carry to be accepted at all:
// whose transfer it is and until when the signature holds.
type callbackEnvelope struct {
	User     string `json:"user"`
	Deadline int64  `json:"deadline"`
}

// decodeCallback unmarshals a verified callback body into cb (whose
// envelope is env) and checks the envelope: the deadline has not passed
// and the user is a Core ID. It returns the normalised Core ID.
func decodeCallback(body []byte, cb any, env *callbackEnvelope, now time.Time) (string, error) {
	if err := json.Unmarshal(body, cb); err != nil {
		return "", fmt.Errorf("%w: %v", providers.ErrMalformed, err)
	}
	if err := checkDeadline(env.Deadline, now); err != nil {
		return "", err
	}
	user, err := NormalizeCoreID(env.User)
	if err != nil {
		return "", fmt.Errorf("%w: user: %v", providers.ErrMalformed, err)
	}
	return user, nil
}

// dataCallback is the body of the data callback: infos on success, items
// and error on failure.
type dataCallback struct {
	callbackEnvelope
	Infos      []dataInfo `json:"infos"`
	Items      []string   `json:"items"`
	Error      string     `json:"error"`
	Expiration int64      `json:"expiration"`
}

type dataInfo struct {
	FieldID    string          `json:"fieldID"`
	FieldValue json.RawMessage `json:"fieldValue"`
	Pepper     string          `json:"pepper"`
}

// VerifyInbound implements providers.InboundVerifier for both CorePass
// endpoints: a JSON body with "status" and "fields" is a status callback,
// anything else (multipart/form-data or JSON) the data callback. It checks
// the pinned-key Ed448 signature and the deadline; the Delivery's key is
// stable across the connector's retries.
func (c *Client) VerifyInbound(h http.Header, body []byte, now time.Time) (providers.Delivery, error) {
	d, _, err := c.ParseInbound(h, body, now)
	return d, err
}

// ParseInbound is VerifyInbound that also returns the verified Update.
func (c *Client) ParseInbound(h http.Header, body []byte, now time.Time) (providers.Delivery, providers.Update, error) {
	ct := h.Get("Content-Type")
	if isStatusCallback(ct, body) {
		return c.parseStatus(body, now)
	}
	return c.parseData(ct, body, now)
}

// isStatusCallback tells the two callbacks apart when one endpoint receives
// both: only status callbacks are JSON objects with "status" and "fields".
func isStatusCallback(contentType string, body []byte) bool {
	if mt, _, _ := mime.ParseMediaType(contentType); strings.HasPrefix(mt, "multipart/") {
		return false
	}
	var probe struct {
		Status *string          `json:"status"`
		Fields *json.RawMessage `json:"fields"`
	}
	if json.Unmarshal(body, &probe) != nil {
		return false
	}
	return probe.Status != nil && probe.Fields != nil
}

// ParseStatusCallback verifies a statusCallback body (signature, pinned
// key, deadline) and returns it as an Update whose ProviderRef is the
// TransferRef of the user and the items behind the "fields" hashes (a hash
// of no known item is kept as is).
func (c *Client) ParseStatusCallback(body []byte, now time.Time) (providers.Update, error) {
	_, u, err := c.parseStatus(body, now)
	return u, err
}

func (c *Client) parseStatus(body []byte, now time.Time) (providers.Delivery, providers.Update, error) {
	fail := func(err error) (providers.Delivery, providers.Update, error) {
		return providers.Delivery{}, providers.Update{}, fmt.Errorf("corepass: status callback: %w", err)
	}
	msg, sig, err := splitSignature(body)
	if err != nil {
		return fail(err)
	}
	if err := verifyMessages([][]byte{msg}, sig, c.cfg.PubKey); err != nil {
		return fail(err)
	}
	var cb statusCallback
	user, err := decodeCallback(body, &cb, &cb.callbackEnvelope, now)
	if err != nil {
		return fail(err)
	}
	if cb.Status == "" {
		return fail(fmt.Errorf("%w: no status", providers.ErrMalformed))
	}

	items := make([]string, 0, len(cb.Fields))
	for _, f := range cb.Fields {
		if it, ok := ItemForFieldHash(f); ok {
			items = append(items, it)
		} else {
			items = append(items, strings.ToLower(f))
		}
	}
	u := providers.Update{
		ProviderRef:    TransferRef(user, items),
		Event:          EventStatus,
		ProviderStatus: cb.Status,
		Status:         MapStatus(cb.Status),
		TxHash:         cb.TxHash,
		At:             now.UTC(),
	}
	if u.Status == providers.StatusFailed {
		u.Reason = "CorePass transfer failed: " + cb.Status + " (" + DescribeStatus(cb.Status) + ")"
	}
	if cb.TxHash != "" {
		u.Certificates = append(u.Certificates, txCertificate(cb.Status, cb.TxHash))
	}
	d := providers.Delivery{Provider: providers.CorePass, Event: EventStatus, DeliveryKey: statusDeliveryKey(user, cb), Verified: true}
	return d, u, nil
}

// statusDeliveryKey deduplicates status callbacks on (user, fields,
// status, tx_hash) as providers.md advises, plus the QR expiration: it is
// the same in every retry of one callback but tells two transfers of the
// same user and items apart (a PENDING or ACCEPTED carries no tx_hash).
func statusDeliveryKey(user string, cb statusCallback) string {
	fields := slices.Clone(cb.Fields)
	for i := range fields {
		fields[i] = strings.ToLower(fields[i])
	}
	slices.Sort(fields)
	return digestKey(EventStatus, user, strings.Join(fields, ","), cb.Status, cb.TxHash, strconv.FormatInt(cb.Expiration, 10))
}

// ParseDataCallback verifies the data callback (multipart/form-data as the
// CorePass document says, or plain JSON) and returns its Update: on
// success each info as an Attribute (meaning, item name, value, pepper),
// images also as a Document, status needs_review; on the error form
// (INITIATED_FAILED, VALIDITY_FAILED, CONFIRM(ED)_FAILED) status failed
// with the reason.
func (c *Client) ParseDataCallback(contentType string, body []byte, now time.Time) (providers.Update, error) {
	_, u, err := c.parseData(contentType, body, now)
	return u, err
}

func (c *Client) parseData(contentType string, body []byte, now time.Time) (providers.Delivery, providers.Update, error) {
	fail := func(err error) (providers.Delivery, providers.Update, error) {
		return providers.Delivery{}, providers.Update{}, fmt.Errorf("corepass: data callback: %w", err)
	}
	doc, err := dataCallbackJSON(contentType, body)
	if err != nil {
		return fail(err)
	}
	msgs, sig, err := dataCallbackMessages(doc)
	if err != nil {
		return fail(err)
	}
	if err := verifyMessages(msgs, sig, c.cfg.PubKey); err != nil {
		return fail(err)
	}
	var cb dataCallback
	user, err := decodeCallback(doc, &cb, &cb.callbackEnvelope, now)
	if err != nil {
		return fail(err)
	}
	d := providers.Delivery{Provider: providers.CorePass, Event: EventData, DeliveryKey: dataDeliveryKey(user, cb), Verified: true}

	if cb.Error != "" {
		u := providers.Update{
			ProviderRef:    TransferRef(user, itemNames(cb.Items)),
			Event:          EventData,
			ProviderStatus: cb.Error,
			Status:         providers.StatusFailed,
			Reason:         "CorePass transfer failed: " + cb.Error + " (" + DescribeStatus(cb.Error) + ")",
			At:             now.UTC(),
		}
		return d, u, nil
	}
	if len(cb.Infos) == 0 {
		return fail(fmt.Errorf("%w: neither infos nor error", providers.ErrMalformed))
	}

	u := providers.Update{
		Event:          EventData,
		ProviderStatus: StatusDataReceived,
		Status:         MapStatus(StatusDataReceived),
		At:             now.UTC(),
	}
	items := make([]string, 0, len(cb.Infos))
	for _, in := range cb.Infos {
		item := itemName1(in.FieldID)
		items = append(items, item)
		meaning, _, _ := MeaningOf(item)
		value := infoValue(in.FieldValue)
		attr := providers.Attribute{Meaning: meaning, Name: item, Value: value, Pepper: in.Pepper}
		if IsImage(item) {
			if img, ok := decodeImage(value); ok {
				u.Documents = append(u.Documents, providers.Document{Name: item, ContentType: http.DetectContentType(img), Data: img})
				attr.Value = "" // the image is in Documents under the same name
			}
		}
		if meaning == MeaningAMLCheck && len(value) <= 64 {
			u.Certificates = append(u.Certificates, providers.Certificate{Name: item, Value: value})
		}
		u.Attributes = append(u.Attributes, attr)
	}
	u.ProviderRef = TransferRef(user, items)
	return d, u, nil
}

// dataDeliveryKey is derived from the signed content without the deadline,
// which a re-signed retry of the same data may change.
func dataDeliveryKey(user string, cb dataCallback) string {
	parts := []string{user, strconv.FormatInt(cb.Expiration, 10), cb.Error}
	items := itemNames(cb.Items)
	slices.Sort(items)
	parts = append(parts, strings.Join(items, ","))
	infos := slices.Clone(cb.Infos)
	slices.SortStableFunc(infos, func(a, b dataInfo) int { return strings.Compare(a.FieldID, b.FieldID) })
	for _, in := range infos {
		parts = append(parts, in.FieldID, infoValue(in.FieldValue), in.Pepper)
	}
	return digestKey(EventData, parts...)
}

func digestKey(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil))
}

// itemName1 accepts an item name or its field hash.
func itemName1(id string) string {
	if it, ok := ItemForFieldHash(id); ok {
		return it
	}
	return id
}

func itemNames(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = itemName1(id)
	}
	return out
}

// infoValue is the fieldValue as text: a JSON string unquoted, anything
// else (a number, a boolean) as its compact JSON.
func infoValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}
