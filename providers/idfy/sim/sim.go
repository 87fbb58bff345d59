// Package sim is an IDfy Profile Gateway simulator for tests and sandbox
// mode. It serves, from memory and relative to its root, the synchronous and
// asynchronous create-profile calls (POST /sync/profiles for at most two
// resources, POST /profiles above), their encrypted variants when it holds
// the same JWE key as the adapter, GET /profiles/{id} with resource URLs that
// expire, and errors for bad credentials, bad bodies, too many resources for
// the sync call, duplicate reference ids and unknown profiles. It sends
// session and profile-status webhooks to the configured URL (with the shared
// secret header when one is configured), and has two plain HTML pages: the
// end user's capture page at /_sim/idfy/capture/{profile_id} (the capture
// link points there) and an operator page at /_sim/idfy/ where an "agent"
// approves or rejects a completed profile, purges it or lets a capture link
// expire. The same steps are Go methods for tests.
//
// IDfy's error bodies, async reply and webhook shapes are not public; the
// choices made here mirror the adapter's documented assumptions. The
// simulator does not import the adapter, so that the two implementations of
// the contract check each other.
package sim

import (
	"crypto/rand"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Paths the simulator serves, relative to its root.
const (
	PathSyncCreate           = "/sync/profiles"
	PathAsyncCreate          = "/profiles"
	PathEncryptedSyncCreate  = "/sync/profiles/encrypted"
	PathEncryptedAsyncCreate = "/profiles/encrypted"
	PathProfile              = "/profiles/{id}"
	pagePrefix               = "/_sim/idfy/"
)

// DefaultWebhookHeader carries the shared webhook secret when
// Config.WebhookHeader is empty (the adapter's default too).
const DefaultWebhookHeader = "X-KYCDesk-Secret"

// MaxSyncResources is the most resources the sync create accepts (seed).
const MaxSyncResources = 2

// Errors the Go driving methods return.
var (
	ErrNotFound = errors.New("idfy sim: no such profile")
	ErrState    = errors.New("idfy sim: not allowed in the profile's current status")
)

// Config configures a simulator.
type Config struct {
	// PublicURL is the simulator's externally visible root (for example
	// http://127.0.0.1:8080/sandbox/idfy); capture links and resource URLs
	// point under it. Empty falls back to http://<request Host>.
	PublicURL string
	// AccountID and APIKey are the credentials the API accepts in the
	// account-id and api-key headers. Empty accepts any non-empty value.
	AccountID string
	APIKey    string
	// KeyID and Key (32 bytes) enable the encrypted flow: the encrypted
	// create paths decrypt encrypted_data/encrypted_payload, and
	// GET /profiles/{id} returns the profile's details in encrypted_data.
	KeyID string
	Key   []byte
	// WebhookURL receives the webhooks (KYC Desk's /webhooks/idfy). Empty
	// sends none.
	WebhookURL string
	// WebhookSecret, when set, is sent in WebhookHeader with every webhook.
	WebhookSecret string
	WebhookHeader string
	// CaptureTTL is how long a capture link is valid (default 24 h).
	CaptureTTL time.Duration
	// ResourceTTL is how long a resource URL handed out by
	// GET /profiles/{id} is valid (default 15 min).
	ResourceTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient sends webhooks (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Rand makes ids, tokens and the resource-URL key (default crypto/rand).
	Rand io.Reader
}

// Server is the simulator; it implements http.Handler.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	pages *template.Template

	mu         sync.Mutex
	urlKey     []byte
	profiles   map[string]*profile // by profile id
	byRef      map[string]string   // reference_id -> profile id
	order      []string            // profile ids in creation order
	failNext   []int               // statuses the next API calls answer with
	deliveries []Delivery
}

// New returns a simulator for cfg with no profiles. It panics if Rand
// fails (crypto/rand does not).
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.CaptureTTL <= 0 {
		cfg.CaptureTTL = 24 * time.Hour
	}
	if cfg.ResourceTTL <= 0 {
		cfg.ResourceTTL = 15 * time.Minute
	}
	if cfg.WebhookHeader == "" {
		cfg.WebhookHeader = DefaultWebhookHeader
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Server{cfg: cfg, profiles: map[string]*profile{}, byRef: map[string]string{}}
	s.urlKey = make([]byte, 32)
	if _, err := io.ReadFull(cfg.Rand, s.urlKey); err != nil {
		panic("idfy sim: read randomness: " + err.Error())
	}
	s.pages = template.Must(template.New("pages").Parse(pageTemplates))
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// ServeHTTP serves the API, the resource downloads and the pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST "+PathSyncCreate, s.api(s.create(false, false)))
	s.mux.HandleFunc("POST "+PathAsyncCreate, s.api(s.create(true, false)))
	s.mux.HandleFunc("POST "+PathEncryptedSyncCreate, s.api(s.create(false, true)))
	s.mux.HandleFunc("POST "+PathEncryptedAsyncCreate, s.api(s.create(true, true)))
	s.mux.HandleFunc("GET "+PathProfile, s.api(s.getProfile))
	s.mux.HandleFunc("GET "+pagePrefix+"resources/{id}/{kind}/{type}", s.download)
	s.mux.HandleFunc("GET "+pagePrefix+"{$}", s.operatorPage)
	s.mux.HandleFunc("POST "+pagePrefix+"operator/{id}/{action}", s.operatorAction)
	s.mux.HandleFunc("GET "+pagePrefix+"capture/{id}", s.capturePage)
	s.mux.HandleFunc("POST "+pagePrefix+"capture/{id}/{action}", s.captureAction)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint")
	})
}

// FailNext makes the next n API calls answer status (429 with
// Retry-After: 0, or a 5xx) before doing anything, to exercise retries.
func (s *Server) FailNext(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, status)
	}
}

// CaptureURL is the end-user capture page of a profile, without its token:
// <PublicURL>/_sim/idfy/capture/<profile_id>.
func (s *Server) CaptureURL(profileID string) string {
	return s.cfg.PublicURL + pagePrefix + "capture/" + profileID
}

func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" || r == nil {
		return s.cfg.PublicURL
	}
	return "http://" + r.Host
}

func (s *Server) randomHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		panic("idfy sim: read randomness: " + err.Error())
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 2*n)
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// newUUID returns a random (version 4) UUID, as IDfy's profile ids are.
func (s *Server) newUUID() string {
	h := []byte(s.randomHex(16))
	h[12] = '4'
	h[16] = "89ab"[h[16]%4]
	return string(h[0:8]) + "-" + string(h[8:12]) + "-" + string(h[12:16]) + "-" + string(h[16:20]) + "-" + string(h[20:32])
}
