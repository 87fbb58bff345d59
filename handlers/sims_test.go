package handlers

import (
	"net/http"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
	corepasssim "github.com/kycdesk/kycdesk/providers/corepass/sim"
	"github.com/kycdesk/kycdesk/providers/flow"
)

// testSims are the provider simulators the handler tests run against,
// mounted in the app under /sandbox/<name> exactly as sandbox mode does.
type testSims struct {
	registry *providers.Registry
	inbound  map[providers.Name]flow.InboundHandler
	mounts   map[string]http.Handler
	corepass *corepasssim.Server
	cpClient *corepass.Client
	bp       *blockpassSim
	vi       *vyIDfySims // VerifyYou and IDfy
	selfKey  *selfKeyTestSim
}

func newTestSims(t *testing.T, base string, now func() time.Time, opts testOptions) *testSims {
	t.Helper()
	s := &testSims{inbound: map[providers.Name]flow.InboundHandler{}, mounts: map[string]http.Handler{}}
	s.corepass = corepasssim.New(corepasssim.Config{PublicURL: base + "/sandbox/corepass", Now: now, RetryInterval: time.Hour})
	t.Cleanup(s.corepass.Close)
	s.mounts["/sandbox/corepass"] = s.corepass
	cpKey := s.corepass.PublicKey()
	if opts.CorePassKey != nil {
		cpKey = opts.CorePassKey
	}
	s.cpClient = corepass.New(corepass.Config{URL: base + "/sandbox/corepass", PubKey: cpKey}, nil, now)
	s.inbound[providers.CorePass] = flow.CorePassInbound(s.cpClient)
	s.registry = providers.NewRegistry(&providers.Adapter{
		Name: providers.CorePass, Mode: providers.Sandbox, BaseURL: base + "/sandbox/corepass",
		Starter: s.cpClient, Refresher: s.cpClient, Verifier: s.cpClient,
		CallbackPath: "/callbacks/corepass/data", StatusCallbackPath: "/callbacks/corepass/status", StartTTL: 10 * time.Minute,
		Endpoints: []providers.Endpoint{{Purpose: "status callback", URL: base + "/callbacks/corepass/status"}},
	})
	s.vi = newVYIDfySims(t, base, now, opts, s.inbound, s.mounts)
	s.registry = providers.NewRegistry(append(s.registry.All(), s.vi.adapters...)...)
	s.selfKey = newSelfKeyTestSim(t, base, now, s.mounts, opts.SelfKeyOrigins)
	s.registry = providers.NewRegistry(append(s.registry.All(), s.selfKey.adapter())...)
	s.bp = newBlockpassSim(t, base, now, s.inbound, s.mounts)
	s.registry = providers.NewRegistry(append(s.registry.All(), s.bp.adapter)...)
	return s
}
