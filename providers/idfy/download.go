package idfy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// MaxResourceBytes bounds one downloaded resource (an image or the profile
// report). Larger files are refused, not truncated.
const MaxResourceBytes = 20 << 20

// DownloadResource fetches one resource URL from a profile (an image or the
// profile report). The URLs are signed and expire, so the flow downloads
// them right after GetProfile. No IDfy credential is sent (the signature in
// the URL is the authorisation); the URL must be https, or http on a
// loopback host or the configured API host (sandbox). Errors never include
// the URL (it carries a signature).
func (c *Client) DownloadResource(ctx context.Context, rawURL string) (providers.Document, error) {
	const call = "download resource"
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return providers.Document{}, fmt.Errorf("idfy: %s: not an absolute URL", call)
	}
	if !c.downloadAllowed(u) {
		return providers.Document{}, fmt.Errorf("idfy: %s: refusing a %s URL outside the API host", call, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return providers.Document{}, fmt.Errorf("idfy: %s: build request: %w", call, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return providers.Document{}, fmt.Errorf("idfy: %s: %w", call, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return providers.Document{}, &providers.APIError{Provider: providers.IDfy, Call: call, HTTPStatus: resp.StatusCode,
			Message: "the resource URL may have expired: re-fetch the profile for fresh ones"}
	}
	if n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil && n > MaxResourceBytes {
		return providers.Document{}, fmt.Errorf("idfy: %s: %d bytes is over the %d-byte limit", call, n, MaxResourceBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResourceBytes+1))
	if err != nil {
		return providers.Document{}, fmt.Errorf("idfy: %s: read: %w", call, err)
	}
	if len(data) > MaxResourceBytes {
		return providers.Document{}, fmt.Errorf("idfy: %s: over the %d-byte limit", call, MaxResourceBytes)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt == "application/octet-stream" || mt == "binary/octet-stream" {
		ct = http.DetectContentType(data)
	} else {
		ct = mt
	}
	return providers.Document{ContentType: ct, Data: data}, nil
}

func (c *Client) downloadAllowed(u *url.URL) bool {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		if IsLoopback(u.Hostname()) {
			return true
		}
		api, err := url.Parse(c.cfg.URL)
		return err == nil && strings.EqualFold(api.Scheme, "http") && strings.EqualFold(api.Host, u.Host)
	}
	return false
}

// Documents downloads a profile's report and images into documents named
// "<kind>_<type>" (document_profile_report, image_selfie, ...; a repeated
// name gets a _2, _3 suffix). Videos are left out: they are large, and the
// video record stays with IDfy. The first failed download fails the whole
// call, so that the caller re-fetches the profile (fresh URLs) and retries
// instead of storing half a profile.
func (c *Client) Documents(ctx context.Context, p Profile) ([]providers.Document, error) {
	var refs []ResourceRef
	refs = append(refs, p.Resources.Documents...)
	refs = append(refs, p.Resources.Images...)
	seen := map[string]int{}
	var docs []providers.Document
	for _, r := range refs {
		if r.Value == "" {
			continue
		}
		name := documentName(r)
		seen[name]++
		if n := seen[name]; n > 1 {
			name += "_" + strconv.Itoa(n)
		}
		doc, err := c.DownloadResource(ctx, r.Value)
		if err != nil {
			return nil, fmt.Errorf("idfy: profile resource %s: %w", name, err)
		}
		doc.Name = name
		docs = append(docs, doc)
	}
	return docs, nil
}

// documentName builds a file-system and log safe name from a resource's
// kind and type.
func documentName(r ResourceRef) string {
	t := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, r.Type)
	if len(t) > 40 {
		t = t[:40]
	}
	if t == "" {
		t = "unnamed"
	}
	return r.Kind + "_" + t
}
