package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/handlers"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/web"
)

// server is a running HTTP server on loopback.
type server struct {
	url string
	srv *http.Server
}

// listen serves the handler that build makes for the server's URL on
// 127.0.0.1:0, with the timeouts cmd/kycdesk's serve uses.
func listen(build func(url string) (http.Handler, error)) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := "http://" + ln.Addr().String()
	h, err := build(u)
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go srv.Serve(ln)
	return &server{url: u, srv: srv}, nil
}

func (s *server) close() { s.srv.Close() }

// appHandler wires KYC Desk as serve does (handlers over the web edge), with
// no provider configured: the list, search and applicant pages need none.
// The logger formats every line as production does, then drops it.
func appHandler(d *db.DB, baseURL string) (http.Handler, error) {
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	registry := providers.NewRegistry()
	fl := flow.New(flow.Service{DB: d, Registry: registry, BaseURL: baseURL, Logger: logger})
	limits := db.SessionLimits{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
	h := handlers.New(handlers.Deps{DB: d, Logger: logger, LocalLogin: true, Registry: registry, Flow: fl})
	s, err := web.New(web.Config{
		BaseURL:       baseURL,
		SessionKeys:   [][]byte{seal.NewKey(), seal.NewKey()},
		Limits:        web.SessionLimits{Idle: limits.Idle, Absolute: limits.Absolute},
		Logger:        logger,
		LookupSession: h.LookupSession(limits),
		ErrorPage:     h.ErrorPage,
		OnDenied:      h.OnDenied,
	})
	if err != nil {
		return nil, err
	}
	h.SetWeb(s)
	h.Mount(s)
	return s.Echo, nil
}

// helloWorld is the ceiling: the least a Go HTTP server can do per request.
func helloWorld(string) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, world!\n")
	}), nil
}

// signIn signs in through the login form and returns the session's Cookie
// header.
func signIn(ctx context.Context, base, email, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	doc, status, err := getPage(ctx, c, base+"/login", "")
	if err != nil || status != http.StatusOK {
		return "", fmt.Errorf("sign in: GET /login: %d %v", status, err)
	}
	csrf, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	resp, err := c.PostForm(base+"/login", url.Values{"_csrf": {csrf}, "email": {email}, "password": {password}})
	if err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("sign in: POST /login answered %d", resp.StatusCode)
	}
	u, _ := url.Parse(base)
	var cookie string
	for _, ck := range jar.Cookies(u) {
		if cookie != "" {
			cookie += "; "
		}
		cookie += ck.Name + "=" + ck.Value
	}
	return cookie, nil
}

// getPage fetches and parses one page with the given Cookie header.
func getPage(ctx context.Context, c *http.Client, u, cookie string) (*goquery.Document, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	return doc, resp.StatusCode, err
}

// rowCount is the number of applicant rows on a list page.
func rowCount(doc *goquery.Document) int {
	return doc.Find(`[data-testid="applicant-row"]`).Length()
}

// deepPage follows the list's next-page links from first, depth times (or
// to the last page), and returns the URL reached and how deep it is.
func deepPage(ctx context.Context, base, first, cookie string, depth int) (string, int, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	u := first
	for i := 0; i < depth; i++ {
		doc, status, err := getPage(ctx, c, base+u, cookie)
		if err != nil || status != http.StatusOK {
			return "", i, fmt.Errorf("follow next pages: %s: %d %v", u, status, err)
		}
		next, ok := doc.Find(`[data-testid="next-page"]`).Attr("href")
		if !ok {
			return u, i, nil
		}
		u = next
	}
	return u, depth, nil
}
