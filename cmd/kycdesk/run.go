package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/web/authz"
	"github.com/kycdesk/kycdesk/web/password"
)

const usage = `usage: kycdesk <command> [flags]

commands:
  serve                         start the web server
  migrate                       apply database migrations
  seed --applicants N           add N synthetic applicants
  user add --email E --role R   add a staff member (roles: admin, checker, maker, link_creator, auditor)
  audit verify                  check the audit log's hash chain
  archive run [--dry-run]       apply the retention policy now (--dry-run lists what it would archive)
  backup [--keys FILE] PATH     write a snapshot (online backup, personal data sealed) and replace the key export
  restore [--keys FILE] SNAP    build a new database at KYCDESK_DB from a snapshot and the newest key export
  keys rotate                   re-wrap every data key under KYCDESK_DATA_KEY (old one: KYCDESK_DATA_KEY_OLD)

configuration comes from KYCDESK_* environment variables; see README.md.
`

// run is the whole program: main calls it with the process's arguments and
// environment, and the end-to-end test calls it the same way.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, logger)
	case "migrate":
		d, _, err := openDB(ctx, getenv)
		if err != nil {
			return err
		}
		defer d.Close()
		v, err := d.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database %s is at schema version %d\n", d.Path(), v)
		return nil
	case "seed":
		return seedCmd(ctx, rest, getenv, stdout)
	case "user":
		return userCmd(ctx, rest, getenv, stdout)
	case "audit":
		return auditCmd(ctx, rest, getenv, stdout)
	case "archive":
		return archiveCmd(ctx, rest, getenv, stdout, logger)
	case "backup":
		return backupCmd(ctx, rest, getenv, stdout)
	case "restore":
		return restoreCmd(ctx, rest, getenv, stdout)
	case "keys":
		return keysCmd(ctx, rest, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// openDB loads the config and opens the database with its data key.
func openDB(ctx context.Context, getenv func(string) string) (*db.DB, config, error) {
	return openDBWith(ctx, getenv, db.Options{})
}

// openDBWith is openDB with db.Options beyond the data key.
func openDBWith(ctx context.Context, getenv func(string) string, opts db.Options) (*db.DB, config, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, cfg, err
	}
	if opts.KEK, err = seal.NewKEK(cfg.DataKey); err != nil {
		return nil, cfg, err
	}
	d, err := db.Open(ctx, cfg.DBPath, opts)
	if errors.Is(err, db.ErrBulkSeedPending) {
		err = fmt.Errorf("%w; wait for `kycdesk seed` to end, or, if it was stopped, run `kycdesk seed --finish`", err)
	}
	if err != nil {
		return nil, cfg, err
	}
	return d, cfg, nil
}

func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	n := fs.Int("applicants", 100, "how many applicants to add")
	pii := fs.Bool("pii", false, "also store encrypted attributes (slower; the demo data set has them)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed, for a reproducible data set")
	finish := fs.Bool("finish", false, "finish a bulk seed that was stopped (its indexes, triggers and statistics), and add nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *finish {
		d, _, err := openDBWith(ctx, getenv, db.Options{FinishBulkSeed: true})
		if err != nil {
			return err
		}
		if d.FinishedBulkSeed() {
			fmt.Fprintln(stdout, "finished the stopped bulk seed: indexes, triggers and statistics are back")
		} else {
			fmt.Fprintln(stdout, "no bulk seed was pending")
		}
		return d.Close()
	}
	if *n <= 0 {
		return errors.New("seed: --applicants must be positive")
	}
	d, _, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer d.Close()
	defer db.SeedGC()()
	start := time.Now()
	err = d.Seed(ctx, db.SeedOptions{N: *n, WithPII: *pii, Seed: *seed, Progress: func(done int) {
		if done%100000 == 0 {
			fmt.Fprintf(stdout, "  %d applicants… (%s)\n", done, time.Since(start).Round(100*time.Millisecond))
		}
	}})
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "seeded %d applicants in %s (%.0f/s)\n", *n, el.Round(time.Millisecond), float64(*n)/el.Seconds())
	return nil
}

func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: kycdesk user add --email E --role R")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "the staff member's email")
	role := fs.String("role", "", "admin, checker, maker, link_creator or auditor")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !strings.Contains(*email, "@") {
		return errors.New("user add: --email must be an email address")
	}
	if !authz.Role(*role).Valid() {
		return fmt.Errorf("user add: unknown role %q (admin, checker, maker, link_creator, auditor)", *role)
	}
	d, _, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer d.Close()
	pw := password.Generate()
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	u, err := d.CreateUser(ctx, *email, *role, hash, db.AuditEntry{Actor: "cli"})
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("user add: %s already exists", *email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s as %s (user %d)\ntemporary password (shown once): %s\n", u.Email, u.Role, u.ID, pw)
	return nil
}

func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: kycdesk audit verify")
	}
	d, _, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer d.Close()
	n, brk, err := d.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if brk != nil {
		fmt.Fprintf(stdout, "audit log BROKEN at entry %d: %s (%d entries checked)\n", brk.ID, brk.Reason, n)
		return errors.New("audit chain does not verify")
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", n)
	return nil
}
