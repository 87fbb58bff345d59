package verifyyou

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/apiclient"
)

// Wire names from the seed document, kept in one place so that they can be
// corrected against a real account without touching anything else.
const (
	// HeaderAPIKey carries the API key, spelled as in the seed.
	HeaderAPIKey = "API-KEY"

	PathRegister              = "/v1/business_connect_user/register"
	PathCheckConnectionStatus = "/v1/business_connect_user/check_connection_status"
	PathCheckForUpdates       = "/v1/business_connect_user/check_for_updates"

	statusSuccess = "success"
	statusFailure = "failure"

	// CodeDoesNotExist is the failure_code for an unregistered user.
	CodeDoesNotExist = "DOES_NOT_EXIST"
)

// Call names used in errors.
const (
	callRegister     = "register"
	callCheckStatus  = "check_connection_status"
	callCheckUpdates = "check_for_updates"
)

// maxReferenceLen bounds a reference_id we send; ours are short tokens.
const maxReferenceLen = 256

// Client calls the VerifyYou business connect API and authenticates its
// webhooks. It implements providers.Starter, providers.Refresher and
// providers.InboundVerifier.
type Client struct {
	api      *apiclient.Client
	verifier *Verifier
	now      func() time.Time
}

// New returns a client for cfg. httpClient may be nil (the shared client's
// 10 s timeout applies); now stamps refreshed updates and defaults to
// time.Now.
func New(cfg Config, httpClient *http.Client, now func() time.Time) *Client {
	if now == nil {
		now = time.Now
	}
	// A literal map keeps the header's exact spelling on the wire.
	header := http.Header{HeaderAPIKey: {cfg.APIKey}}
	return &Client{
		api:      apiclient.New(providers.VerifyYou, cfg.URL, httpClient, header),
		verifier: NewVerifier(cfg.WebhookSecret),
		now:      now,
	}
}

// Registration is VerifyYou's answer to register.
type Registration struct {
	UniqueID           string // VerifyYou's uuid for the user (v1: user_id)
	InviteID           string
	InviteURL          string // what the end user opens or scans
	ConnectionVerified bool
}

// Register registers referenceID with VerifyYou, or, for a reference that is
// already registered, returns its latest state (same unique_id and invite
// URL, current connection_verified).
func (c *Client) Register(ctx context.Context, referenceID string) (Registration, error) {
	if err := checkReference(callRegister, referenceID); err != nil {
		return Registration{}, err
	}
	var out struct {
		UniqueID           string `json:"unique_id"`
		UserID             string `json:"user_id"` // public v1 spelling
		InviteID           string `json:"invite_id"`
		InviteURL          string `json:"invite_url"`
		ConnectionVerified bool   `json:"connection_verified"`
	}
	body := map[string]string{"reference_id": referenceID}
	if err := c.call(ctx, callRegister, PathRegister, body, &out); err != nil {
		return Registration{}, err
	}
	reg := Registration{UniqueID: firstNonEmpty(out.UniqueID, out.UserID), InviteID: out.InviteID, InviteURL: out.InviteURL, ConnectionVerified: out.ConnectionVerified}
	if reg.UniqueID == "" || reg.InviteURL == "" {
		return Registration{}, fmt.Errorf("verifyyou: %s: decode response: %w: unique_id or invite_url missing", callRegister, providers.ErrMalformed)
	}
	return reg, nil
}

// ConnectionStatus is VerifyYou's answer to check_connection_status.
type ConnectionStatus struct {
	UniqueID      string
	HasConnection bool
	// DataRequestResponse is the data request's result, verbatim: the seed
	// types it as a string whose format (and encryption) is not public; an
	// object or array (the v1 simple_data_request_response) is kept as its
	// JSON text. It is personal data.
	DataRequestResponse string
}

// CheckConnectionStatus reads one user's connection status by referenceID
// or, when that is empty, by uniqueID. An unregistered user is a
// *NotRegisteredError (errors.Is ErrNotRegistered).
func (c *Client) CheckConnectionStatus(ctx context.Context, referenceID, uniqueID string) (ConnectionStatus, error) {
	body := map[string]string{}
	switch {
	case referenceID != "":
		if err := checkReference(callCheckStatus, referenceID); err != nil {
			return ConnectionStatus{}, err
		}
		body["reference_id"] = referenceID
	case uniqueID != "":
		if err := checkReference(callCheckStatus, uniqueID); err != nil {
			return ConnectionStatus{}, err
		}
		body["unique_id"] = uniqueID
	default:
		return ConnectionStatus{}, fmt.Errorf("verifyyou: %s: need a reference_id or a unique_id", callCheckStatus)
	}
	var out struct {
		UniqueID            string          `json:"unique_id"`
		HasConnection       bool            `json:"has_connection"`
		DataRequestResponse json.RawMessage `json:"data_request_response"`
		SimpleResponse      json.RawMessage `json:"simple_data_request_response"` // public v1
	}
	if err := c.call(ctx, callCheckStatus, PathCheckConnectionStatus, body, &out); err != nil {
		return ConnectionStatus{}, err
	}
	data := rawText(out.DataRequestResponse)
	if data == "" {
		data = rawText(out.SimpleResponse)
	}
	return ConnectionStatus{UniqueID: firstNonEmpty(out.UniqueID, uniqueID), HasConnection: out.HasConnection, DataRequestResponse: data}, nil
}

