package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	blockpasssim "github.com/kycdesk/kycdesk/providers/blockpass/sim"
	"github.com/kycdesk/kycdesk/providers/corepass"
	corepasssim "github.com/kycdesk/kycdesk/providers/corepass/sim"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/providers/idfy"
	idfysim "github.com/kycdesk/kycdesk/providers/idfy/sim"
	"github.com/kycdesk/kycdesk/providers/verifyyou"
	verifyyousim "github.com/kycdesk/kycdesk/providers/verifyyou/sim"
)

// wiredProviders is the explicit provider registry with what each needs at
// run time: inbox handlers for flow, and the simulators mounted in sandbox
// mode.
type wiredProviders struct {
	registry *providers.Registry
	inbound  map[providers.Name]flow.InboundHandler
	sims     map[string]http.Handler
	closers  []func()
	selfKey  *selfKeyWallet // nil when SelfKey is not configured
}

// sandboxSecret is a throwaway credential shared by an adapter and its
// simulator when the operator set none.
func sandboxSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// buildProviders reads each provider's KYCDESK_<PROVIDER>_* variables. A
// provider with its URL set is live; without one it runs against its
// simulator in sandbox mode, and is left out otherwise. In sandbox mode a
// variable that is set always wins over the simulator's default for that
// one setting (a pinned CorePass key, a webhook secret).
func buildProviders(getenv func(string) string, cfg config, now func() time.Time) (*wiredProviders, error) {
	w := &wiredProviders{inbound: map[providers.Name]flow.InboundHandler{}, sims: map[string]http.Handler{}}
	base := cfg.BaseURL
	simClient := &http.Client{Timeout: 15 * time.Second}
	var adapters []*providers.Adapter
	sandboxURL := func(p providers.Name) string { return base + "/sandbox/" + string(p) }
	endpoint := func(purpose, path string) providers.Endpoint {
		return providers.Endpoint{Purpose: purpose, URL: base + path}
	}

	// CorePass: our self-hosted connector.
	cp, err := corepass.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	cpMode := providers.Live
	if cp.URL == "" && cfg.Sandbox {
		cpMode = providers.Sandbox
		sim := corepasssim.New(corepasssim.Config{PublicURL: sandboxURL(providers.CorePass), HTTPClient: simClient, Now: now})
		w.sims["/sandbox/corepass"] = sim
		w.closers = append(w.closers, sim.Close)
		cp.URL = sandboxURL(providers.CorePass)
		if len(cp.PubKey) == 0 {
			cp.PubKey = sim.PublicKey()
		}
	}
	if cp.URL != "" {
		c := corepass.New(cp, nil, now)
		adapters = append(adapters, &providers.Adapter{
			Name: providers.CorePass, Mode: cpMode, BaseURL: cp.URL, Present: cp.Present(),
			Endpoints: []providers.Endpoint{
				endpoint("status callback (statusCallback)", "/callbacks/corepass/status"),
				endpoint("data callback (callback)", "/callbacks/corepass/data"),
			},
			CallbackPath: "/callbacks/corepass/data", StatusCallbackPath: "/callbacks/corepass/status",
			StartTTL: 10 * time.Minute, // within the connector's 5-15 minutes
			Starter:  c, Refresher: c, Verifier: c,
		})
		w.inbound[providers.CorePass] = flow.CorePassInbound(c)
	}

	// Blockpass KYC Connect.
	bpGetenv, bpSandbox := blockpassSandboxEnv(getenv, cfg.Sandbox)
	bp, err := blockpass.LoadConfig(bpGetenv)
	if err != nil {
		return nil, err
	}
	bpMode := providers.Live
	if bp.URL == "" && cfg.Sandbox {
		bpMode = providers.Sandbox
		if bp.APIKey == "" {
			bp.APIKey = sandboxSecret()
		}
		if bp.WebhookSecret == "" {
			bp.WebhookSecret = sandboxSecret()
		}
		if bp.ClientID == "" {
			bp.ClientID = "kycdesk_sandbox"
		}
		simCfg := blockpasssim.Config{
			PublicURL: sandboxURL(providers.Blockpass), ClientID: bp.ClientID, APIKey: bp.APIKey,
			WebhookURL: base + "/webhooks/blockpass", WebhookSecret: bp.WebhookSecret, HTTPClient: simClient, Now: now,
		}
		if err := bpSandbox.apply(&bp, &simCfg); err != nil {
			return nil, err
		}
		sim := blockpasssim.New(simCfg)
		sim.Seed(sandboxBlockpassCandidates)
		w.sims["/sandbox/blockpass"] = sim
		bp.URL, bp.ConnectPattern = sandboxURL(providers.Blockpass), sim.ConnectPattern()
	}
	if bp.URL != "" {
		c, err := blockpass.NewClient(bp, nil)
		if err != nil {
			return nil, err
		}
		adapters = append(adapters, &providers.Adapter{
			Name: providers.Blockpass, Mode: bpMode, BaseURL: bp.URL, Present: bp.Present(),
			Endpoints: []providers.Endpoint{endpoint("webhook (all events)", "/webhooks/blockpass")},
			Notes:     []string{blockpass.ResponseEncryptionNote},
			Starter:   c, Refresher: c, Verifier: c,
		})
		w.inbound[providers.Blockpass] = flow.BlockpassInbound(c)
	}

	// VerifyYou.
	vy, err := verifyyou.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	vyMode := providers.Live
	if vy.URL == "" && cfg.Sandbox {
		vyMode = providers.Sandbox
		if vy.APIKey == "" {
			vy.APIKey = sandboxSecret()
		}
		if vy.WebhookSecret == "" {
			vy.WebhookSecret = sandboxSecret()
		}
		sim := verifyyousim.New(verifyyousim.Config{
			PublicURL: sandboxURL(providers.VerifyYou), APIKey: vy.APIKey,
			WebhookBaseURL: base + "/webhooks/verifyyou", WebhookSecret: vy.WebhookSecret, HTTPClient: simClient, Now: now,
		})
		w.sims["/sandbox/verifyyou"] = sim
		vy.URL = sandboxURL(providers.VerifyYou)
	}
	if vy.URL != "" {
		c := verifyyou.New(vy, nil, now)
		adapters = append(adapters, &providers.Adapter{
			Name: providers.VerifyYou, Mode: vyMode, BaseURL: vy.URL, Present: vy.Present(),
			Endpoints: []providers.Endpoint{
				endpoint("webhook base URL (VerifyYou appends the event)", "/webhooks/verifyyou"),
				endpoint("connection_verified", "/webhooks/verifyyou/connection_verified"),
				endpoint("connection_deleted", "/webhooks/verifyyou/connection_deleted"),
				endpoint("deverification", "/webhooks/verifyyou/deverification"),
			},
			Starter: c, Refresher: c, Verifier: c,
		})
		w.inbound[providers.VerifyYou] = flow.VerifyYouInbound(c)
	}

	// IDfy.
	id, err := idfy.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	id.ReturnBaseURL = base
	idMode := providers.Live
	if id.URL == "" && cfg.Sandbox {
		idMode = providers.Sandbox
		if id.APIKey == "" {
			id.APIKey = sandboxSecret()
		}
		if id.AccountID == "" {
			id.AccountID = "kycdesk-sandbox"
		}
		if id.ConfigID == "" {
			id.ConfigID = "sandbox-video-kyc"
		}
		sim := idfysim.New(idfysim.Config{
			PublicURL: sandboxURL(providers.IDfy), AccountID: id.AccountID, APIKey: id.APIKey,
			KeyID: id.KeyID, Key: id.Key, WebhookURL: base + "/webhooks/idfy",
			WebhookSecret: id.WebhookSecret, WebhookHeader: id.WebhookHeader, HTTPClient: simClient, Now: now,
		})
		w.sims["/sandbox/idfy"] = sim
		id.URL = sandboxURL(providers.IDfy)
	}
	if id.URL != "" {
		c, err := idfy.New(id, nil, now)
		if err != nil {
			return nil, err
		}
		adapters = append(adapters, &providers.Adapter{
			Name: providers.IDfy, Mode: idMode, BaseURL: id.URL, Present: id.Present(),
			Endpoints: []providers.Endpoint{endpoint("webhook (session and profile status updates)", "/webhooks/idfy")},
			Notes:     []string{"IDfy publishes no webhook signature: each webhook only triggers a fetch of the profile with our credentials."},
			Starter:   c, Refresher: c, Verifier: c,
		})
		w.inbound[providers.IDfy] = flow.IDfyInbound(c)
	}

	// SelfKey: wallets call our /selfkey endpoints.
	if w.selfKey, err = buildSelfKey(getenv, cfg, w.sims, simClient, now); err != nil {
		return nil, err
	}
	if w.selfKey != nil {
		adapters = append(adapters, w.selfKey.adapter)
	}

	w.registry = providers.NewRegistry(adapters...)
	return w, nil
}
