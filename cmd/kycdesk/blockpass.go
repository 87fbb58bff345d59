package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/kycdesk/kycdesk/providers/blockpass"
	blockpasssim "github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

// sandboxBlockpassCandidates is the population the Blockpass simulator
// starts with in sandbox mode, so that a first sync has something to take
// in (every status, some archived, some without a refId).
const sandboxBlockpassCandidates = 40

// blockpassSandbox holds what sandbox mode adds to the Blockpass adapter
// and its simulator: throwaway keys for the encrypted exports and, when
// asked for, for the (assumed) per-request response encryption.
type blockpassSandbox struct {
	on bool
	// encryptionHeader is KYCDESK_BLOCKPASS_ENCRYPTION_HEADER set without
	// a key file: sandbox generates the key pair and gives the private half
	// to the simulator.
	encryptionHeader string
}

// blockpassSandboxEnv decides whether Blockpass runs against its
// simulator (sandbox mode, no KYCDESK_BLOCKPASS_URL) and returns the
// getenv blockpass.LoadConfig should read: in sandbox, an encryption header
// without a key file is sandbox's to complete, so LoadConfig does not see
// it as half a setting.
func blockpassSandboxEnv(getenv func(string) string, sandbox bool) (func(string) string, blockpassSandbox) {
	s := blockpassSandbox{on: sandbox && strings.TrimSpace(getenv(blockpass.EnvURL)) == ""}
	if !s.on || strings.TrimSpace(getenv(blockpass.EnvEncryptionKey)) != "" {
		return getenv, s
	}
	s.encryptionHeader = strings.TrimSpace(getenv(blockpass.EnvEncryptionHeader))
	return func(k string) string {
		if k == blockpass.EnvEncryptionHeader {
			return ""
		}
		return getenv(k)
	}, s
}

// apply fills the adapter's and the simulator's keys: the export key pair
// (the operator's export key when set, else a throwaway one) and the
// response encryption pair when asked for.
func (s blockpassSandbox) apply(bp *blockpass.Config, sim *blockpasssim.Config) error {
	if !s.on {
		return nil
	}
	if len(bp.ExportPrivateKeyPEM) == 0 {
		pemKey, err := throwawayRSAKey()
		if err != nil {
			return fmt.Errorf("blockpass sandbox: export key: %w", err)
		}
		bp.ExportPrivateKeyPEM = pemKey
	}
	exportKey, err := blockpass.ParsePrivateKeyPEM(bp.ExportPrivateKeyPEM)
	if err != nil {
		return fmt.Errorf("blockpass sandbox: %s: %w", blockpass.EnvExportKeyFile, err)
	}
	sim.ExportPublicKey = &exportKey.PublicKey
	if s.encryptionHeader == "" {
		return nil
	}
	pemKey, err := throwawayRSAKey()
	if err != nil {
		return fmt.Errorf("blockpass sandbox: response encryption key: %w", err)
	}
	respKey, err := blockpass.ParsePrivateKeyPEM(pemKey)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&respKey.PublicKey)
	if err != nil {
		return err
	}
	bp.ResponseEncryptionHeader = s.encryptionHeader
	bp.ResponseEncryptionKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	sim.ResponseEncryptionHeader, sim.ResponseEncryptionKey = s.encryptionHeader, respKey
	return nil
}

// throwawayRSAKey makes a 2048-bit RSA key as PKCS#8 PEM.
func throwawayRSAKey() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
