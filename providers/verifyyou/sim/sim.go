// Package sim is a VerifyYou simulator for tests and sandbox mode: it
// serves the seed document's business connect API (register,
// check_connection_status, check_for_updates) from memory at the seed's
// paths relative to its root, answers with the documented envelopes and
// errors, keeps a timestamped change feed for check_for_updates, signs the
// webhooks it sends with the configured secret (X-Hub-Signature-256:
// sha256=<hex>) and retries them, and has an end-user page under
// /_sim/verifyyou/invite/{unique_id} to accept, delete or deverify a
// connection.
//
// It is a test peer: it does not import the adapter, so that the two
// implementations of the contract check each other.
package sim

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/providers/apiclient"
)

// Config configures a simulator.
type Config struct {
	// PublicURL is the simulator's externally visible root (for example
	// http://127.0.0.1:8080/sandbox/verifyyou); invite URLs point under it.
	PublicURL string
	// APIKey is the API key the API accepts in its API-KEY header. Empty
	// accepts any non-empty key.
	APIKey string
	// WebhookBaseURL is the configured webhook URL; each event's name is
	// appended as a path segment (<WebhookBaseURL>/connection_verified).
	// Empty sends no webhooks.
	WebhookBaseURL string
	// WebhookSecret is the shared secret webhooks are signed with.
	WebhookSecret string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient sends webhooks (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// MaxAttempts is how many times a webhook is tried until a 2xx
	// (default 3: "will try up to 3 times", seed).
	MaxAttempts int
	// RetryBackoff is the first wait between tries, doubled after each
	// (default 1 s: "exponential dropoff", seed).
	RetryBackoff time.Duration
	// Sleep waits between tries (default: a context-aware timer); tests
	// inject one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand makes ids and sample data (default crypto/rand).
	Rand io.Reader
	// OmitTransactionID sends the seed's webhook body exactly,
	// {"payload":{...}}. By default a top-level transaction_id (as in the
	// public v1 API) is added, stable across retries, so that receivers can
	// tell a re-acceptance from a retry.
	OmitTransactionID bool
}

// Server is the simulator; it implements http.Handler.
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu          sync.Mutex
	users       map[string]*user  // by unique_id
	byRef       map[string]string // reference_id -> unique_id
	order       []string          // unique_ids in registration order
	changes     []change
	deliveries  []Delivery
	maintenance bool
}

// New returns a simulator for cfg with no users.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = apiclient.Sleep
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Server{cfg: cfg, users: map[string]*user{}, byRef: map[string]string{}}
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// ServeHTTP serves the API and the end-user pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux.HandleFunc(PathRegister, s.api(s.register))
	s.mux.HandleFunc(PathCheckConnectionStatus, s.api(s.checkConnectionStatus))
	s.mux.HandleFunc(PathCheckForUpdates, s.api(s.checkForUpdates))
	s.mux.HandleFunc("GET "+pagePrefix+"{$}", s.listPage)
	s.mux.HandleFunc("GET "+pagePrefix+"invite/{id}", s.invitePage)
	s.mux.HandleFunc("POST "+pagePrefix+"invite/{id}/{action}", s.inviteAction)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFailure(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint")
	})
}

// SetMaintenance makes every API call answer 503
// SERVICE_TEMPORARILY_UNAVAILABLE (public v1) while on.
func (s *Server) SetMaintenance(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maintenance = on
}

// InviteURL is the end-user page of uniqueID:
// <PublicURL>/_sim/verifyyou/invite/<unique_id>.
func (s *Server) InviteURL(uniqueID string) string {
	return s.cfg.PublicURL + pagePrefix + "invite/" + uniqueID
}
