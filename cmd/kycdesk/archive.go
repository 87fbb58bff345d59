package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers/envconfig"
	"github.com/kycdesk/kycdesk/providers/envsecret"
)

// Archive, retention, backup and key rotation commands, and the scheduled
// retention job serve starts.

// envRetentionInterval sets how often serve runs the retention policy
// (a Go duration; "0" or "off" turns the schedule off).
const envRetentionInterval = "KYCDESK_RETENTION_INTERVAL"

// defaultRetentionInterval is the schedule when none is set.
const defaultRetentionInterval = time.Hour

// retentionInterval reads KYCDESK_RETENTION_INTERVAL; a value that does
// not parse is logged and the default used.
func retentionInterval(getenv func(string) string, logger *slog.Logger) time.Duration {
	d, err := envconfig.Interval{Name: envRetentionInterval, Default: defaultRetentionInterval, Min: time.Minute, Off: true}.Parse(getenv(envRetentionInterval))
	if err != nil {
		logger.Error("ignoring "+envRetentionInterval, "err", err, "using", defaultRetentionInterval.String())
		return defaultRetentionInterval
	}
	return d
}

// startRetention runs the retention policy now and then every interval
// until ctx ends (interval 0: never). The returned function stops the job
// and waits for a run in progress to finish; serve defers it before the
// database closes.
func startRetention(ctx context.Context, d *db.DB, logger *slog.Logger, every time.Duration) (stop func()) {
	if err := d.SetRetentionSchedule(ctx, every); err != nil {
		logger.Error("retention: record schedule", "err", err)
	}
	if every <= 0 {
		logger.Info("retention: the scheduled job is off (" + envRetentionInterval + ")")
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	ticker := time.NewTicker(every)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer ticker.Stop()
		first := make(chan time.Time, 1)
		first <- time.Now()
		runRetentionLoop(ctx, d, logger, first, ticker.C, time.Now)
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// runRetentionLoop runs the policy once per tick (first, then ticks) with
// the injected clock, until ctx ends.
func runRetentionLoop(ctx context.Context, d *db.DB, logger *slog.Logger, first, ticks <-chan time.Time, now func() time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-first:
			first = nil
		case <-ticks:
		}
		runRetentionOnce(ctx, d, logger, now())
	}
}

// runRetentionOnce applies the policy at now and logs what it did: counts
// and rules, never who.
func runRetentionOnce(ctx context.Context, d *db.DB, logger *slog.Logger, now time.Time) db.RetentionReport {
	start := time.Now()
	rep, err := d.RunRetention(ctx, db.RetentionRun{Now: now})
	if err != nil {
		if ctx.Err() == nil {
			logger.Error("retention run failed", "err", err, "archived", len(rep.Archived))
		}
		return rep
	}
	if len(rep.Due) > 0 || rep.Checkpoint.Busy {
		logger.Info("retention run", "due", len(rep.Due), "archived", len(rep.Archived), "skipped", rep.Skipped,
			"wal_truncated", !rep.Checkpoint.Busy, "ms", time.Since(start).Milliseconds())
	}
	return rep
}

// archiveCmd is `kycdesk archive run [--dry-run] [--limit N]`.
func archiveCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New("usage: kycdesk archive run [--dry-run] [--limit N]")
	}
	fs := flag.NewFlagSet("archive run", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dry := fs.Bool("dry-run", false, "list what the retention policy would archive now, archive nothing")
	limit := fs.Int("limit", 0, "archive at most N applicants (0: all that are due)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	d, _, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	rep, err := d.RunRetention(ctx, db.RetentionRun{DryRun: *dry, Limit: *limit})
	if err != nil {
		return err
	}
	if *dry {
		fmt.Fprintf(stdout, "dry run: %d applicants would be archived now\n", len(rep.Due))
		for _, p := range rep.Due {
			fmt.Fprintf(stdout, "  %s  applicant %d  due %s  %s\n", p.Ref, p.ApplicantID, p.DueAt.Format(time.RFC3339), p.Rule)
		}
		return nil
	}
	logger.Info("retention run", "due", len(rep.Due), "archived", len(rep.Archived), "skipped", rep.Skipped,
		"wal_truncated", !rep.Checkpoint.Busy, "ms", time.Since(start).Milliseconds())
	fmt.Fprintf(stdout, "archived %d of %d due applicants in %s\n", len(rep.Archived), len(rep.Due), time.Since(start).Round(time.Millisecond))
	for _, r := range rep.Archived {
		fmt.Fprintf(stdout, "  %s  receipt %s  %s\n", r.Ref, r.Digest[:16], r.Rule)
	}
	if rep.Checkpoint.Busy {
		fmt.Fprintln(stdout, "the WAL could not be truncated (a reader held it); the next run retries")
	}
	return nil
}

// backupCmd is `kycdesk backup [--keys FILE] PATH`.
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	keys := fs.String("keys", getenv("KYCDESK_BACKUP_KEYS"), "the key export to replace (default: kycdesk-keys.db beside PATH; KYCDESK_BACKUP_KEYS)")
	path, err := parseWithOnePath(fs, args, "usage: kycdesk backup [--keys FILE] PATH")
	if err != nil {
		return err
	}
	if *keys == "" {
		*keys = filepath.Join(filepath.Dir(path), "kycdesk-keys.db")
	}
	d, _, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	rep, err := d.Backup(ctx, path, *keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "snapshot %s: %d applicants, %d personal fields sealed, %d bytes (SQLite online backup, then scrubbed) in %s\n",
		rep.Path, rep.Applicants, rep.Sealed, rep.Bytes, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "key export %s: %d data keys (replaced; keep only the newest, apart from the snapshots)\n", rep.KeysPath, rep.Keys)
	return nil
}

