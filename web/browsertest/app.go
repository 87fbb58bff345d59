// Package browsertest starts KYC Desk the way main does and drives it with
// headless Chromium (chromedp), for end-to-end and browser tests.
//
// StartApp runs the real program (the cmd's run function) on 127.0.0.1:0
// with a temporary database, in sandbox mode, and returns its URL and the
// bootstrap admin's password. New starts a fresh headless Chromium for one
// test; SignIn, Screenshot and the failure screenshot come with it. Tests
// skip when Chromium is missing, unless KYCDESK_REQUIRE_BROWSER=1 (set by
// `make test`) makes that a failure.
package browsertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// RunFunc is the signature of cmd/kycdesk's run: the whole program, given
// its arguments, environment and output streams.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// AdminEmail is the bootstrap admin StartApp signs in as by default.
const AdminEmail = "admin@kycdesk.test"

// startTimeout bounds how long StartApp waits for the "listening on" line
// (the sandbox seeds its demo data set before it listens).
const startTimeout = 60 * time.Second

// App is a running KYC Desk started by StartApp.
type App struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:41234.
	URL string
	// AdminEmail and AdminPassword sign in as the bootstrap admin.
	AdminEmail    string
	AdminPassword string
	// DBPath is the temporary database file.
	DBPath string
	// Env is the environment the app was started with.
	Env map[string]string

	stdout, stderr *SyncBuffer
	cancel         context.CancelFunc
	done           chan struct{}
	err            error // run's result, set before done closes
	stopOnce       sync.Once
}

var listeningLine = regexp.MustCompile(`listening on (https?://\S+)`)

// Env returns the environment StartApp uses, with overrides applied: a
// temporary database in dir, 127.0.0.1:0, sandbox mode and a random admin
// password. An override with an empty value removes the variable.
func Env(dir string, overrides map[string]string) map[string]string {
	env := map[string]string{
		"KYCDESK_ADDR":           "127.0.0.1:0",
		"KYCDESK_DB":             filepath.Join(dir, "kycdesk.db"),
		"KYCDESK_SANDBOX":        "1",
		"KYCDESK_ADMIN_EMAIL":    AdminEmail,
		"KYCDESK_ADMIN_PASSWORD": randomPassword(),
	}
	for k, v := range overrides {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return env
}

// Getenv turns a map into the getenv run takes. The process environment is
// never consulted, so tests do not depend on the machine they run on.
func Getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// StartApp runs `serve` through run with Env(t.TempDir(), overrides), waits
// for the "listening on" line and returns the running app. The app stops
// when the test ends; call Stop to stop it earlier and see run's result.
func StartApp(t testing.TB, run RunFunc, overrides map[string]string) *App {
	t.Helper()
	env := Env(t.TempDir(), overrides)
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{
		AdminEmail:    env["KYCDESK_ADMIN_EMAIL"],
		AdminPassword: env["KYCDESK_ADMIN_PASSWORD"],
		DBPath:        env["KYCDESK_DB"],
		Env:           env,
		stdout:        NewSyncBuffer(),
		stderr:        NewSyncBuffer(),
		cancel:        cancel,
		done:          make(chan struct{}),
	}
	go func() {
		defer close(a.done)
		a.err = run(ctx, []string{"serve"}, Getenv(env), a.stdout, a.stderr)
	}()
	t.Cleanup(func() {
		if err := a.Stop(); err != nil {
			t.Errorf("app stopped with an error: %v", err)
		}
	})

	timeout := time.NewTimer(startTimeout)
	defer timeout.Stop()
	for {
		changed := a.stdout.Changed() // before reading, so no write is missed
		if m := listeningLine.FindStringSubmatch(a.stdout.String()); m != nil {
			a.URL = strings.TrimRight(m[1], "/")
			return a
		}
		select {
		case <-changed:
		case <-a.done:
			t.Fatalf("app exited before listening: %v\n%s", a.err, a.Output())
		case <-timeout.C:
			t.Fatalf("app did not print its listening line within %s\n%s", startTimeout, a.Output())
		}
	}
}

// Stop cancels the app's context, as SIGTERM does, and returns what run
// returned. Later calls return the same result.
func (a *App) Stop() error {
	a.stopOnce.Do(func() {
		a.cancel()
		select {
		case <-a.done:
		case <-time.After(30 * time.Second):
			a.err = errors.New("browsertest: run did not return within 30s of cancel")
		}
	})
	return a.err
}

// Stdout is what the app printed so far.
func (a *App) Stdout() string { return a.stdout.String() }

// Stderr is what the app logged so far.
func (a *App) Stderr() string { return a.stderr.String() }

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// SyncBuffer is an io.Writer safe for concurrent use that tells waiters
// when something was written.
type SyncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

// NewSyncBuffer returns an empty SyncBuffer.
func NewSyncBuffer() *SyncBuffer { return &SyncBuffer{changed: make(chan struct{})} }

// Write appends p and wakes everyone waiting on Changed.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Changed returns a channel closed at the next Write.
func (b *SyncBuffer) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// Output is the app's stdout and stderr so far, labelled, for failure
// messages.
func (a *App) Output() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", a.stdout, a.stderr)
}
