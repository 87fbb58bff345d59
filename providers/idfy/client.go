// Package idfy is KYC Desk's adapter for IDfy's Profile Gateway (video KYC
// onboarding): it creates profiles (synchronously for at most two resources,
// asynchronously above that, as the IDfy document says), hands out the
// capture link with redirect_uri and exit_url, fetches profiles and their
// expiring resources, and reads IDfy webhooks as triggers to re-fetch (IDfy
// publishes no webhook signature). With a key id and key configured it uses
// the encrypted data flow (compact JWE, alg=dir, enc=A256GCM).
//
// Where IDfy's public material is silent (the async and encrypted paths, the
// error envelope, the webhook body) the choice is made in one place, this
// file's constants and decoders, so it can be corrected against a real
// account without touching anything else.
package idfy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/apiclient"
)

// Request paths, relative to Config.URL.
const (
	// PathSyncCreate is the synchronous create (public, integrator code).
	PathSyncCreate = "/sync/profiles"
	// PathAsyncCreate is the asynchronous create. NOT PUBLIC: inferred from
	// the /sync/ prefix convention.
	PathAsyncCreate = "/profiles"
	// PathEncryptedSyncCreate and PathEncryptedAsyncCreate are the
	// encrypted-flow creates. IDfy says the encrypted sync create is "a
	// separate endpoint" without naming it: NOT PUBLIC, inferred.
	PathEncryptedSyncCreate  = "/sync/profiles/encrypted"
	PathEncryptedAsyncCreate = "/profiles/encrypted"
	// PathProfile is the get-profile path; %s is the profile id.
	PathProfile = "/profiles/%s"
)

// Header names IDfy authenticates with (seed).
const (
	HeaderAPIKey    = "api-key"
	HeaderAccountID = "account-id"
)

// MaxSyncResources is the largest number of resources (text, image or
// video inputs) a synchronous create may carry (seed).
const MaxSyncResources = 2

// Client calls IDfy's Profile Gateway. It implements providers.Starter,
// providers.Refresher and providers.InboundVerifier.
type Client struct {
	cfg    Config
	api    *apiclient.Client
	http   *http.Client
	sealer *Sealer
	now    func() time.Time
}

// New returns a Client for cfg. httpClient may be nil (10 s timeout); now
// may be nil (time.Now). The key, when set, must be 32 bytes.
func New(cfg Config, httpClient *http.Client, now func() time.Time) (*Client, error) {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	if cfg.WebhookHeader == "" {
		cfg.WebhookHeader = DefaultWebhookHeader
	}
	h := http.Header{}
	h.Set(HeaderAPIKey, cfg.APIKey)
	h.Set(HeaderAccountID, cfg.AccountID)
	c := &Client{cfg: cfg, api: apiclient.New(providers.IDfy, cfg.URL, httpClient, h), http: httpClient, now: now}
	if cfg.KeyID != "" || len(cfg.Key) > 0 {
		s, err := NewSealer(cfg.KeyID, cfg.Key)
		if err != nil {
			return nil, err
		}
		c.sealer = s
	}
	return c, nil
}

// ResourceKind is the kind of a create-profile input.
type ResourceKind string

// The resource kinds the seed counts toward the sync/async choice.
const (
	ResourceText  ResourceKind = "text"
	ResourceImage ResourceKind = "image"
	ResourceVideo ResourceKind = "video"
)

// Resource is one journey input of a create-profile request: it becomes
// data[Name] = Value. Images and videos are a URL IDfy can reach (signed and
// expiring, per the seed) or base64.
type Resource struct {
	Kind  ResourceKind
	Name  string // data key: "name", "dob", "selfie", "ind_pan", ...
	Value any    // a string, or a JSON-encodable object such as {"first_name": ...}
}

// CreateProfileRequest is one create-profile call.
type CreateProfileRequest struct {
	// ReferenceID is our IDfy-specific reference (never our internal id).
	ReferenceID        string
	GroupID            string
	ConfigID           string // defaults to Config.ConfigID
	ReferenceProfileID string
	Overrides          map[string]any
	Resources          []Resource
	// Payload is the request's payload object (security questions, ...).
	Payload map[string]any
}

