// Package sim is a Blockpass KYC Connect simulator: the Dashboard API
// (/kyc/1.0/connect/{clientId}/applicants[/{status}], /refId/{refId},
// /recordId/{recordId}) served from memory with skip/limit paging, 429s on
// demand, archive after extract and optional response encryption; signed
// webhooks (X-Hub-Signature, X-Blockpass-Delivery) sent to a configured
// URL; an end-user page at /_sim/blockpass/connect/{refId} (where a KYC
// Connect link leads in sandbox mode) and an operator console at
// /_sim/blockpass/. Go methods drive the same actions for tests.
//
// Seed(n) makes n candidates that are generated from their index when
// asked for, so 100,000 of them cost next to nothing until they change.
package sim

import (
	"crypto/rsa"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Scope is the API key's data scope set in the Blockpass console.
type Scope string

// API key scopes.
const (
	// ScopeAll returns metadata and identity attributes including pictures.
	ScopeAll Scope = "all"
	// ScopeNoPictures returns metadata and attributes except pictures.
	ScopeNoPictures Scope = "no_pictures"
	// ScopeMetadata returns status and ids only.
	ScopeMetadata Scope = "metadata"
)

// Defaults for a zero Config.
const (
	DefaultClientID     = "kycdesk_sandbox_5b1e0"
	DefaultArchiveAfter = 10 * time.Second // "10 sec recommended" in the Blockpass console
	DefaultPageLimit    = 20
	DefaultMaxLimit     = 100
	DefaultRetryAfter   = time.Second
)

// Config configures a simulator.
type Config struct {
	// PublicURL is the simulator's externally visible root, for the links
	// it hands out (ConnectPattern).
	PublicURL string
	// ClientID is the KYC Connect service's client id (DefaultClientID).
	ClientID string
	// APIKey is the Authorization value the API requires; empty accepts any
	// non-empty one.
	APIKey string
	// WebhookURL receives the webhooks; empty sends none (they are still
	// listed by Deliveries).
	WebhookURL string
	// WebhookSecret keys X-Hub-Signature; empty sends webhooks unsigned, as
	// Blockpass does for a webhook without an endpoint secret.
	WebhookSecret string
	// SignatureWithPrefix sends "sha256=<hex>" instead of the bare hex.
	SignatureWithPrefix bool
	// Now is the simulator clock (time.Now).
	Now func() time.Time
	// HTTPClient sends webhooks (a 10 s timeout client).
	HTTPClient *http.Client
	// ArchiveAfter is the API key's "archive after extract" delay: 0 means
	// DefaultArchiveAfter, negative switches it off.
	ArchiveAfter time.Duration
	// Scope is the API key's data scope (ScopeAll).
	Scope Scope
	// RateLimitEvery answers every Nth API request with 429 (0: never).
	RateLimitEvery int
	// RetryAfter is the Retry-After a 429 carries (DefaultRetryAfter).
	RetryAfter time.Duration
	// MaxLimit caps a page (DefaultMaxLimit).
	MaxLimit int
	// ResponseEncryptionHeader and ResponseEncryptionKey switch on the
	// assumed per-request response encryption (blockpass.ResponseEncryptionNote):
	// the request header with the wrapped AES key and the dashboard's
	// private key that unwraps it.
	ResponseEncryptionHeader string
	ResponseEncryptionKey    *rsa.PrivateKey
	// Rand supplies response IVs (crypto/rand).
	Rand io.Reader
	// ExportPublicKey is the customer's RSA public key the dashboard seals
	// encrypted profile exports to (see Export); nil offers no exports.
	ExportPublicKey *rsa.PublicKey
}

// Server is the simulator; it implements http.Handler.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	pages *template.Template

	mu            sync.Mutex
	seeded        int
	seedState     map[int]*record
	deletedSeeded int
	created       []*record
	byRecordID    map[string]*record // created records only
	byRefID       map[string]*record // created records only
	nextID        uint64
	apiCalls      int
	rateLimited   bool
	rateLimitNext int
	deliveries    []Delivery
	exports       map[string]exportFiles // by recordId, see exportDownload
}

