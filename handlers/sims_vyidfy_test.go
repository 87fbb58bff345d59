package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/providers/idfy"
	idfysim "github.com/kycdesk/kycdesk/providers/idfy/sim"
	"github.com/kycdesk/kycdesk/providers/verifyyou"
	verifyyousim "github.com/kycdesk/kycdesk/providers/verifyyou/sim"
)

// idfyTestOptions vary the IDfy adapter and simulator of the harness.
type idfyTestOptions struct {
	WebhookSecret string         // the shared secret header, on both sides
	SimSecret     *string        // what the simulator sends instead, when set
	AllowedIPs    []netip.Prefix // the webhook sender allow-list
	KeyID         string         // encrypted mode, on both sides
	Key           []byte
}

// Test credentials of the VerifyYou and IDfy simulators.
const (
	testVerifyYouAPIKey  = "vy-test-api-key"
	testVerifyYouSecret  = "vy-test-webhook-secret"
	testIDfyAccountID    = "123-456-789/123"
	testIDfyAPIKey       = "idfy-test-api-key"
	testIDfyJourneyConfg = "video-kyc-test"
)

// simClock is the VerifyYou simulator's own clock: check_for_updates
// windows are whole seconds, so poll tests move it forward while the app's
// clock stays pinned.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// vyIDfySims are the VerifyYou and IDfy simulators of the harness with
// the adapters that talk to them through the app's /sandbox mounts.
type vyIDfySims struct {
	adapters   []*providers.Adapter
	vy         *verifyyousim.Server
	vyClient   *verifyyou.Client
	vyClock    *simClock
	idfy       *idfysim.Server
	idfyClient *idfy.Client
}

// newVYIDfySims builds both simulators and adapters and registers their
// mounts and inbox handlers; the caller adds the adapters to the registry.
func newVYIDfySims(t *testing.T, base string, now func() time.Time, opts testOptions, inbound map[providers.Name]flow.InboundHandler, mounts map[string]http.Handler) *vyIDfySims {
	t.Helper()
	s := &vyIDfySims{vyClock: &simClock{now: now()}}
	noWait := func(context.Context, time.Duration) error { return nil }

	s.vy = verifyyousim.New(verifyyousim.Config{
		PublicURL: base + "/sandbox/verifyyou", APIKey: testVerifyYouAPIKey,
		WebhookBaseURL: base + "/webhooks/verifyyou", WebhookSecret: testVerifyYouSecret,
		Now: s.vyClock.Now, Sleep: noWait,
	})
	mounts["/sandbox/verifyyou"] = s.vy
	s.vyClient = verifyyou.New(verifyyou.Config{URL: base + "/sandbox/verifyyou", APIKey: testVerifyYouAPIKey, WebhookSecret: testVerifyYouSecret}, nil, now)
	inbound[providers.VerifyYou] = flow.VerifyYouInbound(s.vyClient)

	io := opts.IDfy
	simSecret := io.WebhookSecret
	if io.SimSecret != nil {
		simSecret = *io.SimSecret
	}
	s.idfy = idfysim.New(idfysim.Config{
		PublicURL: base + "/sandbox/idfy", AccountID: testIDfyAccountID, APIKey: testIDfyAPIKey,
		KeyID: io.KeyID, Key: io.Key, WebhookURL: base + "/webhooks/idfy", WebhookSecret: simSecret, Now: now,
	})
	mounts["/sandbox/idfy"] = s.idfy
	var err error
	s.idfyClient, err = idfy.New(idfy.Config{
		URL: base + "/sandbox/idfy", AccountID: testIDfyAccountID, APIKey: testIDfyAPIKey, ConfigID: testIDfyJourneyConfg,
		KeyID: io.KeyID, Key: io.Key, WebhookSecret: io.WebhookSecret, WebhookHeader: idfy.DefaultWebhookHeader,
		AllowedIPs: io.AllowedIPs, ReturnBaseURL: base,
	}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	inbound[providers.IDfy] = flow.IDfyInbound(s.idfyClient)

	s.adapters = []*providers.Adapter{
		{Name: providers.VerifyYou, Mode: providers.Sandbox, BaseURL: base + "/sandbox/verifyyou",
			Starter: s.vyClient, Refresher: s.vyClient, Verifier: s.vyClient},
		{Name: providers.IDfy, Mode: providers.Sandbox, BaseURL: base + "/sandbox/idfy",
			Starter: s.idfyClient, Refresher: s.idfyClient, Verifier: s.idfyClient},
	}
	return s
}
