// Package flow holds the workflows that join provider adapters to the
// store: starting a verification, taking in and processing the inbox of
// webhooks and callbacks, and the background jobs (retries, polls,
// reconciliation). Handlers and jobs call these; no workflow is spread over
// handlers.
package flow

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
)

// InboundHandler turns a stored, authenticated inbound body into the
// updates it carries, fetching the provider's authoritative state where the
// contract says to treat the delivery as a trigger.
type InboundHandler func(ctx context.Context, item db.InboxItem, header http.Header, body []byte) ([]providers.Update, error)

// Service runs the workflows.
type Service struct {
	DB       *db.DB
	Registry *providers.Registry
	// Inbound maps a provider to its inbox handler.
	Inbound map[providers.Name]InboundHandler
	// BaseURL is our public URL (callback URLs and end-user pages).
	BaseURL string
	Now     func() time.Time
	Logger  *slog.Logger

	nudge chan struct{}
}

// New returns a service; nil Now and Logger get defaults.
func New(s Service) *Service {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Inbound == nil {
		s.Inbound = map[providers.Name]InboundHandler{}
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	s.nudge = make(chan struct{}, 1)
	return &s
}

// Errors the workflows return.
var (
	ErrUnknownProvider = errors.New("provider not configured")
	ErrNotStartable    = errors.New("this provider's verifications are not started by staff")
	ErrNoVerification  = errors.New("no verification matches this delivery")
)

var refEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// NewReference makes the reference we send a provider for one
// verification: ours, random, and never our internal id (the IDfy document
// insists on it; it is good hygiene everywhere).
func NewReference(p providers.Name) string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic("flow: crypto/rand failed: " + err.Error())
	}
	return "kd" + string(p)[:2] + "_" + refEncoding.EncodeToString(b)
}

// CallbackURL is our URL for a provider endpoint path like
// "/callbacks/corepass/status".
func (s *Service) CallbackURL(path string) string { return s.BaseURL + path }

// EndUserURL is the end-user page of a verification token.
func (s *Service) EndUserURL(token string) string { return s.BaseURL + "/v/" + token }

func (s *Service) adapter(p providers.Name) (*providers.Adapter, error) {
	a, ok := s.Registry.Get(p)
	if !ok {
		return nil, fmt.Errorf("flow: %s: %w", p, ErrUnknownProvider)
	}
	return a, nil
}

// Actor is who performs a staff action.
type Actor struct {
	ID    int64
	Email string
	IP    string
}

func (a Actor) audit() db.AuditEntry {
	return db.AuditEntry{ActorID: a.ID, Actor: a.Email, IP: a.IP}
}

// sourceOf names the timeline source of an inbox endpoint.
func sourceOf(endpoint string) string {
	if strings.HasPrefix(endpoint, "callbacks/") || strings.HasPrefix(endpoint, "selfkey/") {
		return "callback"
	}
	return "webhook"
}
