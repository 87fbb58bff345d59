package samltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// maxSteps bounds how many forms Client follows in one call.
const maxSteps = 8

// Client is a browser stand-in: an http.Client with a cookie jar that follows redirects, fills the
// IdP's login form with its credentials, and posts the auto-submitting SAML forms (those carrying
// SAMLRequest or SAMLResponse), until it reaches a page with neither.
type Client struct {
	HTTP *http.Client
	// Credentials are filled into a login form's fields of the same name ("username", "password").
	Credentials url.Values
	// Tamper, when set, sees (and may change) every form just before the client posts it.
	Tamper func(action *url.URL, form url.Values)
}

// Page is where a Client call ended.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   []byte
}

// NewClient returns a Client with an empty cookie jar that signs in at the IdP as username.
func NewClient(username, password string) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(fmt.Sprintf("samltest: cookie jar: %v", err)) // cookiejar.New(nil) never fails
	}
	return &Client{
		HTTP:        &http.Client{Jar: jar},
		Credentials: url.Values{"username": {username}, "password": {password}},
	}
}

// Get loads rawURL and follows what a browser would.
func (c *Client) Get(ctx context.Context, rawURL string) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("samltest: get %s: %w", rawURL, err)
	}
	return c.do(ctx, req)
}

// PostForm posts form to action (as a browser submitting it would) and follows what comes back.
func (c *Client) PostForm(ctx context.Context, action string, form url.Values) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("samltest: post %s: %w", action, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(ctx, req)
}

func (c *Client) do(ctx context.Context, req *http.Request) (*Page, error) {
	for step := 0; ; step++ {
		page, err := c.fetch(req)
		if err != nil {
			return nil, err
		}
		f, ok := findForm(page.Body)
		if !ok || !c.follows(f) {
			return page, nil
		}
		if step == maxSteps {
			return page, fmt.Errorf("samltest: more than %d forms in a row", maxSteps)
		}
		action, err := page.URL.Parse(f.action)
		if err != nil {
			return nil, fmt.Errorf("samltest: form action %q: %w", f.action, err)
		}
		for name := range f.values {
			if v, ok := c.Credentials[name]; ok && f.fillable[name] {
				f.values[name] = v
			}
		}
		if c.Tamper != nil {
			c.Tamper(action, f.values)
		}
		if !strings.EqualFold(f.method, http.MethodPost) {
			return nil, fmt.Errorf("samltest: form method %q is not POST", f.method)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(f.values.Encode()))
		if err != nil {
			return nil, fmt.Errorf("samltest: post %s: %w", action, err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
}

func (c *Client) fetch(req *http.Request) (*Page, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("samltest: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("samltest: read %s: %w", req.URL.Redacted(), err)
	}
	return &Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// follows reports whether the client submits f: a SAML binding form, or a login form it has
// credentials for.
func (c *Client) follows(f form) bool {
	if f.values.Has("SAMLResponse") || f.values.Has("SAMLRequest") && !f.hasPassword {
		return true
	}
	if f.hasPassword {
		for name := range f.fillable {
			if !c.Credentials.Has(name) {
				return false
			}
		}
		return true
	}
	return false
}

type form struct {
	action, method string
	values         url.Values
	fillable       map[string]bool // visible text/password inputs
	hasPassword    bool
}

// findForm returns the first <form> in body with its inputs.
func findForm(body []byte) (form, bool) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return form{}, false
	}
	var found *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" {
			found = n
			return
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	if found == nil {
		return form{}, false
	}
	f := form{action: attr(found, "action"), method: attr(found, "method"), values: url.Values{}, fillable: map[string]bool{}}
	if f.method == "" {
		f.method = http.MethodGet
	}
	var inputs func(*html.Node)
	inputs = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			name, typ := attr(n, "name"), strings.ToLower(attr(n, "type"))
			switch {
			case name == "" || typ == "submit" || typ == "button" || typ == "image":
			case typ == "hidden":
				f.values.Add(name, attr(n, "value"))
			default:
				f.values.Add(name, attr(n, "value"))
				f.fillable[name] = true
				if typ == "password" {
					f.hasPassword = true
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			inputs(ch)
		}
	}
	inputs(found)
	return f, true
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// ErrNoForm is returned by FormValues when a page holds no form.
var ErrNoForm = errors.New("samltest: no form on the page")

// FormValues returns the action (resolved against the page URL) and fields of the first form on
// page, for tests that post a captured form themselves.
func FormValues(page *Page) (*url.URL, url.Values, error) {
	f, ok := findForm(page.Body)
	if !ok {
		return nil, nil, ErrNoForm
	}
	action, err := page.URL.Parse(f.action)
	if err != nil {
		return nil, nil, fmt.Errorf("samltest: form action %q: %w", f.action, err)
	}
	return action, f.values, nil
}
