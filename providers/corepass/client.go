// Package corepass is KYC Desk's adapter for the CorePass Connector's
// KYC-transfer flow: it asks our self-hosted connector which items a user
// has verified, requests the transfer QR code / link, reads the transfer
// status, and verifies the connector's Ed448-signed status and data
// callbacks against the pinned connector key.
package corepass

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/apiclient"
	qrcode "github.com/skip2/go-qrcode"
)

// Connector endpoint paths, relative to CONNECTOR_ADDRESS. All are POST
// with a JSON body; the CorePass document shows no auth header, so the
// connector belongs on a private network.
const (
	PathVerified    = "/api/v1/blockchain/verified"
	PathQRCode      = "/api/v1/kyc/qrcode"
	PathStatus      = "/api/v1/kyc/status"
	PathAllStatuses = "/api/v1/kyc/all-statuses"
)

// The connector accepts a QR expiration 5 to 15 minutes ahead. We stay
// expirySlack inside both ends so that latency or a small clock difference
// with the connector does not turn a request into a 400.
const (
	MinExpiry     = 5 * time.Minute
	MaxExpiry     = 15 * time.Minute
	DefaultExpiry = 10 * time.Minute
	expirySlack   = 30 * time.Second
)

// Errors the adapter returns; test with errors.Is.
var (
	// ErrInvalidExpiration: the connector refused the expiration (400).
	ErrInvalidExpiration = errors.New("the connector refused the QR expiration (it must be 5-15 minutes ahead; check the clocks of KYC Desk and the connector)")
	// ErrItemsNotVerified: the user has not verified what was asked (400,
	// or found by the adapter before asking).
	ErrItemsNotVerified = errors.New("the user has not verified the requested items in the CorePass app")
	// ErrOngoingRequest: a transfer for this user and items is under way (400).
	ErrOngoingRequest = errors.New("a transfer for this user and these items is already under way; wait until it finishes or fails")
	// ErrNoTransfer: the connector knows no transfer for this user and items
	// in the past month.
	ErrNoTransfer = errors.New("the connector has no transfer for this user and these items in the past month")
)

// QRError is one of the three documented 400 replies of kyc/qrcode. Kind
// is ErrInvalidExpiration, ErrItemsNotVerified or ErrOngoingRequest; Body
// is the connector's text verbatim.
type QRError struct {
	Kind error
	Body string
}

// Error says in plain words what the connector refused.
func (e *QRError) Error() string { return "corepass: request qr: " + e.Kind.Error() }

// Unwrap lets errors.Is match Kind.
func (e *QRError) Unwrap() error { return e.Kind }

// Client calls one CorePass connector and verifies its callbacks.
type Client struct {
	cfg Config
	api *apiclient.Client
	now func() time.Time
}

// New returns an adapter for the connector in cfg. httpClient nil means the
// shared client's default (10 s timeout); now nil means time.Now.
func New(cfg Config, httpClient *http.Client, now func() time.Time) *Client {
	if now == nil {
		now = time.Now
	}
	return &Client{cfg: cfg, api: apiclient.New(providers.CorePass, cfg.URL, httpClient, nil), now: now}
}

// API exposes the underlying HTTP client so callers (and tests) can tune
// retries and backoff.
func (c *Client) API() *apiclient.Client { return c.api }

type userItems struct {
	User  string   `json:"user"`
	Items []string `json:"items"`
}

// VerifiedItems is the reply of /api/v1/blockchain/verified.
type VerifiedItems struct {
	Verified   []string
	Unverified []string
}

// Verified asks the connector which of items the user has verified in the
// CorePass app; with no items it asks about all 46.
func (c *Client) Verified(ctx context.Context, coreID string, items ...string) (VerifiedItems, error) {
	id, err := c.coreID(coreID)
	if err != nil {
		return VerifiedItems{}, fmt.Errorf("corepass: verified: %w", err)
	}
	if len(items) == 0 {
		items = Items()
	}
	var out struct {
		Verified   []string `json:"verifiedItems"`
		Unverified []string `json:"unVerifiedItems"`
	}
	if err := c.api.JSON(ctx, "blockchain/verified", http.MethodPost, PathVerified, userItems{id, items}, &out); err != nil {
		return VerifiedItems{}, err
	}
	return VerifiedItems{Verified: out.Verified, Unverified: out.Unverified}, nil
}

