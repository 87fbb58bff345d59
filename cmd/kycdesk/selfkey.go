package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/kycdesk/kycdesk/handlers"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/selfkey"
	selfkeysim "github.com/kycdesk/kycdesk/providers/selfkey/sim"
)

// selfKeyWallet is SelfKey as configured: the protocol configuration the
// wallet endpoints run with (the Service needs the store, so serve builds
// it), and the adapter entry the admin providers page lists.
type selfKeyWallet struct {
	cfg     selfkey.Config
	adapter *providers.Adapter
}

// buildSelfKey reads the KYCDESK_SELFKEY_* variables. With a JWT key
// SelfKey is live; without one, sandbox mode generates a throwaway key and
// mounts the wallet simulator at /sandbox/selfkey; otherwise SelfKey is
// left out (nil). A set variable always wins over the sandbox default.
func buildSelfKey(getenv func(string) string, cfg config, sims map[string]http.Handler, simClient *http.Client, now func() time.Time) (*selfKeyWallet, error) {
	sk, err := selfkey.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{
		selfkey.EnvJWTKey:         len(sk.JWTKey) > 0,
		selfkey.EnvRPCURL:         sk.RPCURL != "",
		selfkey.EnvAllowedOrigins: len(sk.AllowedOrigins) > 0,
	}
	base := cfg.BaseURL
	a := &providers.Adapter{Name: providers.SelfKey, Mode: providers.Live, BaseURL: base + "/selfkey", Present: present}
	switch {
	case cfg.Sandbox:
		a.Mode = providers.Sandbox
		if !sk.Configured() {
			sk.JWTKey = throwawayKey()
			a.Notes = append(a.Notes, "Sandbox: the JWT key is generated at each start, so wallet tokens end with the process. Set "+
				selfkey.EnvJWTKey+" to keep one.")
		}
		origin := ""
		if len(sk.AllowedOrigins) > 0 {
			origin = sk.AllowedOrigins[0]
		}
		sims[handlers.SelfKeySimPath] = selfkeysim.New(selfkeysim.Config{PublicURL: base + handlers.SelfKeySimPath,
			TargetURL: base + "/selfkey", Origin: origin, HTTPClient: simClient, Now: now})
	case !sk.Configured() && sk.Present():
		return nil, fmt.Errorf("selfkey: %s is required when other SelfKey settings are set", selfkey.EnvJWTKey)
	case !sk.Configured():
		return nil, nil
	}
	if sk.RPCURL == "" {
		a.Notes = append(a.Notes, "did:selfkey DIDs are refused: set "+selfkey.EnvRPCURL+" (an Ethereum JSON-RPC endpoint) to resolve them. did:eth DIDs and legacy keys work without it.")
	}
	if len(sk.AllowedOrigins) == 0 {
		a.Notes = append(a.Notes, "Every wallet Origin is accepted: set "+selfkey.EnvAllowedOrigins+" (e.g. IDW,https://your.site) to restrict it.")
	}
	a.Notes = append(a.Notes, "Wallets authenticate with our JWTs (HS256) and an EIP-191 signature of our nonce; give the wallet the root URL as rootEndpoint.")
	endpoint := func(purpose, path string) providers.Endpoint {
		return providers.Endpoint{Purpose: purpose, URL: base + path}
	}
	a.Endpoints = []providers.Endpoint{
		endpoint("root (the wallet's rootEndpoint)", "/selfkey"),
		endpoint("challenge for a DID or key (GET)", "/selfkey/auth/challenge/{did}"),
		endpoint("challenge for the caller's address (GET, seed) and the signed answer (POST)", "/selfkey/auth/challenge"),
		endpoint("create the user (POST, multipart or JSON)", "/selfkey/users"),
		endpoint("upload a user's file (POST)", "/selfkey/users/file"),
		endpoint("user token (GET)", "/selfkey/users/token"),
		endpoint("user token (GET, seed)", "/selfkey/auth/token"),
		endpoint("login from the browser (POST)", "/selfkey/login"),
		endpoint("templates (GET)", "/selfkey/templates"),
		endpoint("one template (GET)", "/selfkey/templates/{id}"),
		endpoint("one template (GET, seed)", "/selfkey/templates/{id}/schema.json"),
		endpoint("upload a file (POST)", "/selfkey/files"),
		endpoint("submit an application (POST)", "/selfkey/applications"),
	}
	return &selfKeyWallet{cfg: sk, adapter: a}, nil
}

// service builds the wallet protocol over the single-use token store;
// nil when SelfKey is not configured.
func (w *selfKeyWallet) service(store selfkey.ChallengeStore) (*selfkey.Service, error) {
	if w == nil {
		return nil, nil
	}
	return selfkey.NewService(w.cfg, selfkey.Deps{Store: store})
}

// throwawayKey is a sandbox JWT key, never written anywhere.
func throwawayKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return []byte(hex.EncodeToString(b))
}
