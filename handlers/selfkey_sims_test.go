package handlers

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/selfkey"
	selfkeysim "github.com/kycdesk/kycdesk/providers/selfkey/sim"
)

// Upload bounds of the test harness: small, so the oversize refusal needs
// no large body.
const (
	testSelfKeyMaxFile    = 512 << 10
	testSelfKeyMaxRequest = 2 << 20
)

// selfKeyTestSim is SelfKey in the handler tests: the wallet protocol over
// the test database, with a clock of its own that a test moves past a
// challenge's lifetime, and the wallet simulator's control page mounted at
// /sandbox/selfkey as sandbox mode mounts it.
type selfKeyTestSim struct {
	base    string
	now     func() time.Time
	origins []string

	mu   sync.Mutex
	skew time.Duration
}

func newSelfKeyTestSim(t *testing.T, base string, now func() time.Time, mounts map[string]http.Handler, origins []string) *selfKeyTestSim {
	t.Helper()
	s := &selfKeyTestSim{base: base, now: now, origins: origins}
	origin := ""
	if len(origins) > 0 {
		origin = origins[0]
	}
	mounts[SelfKeySimPath] = selfkeysim.New(selfkeysim.Config{PublicURL: base + SelfKeySimPath, TargetURL: base + "/selfkey", Origin: origin, Now: s.clock})
	return s
}

// clock is the SelfKey service's time: the harness clock plus the skew a
// test added.
func (s *selfKeyTestSim) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().Add(s.skew)
}

// advance moves the SelfKey service's clock forward.
func (s *selfKeyTestSim) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew += d
}

// service is the wallet protocol over d's single-use token store.
func (s *selfKeyTestSim) service(t *testing.T, d *db.DB) *selfkey.Service {
	t.Helper()
	svc, err := selfkey.NewService(selfkey.Config{
		JWTKey:          []byte(strings.Repeat("handler-test-jwt-key-", 3)),
		AllowedOrigins:  s.origins,
		MaxFileBytes:    testSelfKeyMaxFile,
		MaxRequestBytes: testSelfKeyMaxRequest,
	}, selfkey.Deps{Store: d.SelfKeyChallenges(), Now: s.clock})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// adapter is SelfKey's entry in the harness registry.
func (s *selfKeyTestSim) adapter() *providers.Adapter {
	return &providers.Adapter{Name: providers.SelfKey, Mode: providers.Sandbox, BaseURL: s.base + "/selfkey",
		Endpoints: []providers.Endpoint{{Purpose: "root (the wallet's rootEndpoint)", URL: s.base + "/selfkey"}}}
}
