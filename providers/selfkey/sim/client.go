package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// Step is one request the wallet made and the status it got.
type Step struct {
	Method string
	Path   string
	Status int
}

// Attempt is the outcome of a request that may be refused: its status and,
// for an error, the {"code","message"} body.
type Attempt struct {
	Status  int
	Code    string
	Message string
}

// StepError is a walk step that did not get the status the wallet expects.
type StepError struct {
	Method  string
	Path    string
	Status  int
	Code    string
	Message string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("selfkey sim: %s %s: status %d %s %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// session is one wallet talking to one relying-party root.
type session struct {
	w     *Wallet
	base  string
	http  *http.Client
	steps []Step
}

func newSession(w *Wallet, baseURL string, hc *http.Client) *session {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &session{w: w, base: strings.TrimRight(baseURL, "/"), http: hc}
}

// maxReply bounds what the wallet reads of a reply.
const maxReply = 1 << 20

// do sends one request with the wallet's headers and returns the status
// and body.
func (s *session) do(ctx context.Context, method, path, bearer, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("selfkey sim: %s %s: %w", method, path, err)
	}
	req.Header.Set("User-Agent", s.w.userAgent())
	req.Header.Set("Origin", s.w.origin())
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("selfkey sim: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return 0, nil, fmt.Errorf("selfkey sim: %s %s: read reply: %w", method, path, err)
	}
	s.steps = append(s.steps, Step{Method: method, Path: path, Status: resp.StatusCode})
	return resp.StatusCode, data, nil
}

// call sends a request and decodes a 2xx JSON reply into out; another
// status becomes a *StepError.
func (s *session) call(ctx context.Context, method, path, bearer, contentType string, body []byte, out any) error {
	status, data, err := s.do(ctx, method, path, bearer, contentType, body)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		a := attemptOf(status, data)
		return &StepError{Method: method, Path: path, Status: status, Code: a.Code, Message: a.Message}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("selfkey sim: %s %s: decode reply: %w", method, path, err)
		}
	}
	return nil
}

// attempt sends a request expected to be refused and reports how.
func (s *session) attempt(ctx context.Context, method, path, bearer, contentType string, body []byte) (Attempt, error) {
	status, data, err := s.do(ctx, method, path, bearer, contentType, body)
	if err != nil {
		return Attempt{}, err
	}
	return attemptOf(status, data), nil
}

func attemptOf(status int, data []byte) Attempt {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &e) // a non-JSON error body leaves them empty
	return Attempt{Status: status, Code: e.Code, Message: e.Message}
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v) // our own maps and structs always encode
	return b
}

// part is one multipart part the wallet sends.
type part struct {
	name, contentType, filename string
	data                        []byte
}

func multipartBody(parts ...part) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name="%s"`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename="%s"`, p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, _ := mw.CreatePart(h) // writes to memory
		_, _ = pw.Write(p.data)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// nonceOf decodes a challenge JWT without verifying it, as the wallet
// does, and returns what it signs: the challenge claim, else the nonce.
func nonceOf(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("selfkey sim: challenge is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("selfkey sim: challenge payload: %w", err)
	}
	var c struct {
		Challenge string `json:"challenge"`
		Nonce     string `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", fmt.Errorf("selfkey sim: challenge payload: %w", err)
	}
	if c.Challenge != "" {
		return c.Challenge, nil
	}
	if c.Nonce == "" {
		return "", fmt.Errorf("selfkey sim: challenge has no nonce")
	}
	return c.Nonce, nil
}