// Async reports whether the request must use the asynchronous create: more
// than MaxSyncResources resources.
func (r CreateProfileRequest) Async() bool { return len(r.Resources) > MaxSyncResources }

// CreatedProfile is IDfy's answer to a create.
type CreatedProfile struct {
	ProfileID        string
	CaptureLink      string
	CaptureExpiresAt time.Time
	Status           string // verbatim; may be empty
	Async            bool   // the asynchronous create was used
}

type createConfig struct {
	ID                 string         `json:"id"`
	Overrides          map[string]any `json:"overrides"`
	ReferenceProfileID string         `json:"reference_profile_id"`
}

type createBody struct {
	ReferenceID      string         `json:"reference_id"`
	GroupID          string         `json:"group_id"`
	Config           createConfig   `json:"config"`
	Data             map[string]any `json:"data,omitempty"`
	Payload          map[string]any `json:"payload,omitempty"`
	EncryptedData    string         `json:"encrypted_data,omitempty"`
	EncryptedPayload string         `json:"encrypted_payload,omitempty"`
}

type createReply struct {
	ProfileID        lenientString `json:"profile_id"`
	CaptureLink      lenientString `json:"capture_link"`
	CaptureExpiresAt lenientString `json:"capture_expires_at"`
	Status           lenientString `json:"status"`
}

// CreateProfile creates a profile: synchronously (PathSyncCreate) for at
// most MaxSyncResources resources, asynchronously (PathAsyncCreate) above
// that; in encrypted mode data and payload travel as encrypted_data and
// encrypted_payload to the encrypted paths.
func (c *Client) CreateProfile(ctx context.Context, req CreateProfileRequest) (CreatedProfile, error) {
	const call = "create profile"
	if strings.TrimSpace(req.ReferenceID) == "" {
		return CreatedProfile{}, fmt.Errorf("idfy: %s: empty reference_id", call)
	}
	body := createBody{
		ReferenceID: req.ReferenceID,
		GroupID:     req.GroupID,
		Config:      createConfig{ID: req.ConfigID, Overrides: req.Overrides, ReferenceProfileID: req.ReferenceProfileID},
	}
	if body.Config.ID == "" {
		body.Config.ID = c.cfg.ConfigID
	}
	if body.Config.ID == "" {
		return CreatedProfile{}, fmt.Errorf("idfy: %s: no journey config id", call)
	}
	if body.Config.Overrides == nil {
		body.Config.Overrides = map[string]any{}
	}
	data := map[string]any{}
	for _, r := range req.Resources {
		switch r.Kind {
		case ResourceText, ResourceImage, ResourceVideo:
		default:
			return CreatedProfile{}, fmt.Errorf("idfy: %s: resource %q: unknown kind %q", call, r.Name, r.Kind)
		}
		if r.Name == "" {
			return CreatedProfile{}, fmt.Errorf("idfy: %s: resource without a name", call)
		}
		if _, dup := data[r.Name]; dup {
			return CreatedProfile{}, fmt.Errorf("idfy: %s: resource %q given twice", call, r.Name)
		}
		data[r.Name] = r.Value
	}
	async := req.Async()
	path := PathSyncCreate
	if async {
		path = PathAsyncCreate
	}
	if c.sealer != nil {
		path = PathEncryptedSyncCreate
		if async {
			path = PathEncryptedAsyncCreate
		}
		var err error
		if body.EncryptedData, err = c.sealer.SealJSON(data); err != nil {
			return CreatedProfile{}, fmt.Errorf("idfy: %s: %w", call, err)
		}
		if len(req.Payload) > 0 {
			if body.EncryptedPayload, err = c.sealer.SealJSON(req.Payload); err != nil {
				return CreatedProfile{}, fmt.Errorf("idfy: %s: %w", call, err)
			}
		}
	} else {
		body.Data = data
		body.Payload = req.Payload
	}
	resp, err := c.api.Do(ctx, call, http.MethodPost, path, body, nil)
	if err != nil {
		return CreatedProfile{}, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return CreatedProfile{}, decodeError(call, resp)
	}
	var reply createReply
	if err := c.decode(resp.Body, &reply); err != nil {
		return CreatedProfile{}, fmt.Errorf("idfy: %s: %w", call, err)
	}
	if reply.ProfileID == "" {
		return CreatedProfile{}, fmt.Errorf("idfy: %s: reply has no profile_id", call)
	}
	return CreatedProfile{
		ProfileID:        string(reply.ProfileID),
		CaptureLink:      string(reply.CaptureLink),
		CaptureExpiresAt: parseTime(string(reply.CaptureExpiresAt)),
		Status:           string(reply.Status),
		Async:            async,
	}, nil
}

