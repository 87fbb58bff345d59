package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers/blockpass"
	blockpasssim "github.com/kycdesk/kycdesk/providers/blockpass/sim"
	"github.com/kycdesk/kycdesk/providers/flow"
)

// sandboxBlockpass builds the providers in sandbox mode with env and
// serves the Blockpass simulator where the adapter expects it.
func sandboxBlockpass(t *testing.T, env map[string]string) *blockpass.Client {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w, err := buildProviders(func(k string) string { return env[k] }, config{Sandbox: true, BaseURL: srv.URL}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range w.closers {
			c()
		}
	})
	sim, ok := w.sims["/sandbox/blockpass"]
	if !ok {
		t.Fatal("no Blockpass simulator in sandbox mode")
	}
	mux.Handle("/sandbox/blockpass/", http.StripPrefix("/sandbox/blockpass", sim))
	c, ok := flow.BlockpassClient(w.registry)
	if !ok {
		t.Fatal("no Blockpass client in the registry")
	}
	return c
}

func TestSandboxBlockpassHasCandidatesAndAnExportKey(t *testing.T) {
	c := sandboxBlockpass(t, nil)
	page, err := c.List(context.Background(), "", 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != sandboxBlockpassCandidates {
		t.Errorf("sandbox simulator lists %d candidates, want %d", page.Total, sandboxBlockpassCandidates)
	}
	if h, on := c.ResponseEncryption(); on {
		t.Errorf("response encryption on (%s) although not asked for", h)
	}
	key, err := c.ExportKey()
	if err != nil || key == nil {
		t.Fatalf("sandbox export key: %v, %v", key, err)
	}
}

func TestSandboxBlockpassResponseEncryptionByConfig(t *testing.T) {
	c := sandboxBlockpass(t, map[string]string{blockpass.EnvEncryptionHeader: "X-Blockpass-Encryption-Key"})
	h, on := c.ResponseEncryption()
	if !on || h != "X-Blockpass-Encryption-Key" {
		t.Fatalf("response encryption = %q, %v; want on with the configured header", h, on)
	}
	// Every reply now comes encrypted with the request's key and decrypts.
	cand, err := c.ByRecordID(context.Background(), blockpasssim.SeedRecordID(1))
	if err != nil {
		t.Fatal(err)
	}
	if cand.RecordID != blockpasssim.SeedRecordID(1) || len(cand.Identities) == 0 {
		t.Errorf("decrypted candidate = %+v", cand.RecordID)
	}
}

func TestLiveBlockpassResponseEncryptionNeedsBothSettings(t *testing.T) {
	env := map[string]string{blockpass.EnvURL: "https://kyc.example.test", blockpass.EnvClientID: "svc", blockpass.EnvAPIKey: "k",
		blockpass.EnvEncryptionHeader: "X-Key"}
	_, err := buildProviders(func(k string) string { return env[k] }, config{BaseURL: "http://127.0.0.1"}, time.Now)
	if err == nil || !strings.Contains(err.Error(), blockpass.EnvEncryptionKey) {
		t.Fatalf("live config with a header and no key: %v, want an error naming %s", err, blockpass.EnvEncryptionKey)
	}
}
