package sim

import (
	"bytes"
	"context"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/kycdesk/kycdesk/providers/corepass"
)

// callbackDeadline is how long a callback stays valid ("3 minutes").
const callbackDeadline = 3 * time.Minute

// The connector is a Go program: it json.Marshals a struct whose fields
// are in the documented order, signs SHA3-256 of those bytes, and sends
// the same struct with the signature added. These types mirror that; the
// adapter's verifier reconstructs the message generically, so the two meet
// only through the wire format.

type statusSigned struct {
	User       string   `json:"user"`
	Fields     []string `json:"fields"`
	Status     string   `json:"status"`
	Expiration int64    `json:"expiration"`
	Deadline   int64    `json:"deadline"`
	TxHash     string   `json:"tx_hash,omitempty"`
}

// statusSent puts the signature where the document's samples have it:
// after deadline, before tx_hash.
type statusSent struct {
	User       string   `json:"user"`
	Fields     []string `json:"fields"`
	Status     string   `json:"status"`
	Expiration int64    `json:"expiration"`
	Deadline   int64    `json:"deadline"`
	Signature  string   `json:"signature"`
	TxHash     string   `json:"tx_hash,omitempty"`
}

type info struct {
	FieldID    string `json:"fieldID"`
	FieldValue string `json:"fieldValue"`
	Pepper     string `json:"pepper"`
}

type dataSigned struct {
	User       string `json:"user"`
	Infos      []info `json:"infos"`
	Deadline   int64  `json:"deadline"`
	Expiration int64  `json:"expiration"`
}

type dataSent struct {
	User       string `json:"user"`
	Infos      []info `json:"infos"`
	Deadline   int64  `json:"deadline"`
	Expiration int64  `json:"expiration"`
	Signature  string `json:"signature"`
}

type errorSigned struct {
	User       string   `json:"user"`
	Items      []string `json:"items"`
	Error      string   `json:"error"`
	Deadline   int64    `json:"deadline"`
	Expiration int64    `json:"expiration"`
}

type errorSent struct {
	User       string   `json:"user"`
	Items      []string `json:"items"`
	Error      string   `json:"error"`
	Deadline   int64    `json:"deadline"`
	Expiration int64    `json:"expiration"`
	Signature  string   `json:"signature"`
}

// sign returns base64(Ed448(SHA3-256(msg), empty context) ‖ public key).
func (s *Server) sign(msg []byte) string {
	digest := sha3.Sum256(msg)
	sig := ed448.Sign(s.priv, digest[:], "")
	return base64.StdEncoding.EncodeToString(append(sig, s.priv.Public().(ed448.PublicKey)...))
}

func (s *Server) sendStatus(ctx context.Context, t *transfer, e StatusEntry) {
	fields := make([]string, len(t.Items))
	for i, it := range t.Items {
		fields[i] = corepass.FieldHash(it)
	}
	signed := statusSigned{User: t.User, Fields: fields, Status: e.Status, Expiration: t.Expiration.Unix(),
		Deadline: s.cfg.Now().Add(callbackDeadline).Unix(), TxHash: e.TxHash}
	msg, err := json.Marshal(signed)
	if err == nil {
		var body []byte
		body, err = json.Marshal(statusSent{signed.User, signed.Fields, signed.Status, signed.Expiration,
			signed.Deadline, s.sign(msg), signed.TxHash})
		if err == nil {
			err = s.post(ctx, t.StatusCallback, "application/json", body)
		}
	}
	s.mu.Lock()
	t.StatusCallbacksSent++
	if err != nil {
		t.StatusCallbackErrors++
	}
	s.mu.Unlock()
}

// dataCallback builds a freshly signed data callback (a new deadline on
// every attempt, as retries need).
func (s *Server) dataCallback(t *transfer) ([]byte, string, error) {
	profile := s.profile(t.User)
	signed := dataSigned{User: t.User, Deadline: s.cfg.Now().Add(callbackDeadline).Unix(), Expiration: t.Expiration.Unix()}
	s.mu.Lock()
	for _, it := range t.Items {
		signed.Infos = append(signed.Infos, info{FieldID: it, FieldValue: profile[it], Pepper: t.peppers[it]})
	}
	s.mu.Unlock()
	msg, err := json.Marshal(signed)
	if err != nil {
		return nil, "", err
	}
	sent := dataSent{signed.User, signed.Infos, signed.Deadline, signed.Expiration, s.sign(msg)}
	body, err := json.Marshal(sent)
	if err != nil {
		return nil, "", err
	}
	members := [][2]string{{"user", sent.User}, {"infos", string(mustJSON(sent.Infos))},
		{"deadline", strconv.FormatInt(sent.Deadline, 10)}, {"expiration", strconv.FormatInt(sent.Expiration, 10)},
		{"signature", sent.Signature}}
	return s.form(body, members)
}

