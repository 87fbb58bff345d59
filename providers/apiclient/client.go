// Package apiclient is the one HTTP client every provider adapter uses to
// call its provider: a base URL, auth headers set by the adapter, a 10 s
// timeout, bounded retries with backoff on 429 and 5xx, and errors that say
// which provider and call failed (never a secret).
package apiclient

import (
	"bytes"
	"context"
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
)

// MaxResponseBytes bounds how much of a provider response is read.
const MaxResponseBytes = 32 << 20

// Client calls one provider's API.
type Client struct {
	Provider providers.Name
	BaseURL  string
	HTTP     *http.Client
	// Header is applied to every request (auth headers). It is never logged
	// nor included in errors.
	Header http.Header
	// Retries is how many times a 429/5xx is retried (default 3).
	Retries int
	// Backoff is the first wait between retries, doubled each time (default
	// 200 ms); a Retry-After header in seconds overrides it.
	Backoff time.Duration
	// Sleep waits; tests inject a fake. Defaults to a context-aware sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client with a 10 s timeout when httpClient is nil.
func New(provider providers.Name, baseURL string, httpClient *http.Client, header http.Header) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	if header == nil {
		header = http.Header{}
	}
	return &Client{Provider: provider, BaseURL: strings.TrimRight(baseURL, "/"), HTTP: httpClient, Header: header, Retries: 3, Backoff: 200 * time.Millisecond}
}

// Response is a provider reply that was read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends method path with body (nil, []byte or a value to JSON-encode) and
// returns the response. A 429 or 5xx is retried; any other status is returned
// as is for the adapter to decode (its documented error shapes differ).
func (c *Client) Do(ctx context.Context, call, method, path string, body any, extra http.Header) (*Response, error) {
	var payload []byte
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = b
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("%s: %s: encode request: %w", c.Provider, call, err)
		}
		contentType = "application/json"
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	backoff := c.Backoff
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: build request: %w", c.Provider, call, err)
		}
		for k, v := range c.Header {
			req.Header[k] = v
		}
		for k, v := range extra {
			req.Header[k] = v
		}
		if contentType != "" && req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := c.HTTP.Do(req)
		if err != nil {
			if attempt < c.Retries && ctx.Err() == nil {
				if serr := sleep(ctx, backoff); serr != nil {
					return nil, fmt.Errorf("%s: %s: %w", c.Provider, call, serr)
				}
				backoff *= 2
				continue
			}
			return nil, fmt.Errorf("%s: %s: %w", c.Provider, call, redactURL(err))
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: read response: %w", c.Provider, call, err)
		}
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) && attempt < c.Retries {
			wait := backoff
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 && s <= 60 {
				wait = time.Duration(s) * time.Second
			}
			if serr := sleep(ctx, wait); serr != nil {
				return nil, fmt.Errorf("%s: %s: %w", c.Provider, call, serr)
			}
			backoff *= 2
			continue
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
	}
}

// JSON calls Do and decodes a 2xx JSON reply into out (unknown fields are
// ignored: providers add keys without notice). A non-2xx becomes an
// *providers.APIError carrying the status; adapters that know their error
// envelope decode it themselves via Do.
func (c *Client) JSON(ctx context.Context, call, method, path string, body any, out any) error {
	resp, err := c.Do(ctx, call, method, path, body, nil)
	if err != nil {
		return err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return &providers.APIError{Provider: c.Provider, Call: call, HTTPStatus: resp.Status, Message: Snippet(string(resp.Body))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("%s: %s: decode response: %w", c.Provider, call, err)
	}
	return nil
}

// Snippet is the start of a provider's reply (at most 200 bytes, valid
// UTF-8) for an error message.
func Snippet(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// redactURL drops the URL from transport errors: a query string could carry
// a token.
func redactURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s request: %w", uerr.Op, uerr.Err)
	}
	return err
}

// Sleep waits d or until ctx ends (the default Client.Sleep).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