// New returns a simulator with no candidates (see Seed and Submit).
func New(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.ArchiveAfter == 0 {
		cfg.ArchiveAfter = DefaultArchiveAfter
	}
	if cfg.Scope == "" {
		cfg.Scope = ScopeAll
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = DefaultMaxLimit
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Server{
		cfg:        cfg,
		mux:        http.NewServeMux(),
		pages:      parsePages(),
		seedState:  map[int]*record{},
		byRecordID: map[string]*record{},
		byRefID:    map[string]*record{},
		exports:    map[string]exportFiles{},
	}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	api := "/kyc/1.0/connect/{clientId}"
	s.mux.HandleFunc("GET "+api+"/applicants", s.api(s.listApplicants))
	s.mux.HandleFunc("GET "+api+"/applicants/{status}", s.api(s.listApplicants))
	s.mux.HandleFunc("GET "+api+"/refId/{refId}", s.api(s.getByRefID))
	s.mux.HandleFunc("GET "+api+"/recordId/{recordId}", s.api(s.getByRecordID))
	s.mux.HandleFunc("GET /_sim/blockpass/{$}", s.consolePage)
	s.mux.HandleFunc("POST /_sim/blockpass/operator", s.operatorAction)
	s.mux.HandleFunc("POST /_sim/blockpass/settings", s.settingsAction)
	s.mux.HandleFunc("GET /_sim/blockpass/connect/{refId}", s.connectPage)
	s.mux.HandleFunc("POST /_sim/blockpass/connect/{refId}", s.connectSubmit)
	s.mux.HandleFunc("GET /_sim/blockpass/export/{recordId}/{file}", s.exportDownload)
}

// ClientID is the simulated service's client id.
func (s *Server) ClientID() string { return s.cfg.ClientID }

// ConnectPattern is the KYC Connect link pattern that leads to this
// simulator's end-user page, for blockpass.Config.ConnectPattern.
func (s *Server) ConnectPattern() string { return s.cfg.PublicURL + "/_sim/blockpass/connect/{refId}" }

// ConsoleURL is the operator console's address.
func (s *Server) ConsoleURL() string { return s.cfg.PublicURL + "/_sim/blockpass/" }

// lookupLocked finds a live candidate by recordId (byRecord) or refId. The
// caller holds s.mu. Seeded candidates are generated, not stored: mutate
// through materializeLocked.
func (s *Server) lookupLocked(id string, byRecord bool) *record {
	if byRecord {
		if r, ok := s.byRecordID[id]; ok {
			return r
		}
		if i, ok := seedIndexFromRecordID(id); ok {
			return s.seedLocked(i)
		}
		return nil
	}
	if r, ok := s.byRefID[id]; ok {
		return r
	}
	if i, ok := seedIndexFromRefID(id); ok {
		return s.seedLocked(i)
	}
	return nil
}

// seedLocked is seeded candidate i as it stands, nil when out of range or
// deleted.
func (s *Server) seedLocked(i int) *record {
	if i < 0 || i >= s.seeded {
		return nil
	}
	if r, ok := s.seedState[i]; ok {
		if r.deleted {
			return nil
		}
		return r
	}
	return seedRecord(i)
}

// materializeLocked makes r (possibly a generated seeded candidate) the
// stored one, so that changes to it last.
func (s *Server) materializeLocked(r *record) *record {
	if r.seed < 0 {
		return r
	}
	if stored, ok := s.seedState[r.seed]; ok {
		return stored
	}
	s.seedState[r.seed] = r
	return r
}

// statusLocked is seeded candidate i's status without generating it, ""
// when deleted.
func (s *Server) seedStatusLocked(i int) string {
	if r, ok := s.seedState[i]; ok {
		if r.deleted {
			return ""
		}
		return r.status
	}
	return SeedStatus(i)
}

// pageLocked returns the candidates at [skip, skip+limit) of the listing
// (all, or those in status) and the listing's total.
func (s *Server) pageLocked(status string, skip, limit int) ([]*record, int) {
	var out []*record
	if status == "" && s.deletedSeeded == 0 {
		total := s.seeded + len(s.created)
		for idx := skip; idx < skip+limit && idx < total; idx++ {
			if idx < s.seeded {
				out = append(out, s.seedLocked(idx))
			} else {
				out = append(out, s.created[idx-s.seeded])
			}
		}
		return out, total
	}
	total := 0
	for i := 0; i < s.seeded; i++ {
		st := s.seedStatusLocked(i)
		if st == "" || (status != "" && st != status) {
			continue
		}
		if total >= skip && total < skip+limit {
			out = append(out, s.seedLocked(i))
		}
		total++
	}
	for _, r := range s.created {
		if status != "" && r.status != status {
			continue
		}
		if total >= skip && total < skip+limit {
			out = append(out, r)
		}
		total++
	}
	return out, total
}
