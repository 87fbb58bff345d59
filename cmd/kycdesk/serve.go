package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/handlers"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/password"
)

// demoApplicants is the size of the demo data set seeded on first start in
// sandbox mode.
const demoApplicants = 250

func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, cfg, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := samlConfig(getenv, cfg.BaseURL); err != nil {
		return err
	}
	if cfg.Sandbox {
		logger.Warn("sandbox mode: providers are simulated", "reason", cfg.SandboxReason)
	}
	if cfg.GeneratedKeys {
		logger.Warn("sandbox mode: using throwaway session/data keys generated beside the database; set KYCDESK_SESSION_KEYS and KYCDESK_DATA_KEY for real use")
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if getenv("KYCDESK_BASE_URL") == "" {
		cfg.BaseURL = listenURL(ln)
	}

	signIn, err := bootstrapAdmin(ctx, d, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	if cfg.Sandbox {
		if err := seedDemo(ctx, d, logger); err != nil {
			ln.Close()
			return err
		}
	}

	wired, err := buildProviders(getenv, cfg, time.Now)
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		for _, c := range wired.closers {
			c()
		}
	}()
	fl := flow.New(flow.Service{DB: d, Registry: wired.registry, Inbound: wired.inbound, BaseURL: cfg.BaseURL, Logger: logger})
	// Background jobs end, and are waited for, before the database closes
	// (defers run last-in first-out: this one runs before d.Close).
	jobs, stopJobs := context.WithCancel(ctx)
	var jobsDone sync.WaitGroup
	defer func() {
		stopJobs()
		jobsDone.Wait()
	}()
	for _, job := range []func(){
		func() { fl.Run(jobs, 30*time.Second) },
		func() { fl.RunReconcile(jobs, 5*time.Minute) },
		func() { fl.RunBlockpassSync(jobs, flow.BlockpassSyncOptionsFromEnv(getenv, logger)) },
		func() { fl.RunVerifyYouPoll(jobs, getenv(flow.EnvVerifyYouPollInterval)) },
	} {
		jobsDone.Add(1)
		go func() {
			defer jobsDone.Done()
			job()
		}()
	}
	defer startRetention(jobs, d, logger, retentionInterval(getenv, logger))()

	sso, err := loadSAML(ctx, getenv, cfg, d, logger, time.Now)
	if err != nil {
		ln.Close()
		return err
	}
	switch {
	case sso.SP == nil:
	case sso.Config.MetadataRefresh <= 0:
		logger.Info("saml: the IdP metadata is read only at start (KYCDESK_SAML_METADATA_REFRESH=off): restart after the IdP rotates its certificate")
	default:
		jobsDone.Add(1)
		go func() {
			defer jobsDone.Done()
			refreshSAMLMetadata(jobs, sso, d, logger)
		}()
	}
	selfKey, err := wired.selfKey.service(d.SelfKeyChallenges())
	if err != nil {
		ln.Close()
		return err
	}

	limits := db.SessionLimits{Idle: cfg.IdleTimeout, Absolute: cfg.AbsoluteTimeout}
	h := handlers.New(handlers.Deps{
		DB:            d,
		Logger:        logger,
		Sandbox:       cfg.Sandbox,
		LocalLogin:    cfg.LocalLogin,
		SandboxHint:   "Sandbox: sign in as " + cfg.AdminEmail + " with the password `make run` printed (or set KYCDESK_ADMIN_PASSWORD).",
		Registry:      wired.registry,
		Flow:          fl,
		SandboxMounts: wired.sims,
		SSO:           sso.SP != nil,
		SAML:          sso.SP,
		SAMLConfig:    sso.Config,
		SelfKey:       selfKey,
	})
	srv, err := web.New(web.Config{
		BaseURL:       cfg.BaseURL,
		SessionKeys:   cfg.SessionKeys,
		Sandbox:       cfg.Sandbox,
		Limits:        web.SessionLimits{Idle: cfg.IdleTimeout, Absolute: cfg.AbsoluteTimeout},
		Logger:        logger,
		LookupSession: h.LookupSession(limits),
		ErrorPage:     h.ErrorPage,
		OnDenied:      h.OnDenied,
	})
	if err != nil {
		ln.Close()
		return err
	}
	h.SetWeb(srv)
	h.Mount(srv)

	httpSrv := &http.Server{
		Handler:           srv.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(stdout, "KYC Desk listening on %s\n", cfg.BaseURL)
	fmt.Fprint(stdout, signIn)
	if cfg.Sandbox {
		fmt.Fprintln(stdout, "Sandbox mode: providers are simulated; keys are throwaway. Do not enter real personal data.")
	}

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// bootstrapAdmin makes sure a first admin exists and says how to sign in.
// The generated password is printed once, at creation; a set
// KYCDESK_ADMIN_PASSWORD always wins (it resets the bootstrap admin's).
func bootstrapAdmin(ctx context.Context, d *db.DB, cfg config) (string, error) {
	u, err := d.UserByEmail(ctx, cfg.AdminEmail)
	switch {
	case err == nil && cfg.AdminPassword != "":
		if password.Check(u.PasswordHash, cfg.AdminPassword) != nil {
			hash, err := password.Hash(cfg.AdminPassword)
			if err != nil {
				return "", err
			}
			if err := d.SetPassword(ctx, u.ID, hash); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("Sign in at %s/login as %s with KYCDESK_ADMIN_PASSWORD.\n", cfg.BaseURL, cfg.AdminEmail), nil
	case err == nil:
		return fmt.Sprintf("Sign in at %s/login as %s with the password printed when it was created (set KYCDESK_ADMIN_PASSWORD to reset it).\n", cfg.BaseURL, cfg.AdminEmail), nil
	case !errors.Is(err, db.ErrNotFound):
		return "", err
	}
	if n, err := d.CountUsers(ctx); err != nil {
		return "", err
	} else if n > 0 && cfg.AdminPassword == "" {
		return fmt.Sprintf("Sign in at %s/login.\n", cfg.BaseURL), nil
	}
	pw, shown := cfg.AdminPassword, false
	if pw == "" {
		pw, shown = password.Generate(), true
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return "", err
	}
	if _, err := d.CreateUser(ctx, cfg.AdminEmail, "admin", hash, db.AuditEntry{Actor: "system", Detail: "bootstrap admin"}); err != nil {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	if shown {
		return fmt.Sprintf("Created the bootstrap admin. Sign in at %s/login\n  email:    %s\n  password: %s   (shown once; set KYCDESK_ADMIN_PASSWORD to choose it)\n",
			cfg.BaseURL, cfg.AdminEmail, pw), nil
	}
	return fmt.Sprintf("Created the bootstrap admin. Sign in at %s/login as %s with KYCDESK_ADMIN_PASSWORD.\n", cfg.BaseURL, cfg.AdminEmail), nil
}

// seedDemo fills an empty sandbox database with a small demo data set.
func seedDemo(ctx context.Context, d *db.DB, logger *slog.Logger) error {
	page, err := d.ListApplicants(ctx, db.ApplicantFilter{Limit: 1})
	if err != nil || len(page.Rows) > 0 {
		return err
	}
	if err := d.Seed(ctx, db.SeedOptions{N: demoApplicants, WithPII: true, Seed: 42}); err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	logger.Info("sandbox: seeded a demo data set", "applicants", demoApplicants)
	return nil
}
