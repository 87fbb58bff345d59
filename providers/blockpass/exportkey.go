package blockpass

import (
	"crypto/rsa"
	"fmt"
)

// ExportKey is the configured private key that opens encrypted profile
// exports (EnvExportKeyFile); nil when none is configured.
func (c *Client) ExportKey() (*rsa.PrivateKey, error) {
	if len(c.cfg.ExportPrivateKeyPEM) == 0 {
		return nil, nil
	}
	k, err := ParsePrivateKeyPEM(c.cfg.ExportPrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("blockpass: %s: %w", EnvExportKeyFile, err)
	}
	return k, nil
}

// ResponseEncryption reports whether API replies are requested encrypted
// (see ResponseEncryptionNote), and with which request header.
func (c *Client) ResponseEncryption() (header string, on bool) {
	return c.cfg.ResponseEncryptionHeader, c.respKey != nil
}
