package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/browsertest"
	"github.com/kycdesk/kycdesk/web/saml"
	"github.com/kycdesk/kycdesk/web/saml/samltest"
)

func TestServeRefusesBadSAMLSettings(t *testing.T) {
	keys := map[string]string{"KYCDESK_SANDBOX": "0", "KYCDESK_SESSION_KEYS": strings.Repeat("1f", 32), "KYCDESK_DATA_KEY": strings.Repeat("2e", 32)}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown role in the role map", map[string]string{"KYCDESK_SAML_ROLE_MAP": "kyc-checkers=checker,kyc-bosses=superuser"}, `unknown role "superuser"`},
		{"password sign-in off without SSO", map[string]string{"KYCDESK_LOCAL_LOGIN": "false"}, "nobody could sign in"},
		{"SSO outside sandbox without the SP key pair", merge(keys, map[string]string{"KYCDESK_SAML_IDP_METADATA": "/nonexistent/idp.xml"}), "KYCDESK_SAML_SP_CERT"},
		{"only half of the SP key pair", map[string]string{"KYCDESK_SAML_IDP_METADATA": "/nonexistent/idp.xml", "KYCDESK_SAML_SP_CERT": "/x.pem"}, "KYCDESK_SAML_SP_KEY"},
		{"metadata refresh not a duration", map[string]string{"KYCDESK_SAML_METADATA_REFRESH": "hourly"}, "KYCDESK_SAML_METADATA_REFRESH"},
		{"metadata refresh every second", map[string]string{"KYCDESK_SAML_METADATA_REFRESH": "1s"}, "KYCDESK_SAML_METADATA_REFRESH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := merge(map[string]string{
				"KYCDESK_ADDR": "127.0.0.1:0", "KYCDESK_DB": filepath.Join(t.TempDir(), "kycdesk.db"),
				"KYCDESK_SANDBOX": "1", "KYCDESK_ADMIN_PASSWORD": "admin-password-123",
			}, tt.env)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve = %v, want a refusal mentioning %s", err, tt.want)
			}
			if strings.Contains(stdout.String(), "listening on") {
				t.Error("the server listened before refusing")
			}
		})
	}
}

func TestSAMLMetadataRefreshSetting(t *testing.T) {
	for in, want := range map[string]time.Duration{"": time.Hour, "off": 0, "OFF": 0, "0": 0, "30m": 30 * time.Minute, " 2h ": 2 * time.Hour} {
		sc, err := samlConfig(testEnv(map[string]string{"KYCDESK_SAML_METADATA_REFRESH": in}), "http://127.0.0.1:8080")
		if err != nil || sc.MetadataRefresh != want {
			t.Errorf("KYCDESK_SAML_METADATA_REFRESH=%q: %v, %v; want %v", in, sc.MetadataRefresh, err, want)
		}
	}
}

// TestRefreshSAMLMetadataRecordsTheJob runs the refresh job against a test
// IdP that rotates its key, then against a source that is gone: both
// outcomes land in job_state (what /admin/providers shows) and the log, and
// the metadata in use survives the failure.
func TestRefreshSAMLMetadataRecordsTheJob(t *testing.T) {
	ctx := context.Background()
	d := openTestDB(t, nil)
	idp := samltest.StartIdP(t, samltest.Options{})
	sc := saml.Config{IDPMetadata: idp.MetadataURL, BaseURL: "http://127.0.0.1:8080", MetadataRefresh: 10 * time.Millisecond}
	md, err := saml.LoadIDPMetadata(ctx, nil, sc.IDPMetadata)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := samltest.KeyPair(t, "sp")
	sp, err := saml.New(sc, saml.Certs{SPCert: cert, SPKey: key, IDPMetadata: md},
		saml.Stores{Requests: saml.NewMemoryRequestStore(), Assertions: saml.NewMemoryAssertionStore(time.Now)}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	logs := browsertest.NewSyncBuffer()
	logger := slog.New(slog.NewTextHandler(logs, nil))
	job := func(sso ssoSetup) (stop func()) {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			refreshSAMLMetadata(ctx, sso, d, logger)
		}()
		return func() { cancel(); <-done }
	}
	waitFor := func(what string, ok func(db.Job, string) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			jobs, err := d.Jobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if j.Name == samlMetadataJob && ok(j, logs.String()) {
					return
				}
			}
		}
		t.Fatalf("no %s\nlogs:\n%s", what, logs.String())
	}

	idp.RotateKey(false)
	stop := job(ssoSetup{SP: sp, Config: sc})
	waitFor("refresh that took the rotated certificate", func(j db.Job, logs string) bool {
		return j.LastError == "" && strings.Contains(logs, "IdP metadata changed")
	})
	stop()
	if got := sp.IDPCertificates(); len(got) != 1 || !got[0].Equal(idp.Certificate) {
		t.Fatal("the SP does not trust the rotated certificate")
	}

	gone := sc
	gone.IDPMetadata = filepath.Join(t.TempDir(), "idp.xml")
	stop = job(ssoSetup{SP: sp, Config: gone})
	waitFor("failed refresh recorded", func(j db.Job, logs string) bool {
		return strings.Contains(j.LastError, "idp.xml") && strings.Contains(logs, "level=WARN") && strings.Contains(logs, "refresh failed")
	})
	stop()
	if got := sp.IDPCertificates(); len(got) != 1 || !got[0].Equal(idp.Certificate) {
		t.Fatal("a failed refresh changed the trusted certificates")
	}
	if strings.Contains(logs.String(), base64.StdEncoding.EncodeToString(idp.Certificate.Raw)[:64]) {
		t.Errorf("the metadata was logged:\n%s", logs.String())
	}
}

// TestServeSSOShowsTheMetadataJob: with SSO on, serve starts the refresh
// job, and admins see it among the background jobs.
func TestServeSSOShowsTheMetadataJob(t *testing.T) {
	app, _ := startSSOApp(t)
	c := newStaffClient(t, app.URL)
	if status, _ := c.signIn(app.AdminEmail, app.AdminPassword); status != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", status)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, doc := c.get("/admin/providers")
		if strings.Contains(doc.Find(`[data-testid="job-row"]`).Text(), samlMetadataJob) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s job on /admin/providers\n%s", samlMetadataJob, app.Output())
		}
	}
	if err := app.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
