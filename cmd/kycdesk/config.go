package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers/envconfig"
)

// config is everything read from KYCDESK_* variables (design.md §6).
type config struct {
	Addr            string
	DBPath          string
	BaseURL         string
	SessionKeys     [][]byte // hash/block pairs derived from KYCDESK_SESSION_KEYS
	DataKey         []byte
	AdminEmail      string
	AdminPassword   string
	Sandbox         bool
	SandboxReason   string
	GeneratedKeys   bool // sandbox made throwaway keys
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	LocalLogin      bool
}

// providerURLVars name the variables whose presence means "a real provider
// is configured", which turns sandbox mode off by default.
var providerURLVars = []string{"KYCDESK_BLOCKPASS_URL", "KYCDESK_COREPASS_URL", "KYCDESK_VERIFYYOU_URL", "KYCDESK_IDFY_URL"}

// secret reads NAME, or the file named by NAME_FILE (secrets belong in
// files outside the repo or in the environment, never in code).
func secret(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	if path := getenv(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:          or(getenv("KYCDESK_ADDR"), "127.0.0.1:8080"),
		DBPath:        or(getenv("KYCDESK_DB"), filepath.Join("data", "kycdesk.db")),
		AdminEmail:    or(getenv("KYCDESK_ADMIN_EMAIL"), "admin@kycdesk.local"),
		AdminPassword: getenv("KYCDESK_ADMIN_PASSWORD"),
		LocalLogin:    true,
	}
	c.BaseURL = strings.TrimRight(getenv("KYCDESK_BASE_URL"), "/")
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	var err error
	if c.IdleTimeout, err = duration(getenv, "KYCDESK_SESSION_IDLE", 30*time.Minute); err != nil {
		return c, err
	}
	if c.AbsoluteTimeout, err = duration(getenv, "KYCDESK_SESSION_MAX", 12*time.Hour); err != nil {
		return c, err
	}
	if v := getenv("KYCDESK_LOCAL_LOGIN"); v != "" {
		if c.LocalLogin, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("KYCDESK_LOCAL_LOGIN: want true or false, got %q", v)
		}
	}

	switch v := getenv("KYCDESK_SANDBOX"); v {
	case "":
		c.Sandbox, c.SandboxReason = true, "no provider is configured"
		for _, name := range providerURLVars {
			if getenv(name) != "" {
				c.Sandbox, c.SandboxReason = false, ""
			}
		}
	default:
		on, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("KYCDESK_SANDBOX: want 1 or 0, got %q", v)
		}
		c.Sandbox = on
		if on {
			c.SandboxReason = "KYCDESK_SANDBOX=1"
		}
	}

	sessionKeys, err := secret(getenv, "KYCDESK_SESSION_KEYS")
	if err != nil {
		return c, err
	}
	dataKey, err := secret(getenv, "KYCDESK_DATA_KEY")
	if err != nil {
		return c, err
	}
	if (sessionKeys == "" || dataKey == "") && !c.Sandbox {
		return c, errors.New("outside sandbox mode KYCDESK_SESSION_KEYS and KYCDESK_DATA_KEY must be set " +
			"(each a 32-byte key as 64 hex characters or base64, e.g. from `openssl rand -hex 32`; " +
			"KYCDESK_SESSION_KEYS may list several, comma-separated, the first signing new sessions; " +
			"or point KYCDESK_SESSION_KEYS_FILE / KYCDESK_DATA_KEY_FILE at files)")
	}
	if sessionKeys == "" || dataKey == "" {
		gen, err := sandboxKeys(filepath.Dir(c.DBPath))
		if err != nil {
			return c, err
		}
		if sessionKeys == "" {
			sessionKeys = gen.Session
		}
		if dataKey == "" {
			dataKey = gen.Data
		}
		c.GeneratedKeys = true
	}
	if c.DataKey, err = seal.ParseKey(dataKey); err != nil {
		return c, fmt.Errorf("KYCDESK_DATA_KEY: %w", err)
	}
	for i, k := range strings.Split(sessionKeys, ",") {
		raw, err := seal.ParseKey(k)
		if err != nil {
			return c, fmt.Errorf("KYCDESK_SESSION_KEYS entry %d: %w", i+1, err)
		}
		c.SessionKeys = append(c.SessionKeys, derive(raw, "cookie-hash"), derive(raw, "cookie-block"))
	}
	return c, nil
}

// derive splits one configured secret into the separate hash and block keys
// gorilla/securecookie wants.
func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kycdesk/v1/" + label))
	return m.Sum(nil)
}

// sandboxKeyFile holds throwaway keys made in sandbox mode, beside the
// database (never in the repo), so a demo database stays readable across
// restarts.
type sandboxKeyFile struct {
	Note    string `json:"note"`
	Session string `json:"session_key"`
	Data    string `json:"data_key"`
}

func sandboxKeys(dir string) (sandboxKeyFile, error) {
	path := filepath.Join(dir, "sandbox-keys.json")
	var k sandboxKeyFile
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &k); err == nil && k.Session != "" && k.Data != "" {
			return k, nil
		}
	}
	k = sandboxKeyFile{
		Note:    "Throwaway keys generated by KYC Desk in sandbox mode. Never use them for real data.",
		Session: hex.EncodeToString(seal.NewKey()),
		Data:    hex.EncodeToString(seal.NewKey()),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return k, fmt.Errorf("sandbox keys: %w", err)
	}
	b, _ := json.MarshalIndent(k, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return k, fmt.Errorf("sandbox keys: %w", err)
	}
	return k, nil
}

func duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	return envconfig.Interval{Name: name, Default: def}.Parse(getenv(name))
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// listenURL is the address to print for a listener.
func listenURL(l net.Listener) string {
	return "http://" + l.Addr().String()
}