// Updates is one page of check_for_updates.
type Updates struct {
	// Connections names the users whose connection changed (the seed's
	// "user names": the sandbox simulator sends reference_ids), each once.
	// They are triggers: re-read each with CheckConnectionStatus.
	Connections []string
	// Cursor is the provider's timestamp_s: the value to pass as
	// sinceTimestampS next time.
	Cursor int64
}

// CheckForUpdates lists the connections that changed since sinceTimestampS
// (0 for "ever") and returns the next cursor.
//
// Cursor semantics. The seed gives only a request timestamp and "the current
// timestamp in seconds" back; no change carries its own time. We assume the
// half-open window [last_refresh_timestamp_s, timestamp_s): a change is
// reported by the first poll whose timestamp_s is strictly after the second
// the change happened in, and then never again; a change in the very
// second of a poll waits for the next poll. The sandbox simulator
// implements exactly that, so successive windows tile time with neither gap
// nor overlap. The caller makes it restart-safe: it stores Cursor only
// after the updates it came with are processed, in the same transaction
// (otherwise a crash between the two repeats the page, which re-reading
// state makes harmless, rather than losing it), and passes the stored value
// back verbatim. The cursor is taken as the provider sends it, even if it
// moves backwards: a repeat is recoverable, a gap is not. Names repeated
// inside one page are reported once.
func (c *Client) CheckForUpdates(ctx context.Context, sinceTimestampS int64) (Updates, error) {
	if sinceTimestampS < 0 {
		return Updates{}, fmt.Errorf("verifyyou: %s: negative cursor %d", callCheckUpdates, sinceTimestampS)
	}
	var out struct {
		Connections []string    `json:"connections_to_update"`
		TimestampS  json.Number `json:"timestamp_s"`
	}
	body := map[string]int64{"last_refresh_timestamp_s": sinceTimestampS}
	if err := c.call(ctx, callCheckUpdates, PathCheckForUpdates, body, &out); err != nil {
		return Updates{}, err
	}
	cursor, err := out.TimestampS.Int64()
	if err != nil || cursor <= 0 {
		return Updates{}, fmt.Errorf("verifyyou: %s: decode response: %w: timestamp_s missing or not a positive integer", callCheckUpdates, providers.ErrMalformed)
	}
	seen := make(map[string]bool, len(out.Connections))
	names := make([]string, 0, len(out.Connections))
	for _, n := range out.Connections {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		names = append(names, n)
	}
	return Updates{Connections: names, Cursor: cursor}, nil
}

// envelope is the part of every reply that says whether it succeeded.
type envelope struct {
	Status        string `json:"status"`
	FailureCode   string `json:"failure_code"`
	FailureReason string `json:"failure_reason"`
}

// call POSTs body to path and decodes a success reply into out. A failure
// envelope, whatever the HTTP status, becomes a *providers.APIError with
// its failure_code (a *NotRegisteredError for DOES_NOT_EXIST); a non-2xx
// without one becomes an APIError with the HTTP status.
func (c *Client) call(ctx context.Context, call, path string, body, out any) error {
	resp, err := c.api.Do(ctx, call, http.MethodPost, path, body, nil)
	if err != nil {
		return err
	}
	var env envelope
	jsonErr := json.Unmarshal(resp.Body, &env)
	if jsonErr == nil && (env.Status == statusFailure || env.FailureCode != "") {
		apiErr := &providers.APIError{Provider: providers.VerifyYou, Call: call, HTTPStatus: resp.Status, Code: env.FailureCode, Message: apiclient.Snippet(env.FailureReason)}
		if env.FailureCode == CodeDoesNotExist {
			return &NotRegisteredError{API: apiErr}
		}
		return apiErr
	}
	if resp.Status < 200 || resp.Status > 299 {
		return &providers.APIError{Provider: providers.VerifyYou, Call: call, HTTPStatus: resp.Status, Message: apiclient.Snippet(string(resp.Body))}
	}
	if jsonErr != nil {
		return fmt.Errorf("verifyyou: %s: decode response: %w", call, jsonErr)
	}
	if env.Status != statusSuccess {
		return fmt.Errorf("verifyyou: %s: decode response: %w: status %q", call, providers.ErrMalformed, apiclient.Snippet(env.Status))
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("verifyyou: %s: decode response: %w", call, err)
	}
	return nil
}

// ErrNotRegistered is what errors.Is finds in a *NotRegisteredError.
var ErrNotRegistered = errors.New("verifyyou: user not registered")

// NotRegisteredError is VerifyYou's DOES_NOT_EXIST: the reference_id or
// unique_id asked about was never registered (or not with this API key).
// It unwraps to the *providers.APIError that carries the code.
type NotRegisteredError struct {
	API *providers.APIError
}

// Error says what happened and what to do, without the reference.
func (e *NotRegisteredError) Error() string {
	return "verifyyou: " + e.API.Call + ": no VerifyYou user for this reference (DOES_NOT_EXIST): register it first, or check that the API key belongs to the account that registered it"
}

// Unwrap returns the provider's error.
func (e *NotRegisteredError) Unwrap() error { return e.API }

// Is makes errors.Is(err, ErrNotRegistered) true.
func (e *NotRegisteredError) Is(target error) bool { return target == ErrNotRegistered }

func checkReference(call, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("verifyyou: %s: empty reference", call)
	}
	if len(id) > maxReferenceLen {
		return fmt.Errorf("verifyyou: %s: reference longer than %d bytes", call, maxReferenceLen)
	}
	return nil
}

// rawText turns a JSON value into text: a string is unquoted, null is
// empty, anything else is kept as its JSON.
func rawText(raw json.RawMessage) string {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return t
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
