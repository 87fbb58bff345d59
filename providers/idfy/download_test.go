package idfy

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kycdesk/kycdesk/providers"
)

func TestDownloadResource(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n rest of a png")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderAPIKey) != "" || r.Header.Get(HeaderAccountID) != "" {
			t.Error("credentials sent to a resource URL")
		}
		switch r.URL.Path {
		case "/octet":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(png)
		case "/big":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(bytes.Repeat([]byte{1}, MaxResourceBytes+1))
		case "/huge-declared":
			w.Header().Set("Content-Length", "999999999")
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(Config{URL: "https://api.kyc.idfy.com", APIKey: "k", AccountID: "a"}, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	doc, err := c.DownloadResource(ctx, srv.URL+"/octet?Expires=1&Signature=abc")
	if err != nil {
		t.Fatal(err)
	}
	if doc.ContentType != "image/png" || !bytes.Equal(doc.Data, png) {
		t.Errorf("sniffed %q", doc.ContentType)
	}
	tests := []struct {
		name, url, wantErr string
		wantStatus         int
	}{
		{name: "over the limit", url: srv.URL + "/big", wantErr: "limit"},
		{name: "declared over the limit", url: srv.URL + "/huge-declared", wantErr: "limit"},
		{name: "not found", url: srv.URL + "/gone?Signature=secret-sig", wantErr: "expired", wantStatus: http.StatusNotFound},
		{name: "ftp", url: "ftp://files.example.com/a", wantErr: "refusing"},
		{name: "http off loopback and off the API host", url: "http://files.example.com/a", wantErr: "refusing"},
		{name: "relative", url: "/a/b", wantErr: "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DownloadResource(ctx, tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			var ae *providers.APIError
			if tt.wantStatus != 0 && (!errors.As(err, &ae) || ae.HTTPStatus != tt.wantStatus) {
				t.Errorf("err = %v, want HTTP %d", err, tt.wantStatus)
			}
			if strings.Contains(err.Error(), "secret-sig") {
				t.Errorf("error leaks the URL: %v", err)
			}
		})
	}
}

func TestDownloadAllowsHTTPOnTheAPIHost(t *testing.T) {
	c, _ := New(Config{URL: "http://desk.lan:8080/sandbox/idfy"}, nil, nil)
	for raw, want := range map[string]bool{
		"http://desk.lan:8080/sandbox/idfy/_sim/idfy/resources/p/image/selfie": true,
		"http://desk.lan:9090/x":       false,
		"https://storage.example/x":    true,
		"http://localhost:1/x":         true,
		"file:///etc/passwd":           false,
		"http://evil.example/desk.lan": false,
	} {
		u, _ := url.Parse(raw)
		if got := c.downloadAllowed(u); got != want {
			t.Errorf("downloadAllowed(%s) = %v, want %v", raw, got, want)
		}
	}
}

// TestStartFetchesLinkWhenAsyncReplyHasNone covers the unpublished async
// reply: when it carries only a profile_id, Start reads the link from the
// profile.
func TestStartFetchesLinkWhenAsyncReplyHasNone(t *testing.T) {
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == PathAsyncCreate:
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"profile_id":"p-async","request_id":"req-1"}`))
		case r.Method == http.MethodGet && r.URL.Path == "/profiles/p-async":
			gets.Add(1)
			_, _ = w.Write([]byte(`{"profile_id":"p-async","status":"capture_pending","capture_link":"https://capture.idfy.com?t=abc","capture_expires_at":"2030-01-01T00:00:00.000Z"}`))
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, _ := New(Config{URL: srv.URL, AccountID: "a", APIKey: "k", ConfigID: "cfg", ReturnBaseURL: testReturn}, srv.Client(), newClock().Now)
	started, err := c.Start(context.Background(), providers.StartRequest{Reference: "r",
		Params: map[string]string{"text.a": "1", "text.b": "2", "text.c": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if gets.Load() != 1 || !strings.HasPrefix(started.Link, "https://capture.idfy.com?t=abc&redirect_uri=") || started.ProviderRef != "p-async" {
		t.Errorf("started %+v after %d gets", started, gets.Load())
	}
}
