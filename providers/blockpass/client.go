package blockpass

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/apiclient"
)

// APIPathPrefix is the Dashboard API root under the configured host; the
// client id follows it.
const APIPathPrefix = "/kyc/1.0/connect/"

// Defaults for riding out Blockpass's rate limit on long syncs.
const (
	// DefaultRateLimitRetries is how many more times a call still answered
	// 429 after the shared client's own retries is tried again.
	DefaultRateLimitRetries = 30
	// MaxRateLimitWait caps one wait, whatever Retry-After says.
	MaxRateLimitWait = time.Minute
	// firstRateLimitWait is the wait when the 429 names none; it doubles.
	firstRateLimitWait = time.Second
)

// DefaultPageSize is the page size Each uses when given none; Blockpass's
// own script pages with 100.
const DefaultPageSize = 100

// Page is one page of a candidate listing.
type Page struct {
	Records []Candidate
	Total   int
	Skip    int
	Limit   int
}

// Client calls the Blockpass Dashboard API for one KYC Connect service. It
// implements providers.Starter, providers.Refresher and
// providers.InboundVerifier.
type Client struct {
	cfg              Config
	api              *apiclient.Client
	respKey          *rsa.PublicKey
	verifier         *Verifier
	sleep            func(ctx context.Context, d time.Duration) error
	random           io.Reader
	rateLimitRetries int
}

var (
	_ providers.Starter         = (*Client)(nil)
	_ providers.Refresher       = (*Client)(nil)
	_ providers.InboundVerifier = (*Client)(nil)
)

// Option adjusts a Client at construction.
type Option func(*Client)

// WithSleep replaces the context-aware sleep used between retries (tests
// pass one that records the waits and returns at once).
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithRand replaces crypto/rand for the per-request response keys.
func WithRand(r io.Reader) Option {
	return func(c *Client) { c.random = r }
}

// WithRateLimitRetries sets how many extra rounds a call still rate limited
// after the shared client's retries gets (default DefaultRateLimitRetries).
func WithRateLimitRetries(n int) Option {
	return func(c *Client) { c.rateLimitRetries = n }
}

// NewClient returns a client for cfg. httpClient nil means the shared
// client's default (10 s timeout). It fails when cfg is not Configured or
// its response encryption key does not parse.
func NewClient(cfg Config, httpClient *http.Client, opts ...Option) (*Client, error) {
	if !cfg.Configured() {
		return nil, errors.New("blockpass: not configured: URL, client id and API key are required")
	}
	respKey, err := cfg.responseKey()
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	header.Set("Authorization", cfg.APIKey)
	header.Set("Cache-Control", "no-cache")
	base := strings.TrimRight(cfg.URL, "/") + APIPathPrefix + url.PathEscape(cfg.ClientID)
	c := &Client{
		cfg:              cfg,
		api:              apiclient.New(providers.Blockpass, base, httpClient, header),
		respKey:          respKey,
		verifier:         NewVerifier(cfg.WebhookSecret),
		sleep:            apiclient.Sleep,
		rateLimitRetries: DefaultRateLimitRetries,
	}
	for _, opt := range opts {
		opt(c)
	}
	c.api.Sleep = c.sleep
	return c, nil
}

// ConnectLink is the link for the end user with merchant reference refID
// (see Config.ConnectLink).
func (c *Client) ConnectLink(refID string) string { return c.cfg.ConnectLink(refID) }

// Start hands back the KYC Connect link carrying req.Reference as refId.
// Blockpass has no call to create a verification: the record appears
// (user.created) once the user opens the link in the Blockpass app.
func (c *Client) Start(_ context.Context, req providers.StartRequest) (providers.Started, error) {
	if strings.TrimSpace(req.Reference) == "" {
		return providers.Started{}, errors.New("blockpass: start: a reference (refId) is required")
	}
	started := providers.Started{Link: c.ConnectLink(req.Reference), Status: providers.StatusInvited}
	if req.TTL > 0 {
		started.Notes = append(started.Notes, "Blockpass connect links do not expire; the requested validity is not enforced by Blockpass.")
	}
	if req.ReturnURL != "" || req.CallbackURL != "" {
		started.Notes = append(started.Notes, "Blockpass takes no per-link return or callback URL; webhooks are set per service in the Blockpass console.")
	}
	return started, nil
}

