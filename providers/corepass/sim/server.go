// Package sim is a CorePass Connector simulator: the four KYC-transfer
// endpoints of the connector served from memory, signed status and data
// callbacks made exactly as the connector makes them (Ed448 over SHA3-256
// of the compact JSON), and a small end-user page, reached from the QR
// link, that accepts, fails or lets a transfer expire. It is a test peer:
// product code reaches it only over HTTP through the real adapter.
package sim

import (
	"context"
	"crypto/rand"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cloudflare/circl/sign/ed448"
)

// Config sets up a simulator.
type Config struct {
	// PublicURL is the simulator's externally visible root; the transfer
	// links it hands out point under it.
	PublicURL string
	// PrivateKey is the connector key the simulator signs with; nil means
	// a key generated from Rand at New.
	PrivateKey ed448.PrivateKey
	// Users maps a Core ID to the items it has verified and their values.
	// A user listed with an empty profile has verified nothing.
	Users map[string]Profile
	// NoDefaultProfile turns off the default: otherwise any syntactically
	// valid Core ID not in Users has DefaultProfile(id) (ID card and
	// passport, email and phone, all verified).
	NoDefaultProfile bool
	// Now is the simulator's clock (default time.Now).
	Now func() time.Time
	// HTTPClient sends the callbacks (default: 10 s timeout).
	HTTPClient *http.Client
	// Rand feeds keys, ids, peppers and transaction hashes (default
	// crypto/rand).
	Rand io.Reader
	// RetryInterval is the wait between data-callback attempts while the
	// receiver does not answer 200 (default 30 s). The real connector
	// takes its schedule from NATS_CALLBACK_TOPICS.
	RetryInterval time.Duration
	// MaxAttempts bounds the data-callback attempts, the first included
	// (default 5).
	MaxAttempts int
	// FieldPerMember sends the data callback's multipart form with one
	// field per JSON member instead of one "data" field holding the whole
	// JSON document. CorePass has not published the field names; the
	// adapter reads both shapes.
	FieldPerMember bool
}

// Server is the simulator; it implements http.Handler.
type Server struct {
	cfg  Config
	priv ed448.PrivateKey
	mux  *http.ServeMux
	page *template.Template

	ctx    context.Context // ends at Close: stops background retries
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	transfers map[string]*transfer
	order     []string // transfer ids, oldest first
}

// New returns a simulator with the defaults filled in. It panics only if
// the random source fails while generating a key.
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
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	users := make(map[string]Profile, len(cfg.Users))
	for id, p := range cfg.Users {
		users[strings.TrimPrefix(strings.ToLower(id), "0x")] = p
	}
	cfg.Users = users
	priv := cfg.PrivateKey
	if priv == nil {
		var err error
		if _, priv, err = ed448.GenerateKey(cfg.Rand); err != nil {
			panic("corepass sim: generate key: " + err.Error())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		priv:      priv,
		mux:       http.NewServeMux(),
		page:      template.Must(template.New("page").Parse(pageHTML)),
		ctx:       ctx,
		cancel:    cancel,
		transfers: map[string]*transfer{},
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /api/v1/blockchain/verified", s.handleVerified)
	s.mux.HandleFunc("POST /api/v1/kyc/qrcode", s.handleQRCode)
	s.mux.HandleFunc("POST /api/v1/kyc/status", s.handleStatus)
	s.mux.HandleFunc("POST /api/v1/kyc/all-statuses", s.handleAllStatuses)
	s.mux.HandleFunc("GET /_sim/corepass/transfer/{id}", s.handlePage)
	s.mux.HandleFunc("POST /_sim/corepass/transfer/{id}/accept", s.handleAccept)
	s.mux.HandleFunc("POST /_sim/corepass/transfer/{id}/fail", s.handleFail)
	s.mux.HandleFunc("POST /_sim/corepass/transfer/{id}/expire", s.handleExpire)
}

// ServeHTTP serves the connector API and the end-user pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// PublicKey is the simulator's 57-byte Ed448 connector key: pin it in the
// adapter's Config.
func (s *Server) PublicKey() []byte {
	return append([]byte(nil), s.priv.Public().(ed448.PublicKey)...)
}

// Close stops pending data-callback retries and waits for them to end.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// TransferURL is the end-user page of a transfer (what the QR encodes).
func (s *Server) TransferURL(id string) string {
	return s.cfg.PublicURL + "/_sim/corepass/transfer/" + id
}