// QRRequest asks the connector for a KYC-transfer QR code and link.
type QRRequest struct {
	CoreID string
	Items  []string
	// Callback receives the data (or error) callback; StatusCallback the
	// status callbacks.
	Callback       string
	StatusCallback string
	// TTL is how long the user has to accept; it is clamped into the
	// connector's 5-15 minute window (0 = DefaultExpiry).
	TTL time.Duration
	// WithoutQRCode asks for the link only; the adapter then renders the
	// QR PNG itself from the link.
	WithoutQRCode bool
}

// QR is what the end user gets: a PNG to scan and a link for a button on
// mobile browsers.
type QR struct {
	PNG       []byte
	Link      string
	ExpiresAt time.Time
	// AlreadySent: the connector had issued this QR before and returned the
	// same one (and its original expiration).
	AlreadySent bool
}

// RequestQR calls /api/v1/kyc/qrcode. The three documented 400 replies
// come back as *QRError.
func (c *Client) RequestQR(ctx context.Context, req QRRequest) (QR, error) {
	id, err := c.coreID(req.CoreID)
	if err != nil {
		return QR{}, fmt.Errorf("corepass: request qr: %w", err)
	}
	if len(req.Items) == 0 {
		return QR{}, errors.New("corepass: request qr: no items to request")
	}
	if req.Callback == "" || req.StatusCallback == "" {
		return QR{}, errors.New("corepass: request qr: both the callback and the status callback URL are required")
	}
	body := struct {
		User           string   `json:"user"`
		Items          []string `json:"items"`
		Callback       string   `json:"callback"`
		StatusCallback string   `json:"statusCallback"`
		Expiration     int64    `json:"expiration"`
		WithoutQRCode  bool     `json:"withoutQRCode,omitempty"`
	}{id, req.Items, req.Callback, req.StatusCallback, c.now().Add(ClampTTL(req.TTL)).Unix(), req.WithoutQRCode}

	resp, err := c.api.Do(ctx, "kyc/qrcode", http.MethodPost, PathQRCode, body, nil)
	if err != nil {
		return QR{}, err
	}
	if resp.Status == http.StatusBadRequest {
		if kind := classifyQRError(string(resp.Body)); kind != nil {
			return QR{}, &QRError{Kind: kind, Body: strings.TrimSpace(string(resp.Body))}
		}
	}
	if resp.Status < 200 || resp.Status > 299 {
		return QR{}, apiError("kyc/qrcode", resp)
	}
	var out struct {
		QRCode      string `json:"qrcode"`
		Link        string `json:"link"`
		Expiration  int64  `json:"expiration"`
		AlreadySent bool   `json:"alreadySent"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return QR{}, fmt.Errorf("corepass: request qr: decode response: %w", err)
	}
	if out.Link == "" && out.QRCode == "" {
		return QR{}, errors.New("corepass: request qr: the connector returned neither a link nor a QR code")
	}
	qr := QR{Link: out.Link, AlreadySent: out.AlreadySent}
	if out.Expiration > 0 {
		qr.ExpiresAt = time.Unix(out.Expiration, 0).UTC()
	}
	if out.QRCode != "" {
		qr.PNG, _ = decodeQRImage(out.QRCode)
	}
	if qr.PNG == nil && qr.Link != "" {
		if qr.PNG, err = qrcode.Encode(qr.Link, qrcode.Medium, 320); err != nil {
			return QR{}, fmt.Errorf("corepass: request qr: render QR from link: %w", err)
		}
	}
	return qr, nil
}

// ClampTTL returns ttl moved into the connector's accepted window, with a
// margin at both ends; 0 means DefaultExpiry.
func ClampTTL(ttl time.Duration) time.Duration {
	switch {
	case ttl == 0:
		return DefaultExpiry
	case ttl < MinExpiry+expirySlack:
		return MinExpiry + expirySlack
	case ttl > MaxExpiry-expirySlack:
		return MaxExpiry - expirySlack
	}
	return ttl
}

// classifyQRError recognises the three documented 400 bodies (plain text).
func classifyQRError(body string) error {
	b := strings.ToLower(body)
	switch {
	case strings.Contains(b, "expiration"):
		return ErrInvalidExpiration
	case strings.Contains(b, "ongoing"):
		return ErrOngoingRequest
	case strings.Contains(b, "not have the requested items verified"), strings.Contains(b, "not verified"):
		return ErrItemsNotVerified
	}
	return nil
}

// decodeQRImage accepts the connector's base64 PNG, with or without a
// data: URL prefix, and checks that it is a PNG.
func decodeQRImage(s string) ([]byte, error) {
	if i := strings.Index(s, ";base64,"); i >= 0 && strings.HasPrefix(s, "data:") {
		s = s[i+len(";base64,"):]
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	if http.DetectContentType(b) != "image/png" {
		return nil, errors.New("not a PNG")
	}
	return b, nil
}

// StatusEntry is one status of a transfer as kyc/status reports it.
type StatusEntry struct {
	Status    string
	CreatedAt time.Time
	TxHash    string
}

type statusJSON struct {
	Status    string `json:"status"`
	CreatedAt int64  `json:"created_at"`
	TxHash    string `json:"tx_hash"`
}

func (s statusJSON) entry() StatusEntry {
	e := StatusEntry{Status: s.Status, TxHash: s.TxHash}
	if s.CreatedAt > 0 {
		e.CreatedAt = time.Unix(s.CreatedAt, 0).UTC()
	}
	return e
}

// Status calls /api/v1/kyc/status: the latest status of the transfer for
// this user and items (past month only). ErrNoTransfer when there is none.
func (c *Client) Status(ctx context.Context, coreID string, items []string) (StatusEntry, error) {
	id, err := c.coreID(coreID)
	if err != nil {
		return StatusEntry{}, fmt.Errorf("corepass: status: %w", err)
	}
	resp, err := c.api.Do(ctx, "kyc/status", http.MethodPost, PathStatus, userItems{id, items}, nil)
	if err != nil {
		return StatusEntry{}, err
	}
	if resp.Status == http.StatusNotFound {
		return StatusEntry{}, fmt.Errorf("corepass: status: %w", ErrNoTransfer)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return StatusEntry{}, apiError("kyc/status", resp)
	}
	var out statusJSON
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return StatusEntry{}, fmt.Errorf("corepass: status: decode response: %w", err)
	}
	if out.Status == "" {
		return StatusEntry{}, fmt.Errorf("corepass: status: %w", ErrNoTransfer)
	}
	return out.entry(), nil
}

// AllStatuses calls /api/v1/kyc/all-statuses: every status of the
// transfers for this user and items in the past month, newest first. An
// empty list is not an error.
func (c *Client) AllStatuses(ctx context.Context, coreID string, items []string) ([]StatusEntry, error) {
	id, err := c.coreID(coreID)
	if err != nil {
		return nil, fmt.Errorf("corepass: all statuses: %w", err)
	}
	resp, err := c.api.Do(ctx, "kyc/all-statuses", http.MethodPost, PathAllStatuses, userItems{id, items}, nil)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound {
		return nil, nil
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, apiError("kyc/all-statuses", resp)
	}
	var out struct {
		AllStatuses []statusJSON `json:"AllStatuses"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("corepass: all statuses: decode response: %w", err)
	}
	entries := make([]StatusEntry, 0, len(out.AllStatuses))
	for _, s := range out.AllStatuses {
		entries = append(entries, s.entry())
	}
	// Documented as newest first; keep ties in the order received.
	slices.SortStableFunc(entries, func(a, b StatusEntry) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return entries, nil
}

func (c *Client) coreID(s string) (string, error) {
	if err := ValidateCoreIDOn(s, c.cfg.Network); err != nil {
		return "", err
	}
	return NormalizeCoreID(s)
}

func apiError(call string, resp *apiclient.Response) error {
	msg := strings.TrimSpace(string(resp.Body))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &providers.APIError{Provider: providers.CorePass, Call: call, HTTPStatus: resp.Status, Message: msg}
}