// Refresh fetches the candidate, by recordId when providerRef is known and
// by refId otherwise, and extracts it.
func (c *Client) Refresh(ctx context.Context, reference, providerRef string) (providers.Update, error) {
	var cand Candidate
	var err error
	if providerRef != "" {
		cand, err = c.ByRecordID(ctx, providerRef)
	} else {
		cand, err = c.ByRefID(ctx, reference)
	}
	if err != nil {
		return providers.Update{}, err
	}
	return Extract(cand), nil
}

// VerifyInbound checks a webhook with the configured secret (see
// Verifier.VerifyInbound).
func (c *Client) VerifyInbound(h http.Header, body []byte, now time.Time) (providers.Delivery, error) {
	return c.verifier.VerifyInbound(h, body, now)
}

// List returns one page of candidates: all of them when status is empty
// (GET /applicants), else those in status (GET /applicants/{status}).
// limit <= 0 leaves the page size to Blockpass.
func (c *Client) List(ctx context.Context, status string, skip, limit int) (Page, error) {
	path := "/applicants"
	if status != "" {
		path += "/" + url.PathEscape(status)
	}
	q := url.Values{}
	q.Set("skip", strconv.Itoa(max(skip, 0)))
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var data struct {
		Records []Candidate `json:"records"`
		Total   int         `json:"total"`
		Skip    int         `json:"skip"`
		Limit   int         `json:"limit"`
	}
	if err := c.get(ctx, "list applicants", path+"?"+q.Encode(), &data); err != nil {
		return Page{}, err
	}
	return Page{Records: data.Records, Total: data.Total, Skip: data.Skip, Limit: data.Limit}, nil
}

// Each streams every candidate (in status, or all when empty) to fn, one
// page of pageSize at a time (DefaultPageSize when <= 0), holding only the
// current page. It stops at an empty page or once skip reaches the total,
// and returns fn's error unwrapped. Offset paging is what the API offers:
// a record deleted mid-sync can shift a later one past us, so a sync is
// repeated rather than trusted to be a snapshot.
func (c *Client) Each(ctx context.Context, status string, pageSize int, fn func(Candidate) error) error {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	skip := 0
	prevFirst := ""
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("blockpass: list applicants: %w", err)
		}
		page, err := c.List(ctx, status, skip, pageSize)
		if err != nil {
			return err
		}
		if len(page.Records) == 0 {
			return nil
		}
		first := page.Records[0].RecordID
		if skip > 0 && first != "" && first == prevFirst {
			return fmt.Errorf("blockpass: list applicants: skip=%d returned the previous page again", skip)
		}
		prevFirst = first
		for _, cand := range page.Records {
			if err := fn(cand); err != nil {
				return err
			}
		}
		skip += len(page.Records)
		if page.Total > 0 && skip >= page.Total {
			return nil
		}
	}
}

// ByRefID fetches one candidate by our merchant reference
// (GET /refId/{refId}).
func (c *Client) ByRefID(ctx context.Context, refID string) (Candidate, error) {
	if refID == "" {
		return Candidate{}, errors.New("blockpass: get by refId: empty refId")
	}
	return c.one(ctx, "get by refId", "/refId/"+url.PathEscape(refID))
}

// ByRecordID fetches one candidate by its KYC Connect record id
// (GET /recordId/{recordId}).
func (c *Client) ByRecordID(ctx context.Context, recordID string) (Candidate, error) {
	if recordID == "" {
		return Candidate{}, errors.New("blockpass: get by recordId: empty recordId")
	}
	return c.one(ctx, "get by recordId", "/recordId/"+url.PathEscape(recordID))
}

// one fetches a single candidate; a reply without a recordId is an error,
// not an empty candidate.
func (c *Client) one(ctx context.Context, call, path string) (Candidate, error) {
	var cand Candidate
	if err := c.get(ctx, call, path, &cand); err != nil {
		return Candidate{}, err
	}
	if cand.RecordID == "" {
		return Candidate{}, fmt.Errorf("blockpass: %s: reply has no recordId", call)
	}
	return cand, nil
}