// GetProfile fetches one profile by IDfy's profile id. In encrypted mode an
// encrypted_data field in the reply is decrypted and its keys laid over the
// plain ones (the encrypted GET shape is NOT PUBLIC; plain replies are
// accepted too).
func (c *Client) GetProfile(ctx context.Context, profileID string) (Profile, error) {
	const call = "get profile"
	if strings.TrimSpace(profileID) == "" {
		return Profile{}, fmt.Errorf("idfy: %s: empty profile id", call)
	}
	resp, err := c.api.Do(ctx, call, http.MethodGet, fmt.Sprintf(PathProfile, url.PathEscape(profileID)), nil, nil)
	if err != nil {
		return Profile{}, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return Profile{}, decodeError(call, resp)
	}
	var p Profile
	if err := c.decode(resp.Body, &p); err != nil {
		return Profile{}, fmt.Errorf("idfy: %s: %w", call, err)
	}
	if p.ProfileID == "" {
		return Profile{}, fmt.Errorf("idfy: %s: reply has no profile_id", call)
	}
	return p, nil
}

// decode unmarshals body into out, ignoring unknown keys, after unseal.
func (c *Client) decode(body []byte, out any) error {
	plain, err := c.unseal(body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plain, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// unseal returns body with a top-level encrypted_data string (encrypted
// mode) decrypted and its keys laid over the plain ones. A body without one
// comes back unchanged. The body must be a JSON object.
func (c *Client) unseal(body []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	var sealed lenientString
	if raw, ok := fields["encrypted_data"]; ok {
		_ = json.Unmarshal(raw, &sealed)
	}
	if sealed == "" {
		return body, nil
	}
	if c.sealer == nil {
		return nil, errors.New("reply is encrypted but no key is configured")
	}
	plain, err := c.sealer.Open(string(sealed))
	if err != nil {
		return nil, err
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(plain, &inner); err != nil {
		return nil, fmt.Errorf("decode decrypted response: %w", err)
	}
	delete(fields, "encrypted_data")
	for k, v := range inner {
		fields[k] = v
	}
	merged, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("decode decrypted response: %w", err)
	}
	return merged, nil
}

// errorReply is the error envelope. IDfy's error codes are NOT PUBLIC; the
// decoder takes the usual spellings and falls back to the HTTP status.
type errorReply struct {
	Error     lenientString `json:"error"`
	ErrorCode lenientString `json:"error_code"`
	Code      lenientString `json:"code"`
	Message   lenientString `json:"message"`
	Detail    lenientString `json:"details"`
}

func decodeError(call string, resp *apiclient.Response) error {
	e := &providers.APIError{Provider: providers.IDfy, Call: call, HTTPStatus: resp.Status}
	var r errorReply
	if json.Unmarshal(resp.Body, &r) == nil {
		e.Code = firstNonEmpty(string(r.ErrorCode), string(r.Code), string(r.Error))
		e.Message = firstNonEmpty(string(r.Message), string(r.Detail))
		if e.Message == e.Code {
			e.Message = ""
		}
	} else if s := strings.TrimSpace(string(bytes.ToValidUTF8(resp.Body, nil))); s != "" && len(s) <= 200 {
		e.Message = s
	}
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	return e
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// parseTime reads IDfy's timestamps ("2019-09-06T08:22:33.000Z"); an
// unreadable one is the zero time.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