// errorCallback builds the signed error form of the data callback. It
// spells the confirm failure CONFIRMED_FAILED, as the document's error
// callback sentence does (the status enum says CONFIRM_FAILED).
func (s *Server) errorCallback(t *transfer, step string) ([]byte, string, error) {
	errName := step
	if step == corepass.StatusConfirmFailed {
		errName = corepass.StatusConfirmedFailed
	}
	signed := errorSigned{User: t.User, Items: t.Items, Error: errName,
		Deadline: s.cfg.Now().Add(callbackDeadline).Unix(), Expiration: t.Expiration.Unix()}
	msg, err := json.Marshal(signed)
	if err != nil {
		return nil, "", err
	}
	sent := errorSent{signed.User, signed.Items, signed.Error, signed.Deadline, signed.Expiration, s.sign(msg)}
	body, err := json.Marshal(sent)
	if err != nil {
		return nil, "", err
	}
	members := [][2]string{{"user", sent.User}, {"items", string(mustJSON(sent.Items))}, {"error", sent.Error},
		{"deadline", strconv.FormatInt(sent.Deadline, 10)}, {"expiration", strconv.FormatInt(sent.Expiration, 10)},
		{"signature", sent.Signature}}
	return s.form(body, members)
}

// form wraps a signed callback as multipart/form-data: one "data" field
// holding the JSON document, or one field per member (FieldPerMember).
func (s *Server) form(doc []byte, members [][2]string) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if !s.cfg.FieldPerMember {
		members = [][2]string{{"data", string(doc)}}
	}
	for _, m := range members {
		if err := w.WriteField(m[0], m[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// pepper follows the structure seen in the document's sample (not
// documented): hex(49 random ASCII characters ‖ 22-byte Core ID ‖ item).
func (s *Server) pepper(user, item string) (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_=+[]{}"
	random := make([]byte, 49)
	if _, err := io.ReadFull(s.cfg.Rand, random); err != nil {
		return "", err
	}
	for i, b := range random {
		random[i] = alphabet[int(b)%len(alphabet)]
	}
	id, _ := hex.DecodeString(user)
	return hex.EncodeToString(append(append(random, id...), item...)), nil
}

// sendData makes one data-callback attempt; true when the receiver
// answered 200.
func (s *Server) sendData(ctx context.Context, t *transfer, body []byte, contentType string) bool {
	err := s.post(ctx, t.Callback, contentType, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	t.DataAttempts++
	if err == nil {
		t.DataDelivered = true
	}
	return err == nil
}

// retryData re-sends a data callback (re-signed each time) every
// RetryInterval until the receiver answers 200 or MaxAttempts is reached;
// then the data stays "in the connector", as the document describes.
func (s *Server) retryData(t *transfer, build func() ([]byte, string, error), onDelivered func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			s.mu.Lock()
			attempts := t.DataAttempts
			s.mu.Unlock()
			if attempts >= s.cfg.MaxAttempts {
				s.mu.Lock()
				t.DataDeliveryAbandoned = true
				s.mu.Unlock()
				return
			}
			timer := time.NewTimer(s.cfg.RetryInterval)
			select {
			case <-s.ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			body, contentType, err := build()
			if err != nil {
				return
			}
			if s.sendData(s.ctx, t, body, contentType) {
				onDelivered(s.ctx)
				return
			}
		}
	}()
}

// errNotOK is a callback answered with something other than 200.
type errNotOK int

func (e errNotOK) Error() string { return "callback answered " + strconv.Itoa(int(e)) }

func (s *Server) post(ctx context.Context, url, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return errNotOK(resp.StatusCode)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v) // slices of strings and string structs always marshal
	return b
}