// restoreCmd is `kycdesk restore [--keys FILE] SNAPSHOT`: a new database
// at KYCDESK_DB from a snapshot and the newest key export.
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stdout)
	keys := fs.String("keys", getenv("KYCDESK_BACKUP_KEYS"), "the newest key export (default: kycdesk-keys.db beside SNAPSHOT)")
	snap, err := parseWithOnePath(fs, args, "usage: kycdesk restore [--keys FILE] SNAPSHOT")
	if err != nil {
		return err
	}
	if *keys == "" {
		*keys = filepath.Join(filepath.Dir(snap), "kycdesk-keys.db")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	kek, err := seal.NewKEK(cfg.DataKey)
	if err != nil {
		return err
	}
	old, err := oldDataKey(getenv, "")
	if err != nil {
		return err
	}
	rep, err := db.Restore(ctx, snap, *keys, cfg.DBPath, db.Options{KEK: kek}, old)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s: %d applicants whole, %d personal fields unsealed, %d re-wrapped from the old key; "+
		"%d archived again (their data keys were destroyed after the snapshot)\n", cfg.DBPath, rep.Applicants, rep.Unsealed, rep.Rewrapped, rep.Archived)
	return nil
}

// keysCmd is `kycdesk keys rotate [--old-key-file F]`.
func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: kycdesk keys rotate [--old-key-file FILE]  (new key: KYCDESK_DATA_KEY; old: KYCDESK_DATA_KEY_OLD)")
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	oldFile := fs.String("old-key-file", "", "a file holding the previous KYCDESK_DATA_KEY (instead of KYCDESK_DATA_KEY_OLD)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	old, err := oldDataKey(getenv, *oldFile)
	if err != nil {
		return err
	}
	if old == nil {
		return errors.New("keys rotate: give the previous key in KYCDESK_DATA_KEY_OLD (or _FILE, or --old-key-file); KYCDESK_DATA_KEY is the new one")
	}
	d, _, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := d.RotateDataKeys(ctx, old, db.AuditEntry{Actor: "cli"})
	fmt.Fprintf(stdout, "re-wrapped %d data keys under key %s (%d were already under it)\n", rep.Rewrapped, d.KEKID(), rep.Current)
	if err != nil {
		if errors.Is(err, db.ErrUnknownKEK) {
			fmt.Fprintf(stdout, "%d data keys are under neither key: find the key they were made with\n", rep.Unknown)
		}
		return err
	}
	fmt.Fprintln(stdout, "done: every data key is under the new key. Drop KYCDESK_DATA_KEY_OLD, and run `kycdesk backup` so the key export is re-made under the new key.")
	return nil
}

// oldDataKey reads the previous KEK from a file, or KYCDESK_DATA_KEY_OLD
// (or its _FILE); nil when none is given.
func oldDataKey(getenv func(string) string, file string) ([]byte, error) {
	var raw string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("old key: %w", err)
		}
		raw = strings.TrimSpace(string(b))
	} else {
		v, err := envsecret.Read(getenv, "KYCDESK_DATA_KEY_OLD")
		if err != nil {
			return nil, err
		}
		raw = v
	}
	if raw == "" {
		return nil, nil
	}
	k, err := seal.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("KYCDESK_DATA_KEY_OLD: %w", err)
	}
	return k, nil
}

// parseWithOnePath parses flags given before or after one positional path.
func parseWithOnePath(fs *flag.FlagSet, args []string, usage string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return "", errors.New(usage)
	}
	path := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", errors.New(usage)
	}
	return path, nil
}
