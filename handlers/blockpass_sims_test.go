package handlers

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	blockpasssim "github.com/kycdesk/kycdesk/providers/blockpass/sim"
	"github.com/kycdesk/kycdesk/providers/flow"
)

// Test credentials of the Blockpass simulator.
const (
	testBlockpassAPIKey = "bp-test-api-key"
	testBlockpassSecret = "bp-test-webhook-secret"
	// testBlockpassKeyFile is a throwaway 1024-bit export key (tests only).
	testBlockpassKeyFile = "testdata/blockpass_export_key.pem"
)

// blockpassSim is the Blockpass simulator of the harness, reached through
// the app's /sandbox/blockpass mount; it sends its webhooks to the app.
type blockpassSim struct {
	sim     *blockpasssim.Server
	client  *blockpass.Client
	adapter *providers.Adapter
}

func newBlockpassSim(t *testing.T, base string, now func() time.Time, inbound map[providers.Name]flow.InboundHandler, mounts map[string]http.Handler) *blockpassSim {
	t.Helper()
	keyPEM, err := os.ReadFile(testBlockpassKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := blockpass.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	sim := blockpasssim.New(blockpasssim.Config{
		PublicURL: base + "/sandbox/blockpass", APIKey: testBlockpassAPIKey, WebhookURL: base + "/webhooks/blockpass",
		WebhookSecret: testBlockpassSecret, Now: now, ArchiveAfter: time.Hour, ExportPublicKey: &key.PublicKey,
	})
	mounts["/sandbox/blockpass"] = sim
	cfg := blockpass.Config{URL: base + "/sandbox/blockpass", ClientID: sim.ClientID(), APIKey: testBlockpassAPIKey,
		WebhookSecret: testBlockpassSecret, ExportPrivateKeyPEM: keyPEM, ConnectPattern: sim.ConnectPattern()}
	c, err := blockpass.NewClient(cfg, nil, blockpass.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }))
	if err != nil {
		t.Fatal(err)
	}
	inbound[providers.Blockpass] = flow.BlockpassInbound(c)
	return &blockpassSim{sim: sim, client: c, adapter: &providers.Adapter{
		Name: providers.Blockpass, Mode: providers.Sandbox, BaseURL: cfg.URL, Present: cfg.Present(),
		Endpoints: []providers.Endpoint{{Purpose: "webhook (all events)", URL: base + "/webhooks/blockpass"}},
		Notes:     []string{blockpass.ResponseEncryptionNote},
		Starter:   c, Refresher: c, Verifier: c,
	}}
}