// IsNotFound reports whether err is Blockpass answering 404 (an unknown
// refId or recordId, or a deleted candidate).
func IsNotFound(err error) bool {
	var apiErr *providers.APIError
	return errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound
}

// IsRateLimited reports whether err is a 429 that outlasted every retry.
func IsRateLimited(err error) bool {
	var apiErr *providers.APIError
	return errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusTooManyRequests
}

// envelope is the part of a Dashboard API error reply we read. Error
// bodies are not documented; "message" and extra.retryAfter are read when
// present.
type envelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Extra   struct {
		RetryAfter json.Number `json:"retryAfter"`
	} `json:"extra"`
}

// get performs one GET, outlasting 429s, and decodes the envelope's data.
func (c *Client) get(ctx context.Context, call, path string, out any) error {
	extra, key, err := newResponseKey(c.random, c.cfg.ResponseEncryptionHeader, c.respKey)
	if err != nil {
		return fmt.Errorf("blockpass: %s: %w", call, err)
	}
	wait := firstRateLimitWait
	for round := 0; ; round++ {
		resp, err := c.api.Do(ctx, call, http.MethodGet, path, nil, extra)
		if err != nil {
			return err
		}
		if resp.Status == http.StatusTooManyRequests && round < c.rateLimitRetries {
			d := retryAfter(resp, wait)
			wait = min(wait*2, MaxRateLimitWait)
			if err := c.sleep(ctx, d); err != nil {
				return fmt.Errorf("blockpass: %s: waiting out the rate limit: %w", call, err)
			}
			continue
		}
		if resp.Status < 200 || resp.Status > 299 {
			return apiError(call, resp)
		}
		body := resp.Body
		if key != nil {
			if body, err = decryptResponse(key, body); err != nil {
				return fmt.Errorf("blockpass: %s: %w", call, err)
			}
		}
		// One pass: the envelope's data decodes straight into out.
		env := struct {
			Status  string `json:"status"`
			Data    any    `json:"data"`
			Message string `json:"message"`
		}{Data: out}
		if err := json.Unmarshal(body, &env); err != nil {
			return fmt.Errorf("blockpass: %s: decode response: %w", call, err)
		}
		if env.Status != "" && env.Status != "success" {
			return &providers.APIError{Provider: providers.Blockpass, Call: call, HTTPStatus: resp.Status, Code: env.Status, Message: apiclient.Snippet(env.Message)}
		}
		if env.Data != out {
			return fmt.Errorf("blockpass: %s: decode response: no data", call)
		}
		return nil
	}
}

// apiError turns a non-2xx reply into an APIError, with the body's message
// when it has the usual envelope.
func apiError(call string, resp *apiclient.Response) error {
	e := &providers.APIError{Provider: providers.Blockpass, Call: call, HTTPStatus: resp.Status}
	var env envelope
	if json.Unmarshal(resp.Body, &env) == nil && env.Message != "" {
		e.Message = apiclient.Snippet(env.Message)
	} else {
		e.Message = apiclient.Snippet(string(resp.Body))
	}
	switch resp.Status {
	case http.StatusNotFound:
		e.Code = "not_found"
	case http.StatusTooManyRequests:
		e.Code = "rate_limited"
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Code = "unauthorized"
	}
	return e
}

// retryAfter is how long a 429 asks us to wait: the Retry-After header
// (seconds or an HTTP date), else the body's extra.retryAfter (seconds; a
// third-party client reads it, unconfirmed), else fallback; capped at
// MaxRateLimitWait.
func retryAfter(resp *apiclient.Response, fallback time.Duration) time.Duration {
	d := fallback
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			d = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = time.Until(t)
		}
	} else {
		var env envelope
		if json.Unmarshal(resp.Body, &env) == nil {
			if s, err := env.Extra.RetryAfter.Float64(); err == nil && s >= 0 {
				d = time.Duration(s * float64(time.Second))
			}
		}
	}
	return min(max(d, 0), MaxRateLimitWait)
}
