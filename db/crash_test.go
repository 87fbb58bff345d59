package db

import (
	"bufio"
	"context"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
)

// crashEnv carries the database path and key to the helper process.
const crashEnv = "KYCDESK_TEST_ARCHIVE_CRASH"

// TestArchiveCrashHelper is not a test: run by TestSIGKILLDuringBulkArchive
// in a child process, it bulk-archives every applicant until it is killed.
func TestArchiveCrashHelper(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("helper process for TestSIGKILLDuringBulkArchive")
	}
	path, keyHex, _ := strings.Cut(spec, "|")
	key, _ := hex.DecodeString(keyHex)
	kek, _ := seal.NewKEK(key)
	ctx := context.Background()
	d, err := Open(ctx, path, Options{KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := queryIDs(ctx, d.read, "SELECT id FROM applicants WHERE archived_at IS NULL ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	if _, err := d.ArchiveMany(ctx, ids, ArchiveRequest{Reason: "bulk", Audit: AuditEntry{Actor: "admin@example.com"}}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("done\n")
}

// TestSIGKILLDuringBulkArchive kills a process in the middle of a bulk
// archive of thousands of applicants, several times, and checks after each
// restart that every applicant is either fully archived or untouched and
// that the audit chain verifies.
func TestSIGKILLDuringBulkArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	ctx := context.Background()
	key := seal.NewKey()
	kek, _ := seal.NewKEK(key)
	path := filepath.Join(t.TempDir(), "crash.db")
	d, err := Open(ctx, path, Options{KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	const total = 2000
	if err := d.Seed(ctx, SeedOptions{N: total, WithPII: true, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	midway := 0
	last := 0
	for round := 0; round < 3 && last < total; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestArchiveCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path+"|"+hex.EncodeToString(key))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for lines.Scan() && lines.Text() != "ready" {
		}
		time.Sleep(time.Duration(30+rng.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()

		d, err := Open(ctx, path, Options{KEK: kek})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		archived := checkArchiveConsistent(t, d, total)
		if _, brk, err := d.VerifyAudit(ctx); err != nil || brk != nil {
			t.Fatalf("round %d: audit chain after SIGKILL: %+v %v", round, brk, err)
		}
		d.Close()
		t.Logf("round %d: %d of %d archived after the kill", round, archived, total)
		if archived < last {
			t.Fatalf("round %d: archived went from %d to %d", round, last, archived)
		}
		if archived > last && archived < total {
			midway++
		}
		last = archived
	}
	if midway == 0 {
		t.Log("no kill landed in the middle of the bulk archive this time (the machine was fast); the invariants held anyway")
	}
}

// checkArchiveConsistent asserts that no applicant is half-archived and
// returns how many are archived.
func checkArchiveConsistent(t *testing.T, d *DB, total int) int {
	t.Helper()
	ctx := context.Background()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := d.read.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM applicants a WHERE a.archived_at IS NOT NULL AND (a.display_name != '' OR a.email != ''
		OR EXISTS (SELECT 1 FROM attributes WHERE applicant_id = a.id) OR EXISTS (SELECT 1 FROM data_keys WHERE applicant_id = a.id)
		OR NOT EXISTS (SELECT 1 FROM deletion_receipts WHERE applicant_id = a.id)
		OR (SELECT count(*) FROM verification_events WHERE applicant_id = a.id AND detail LIKE 'Archived:%') != 1)`); n != 0 {
		t.Fatalf("%d archived applicants still hold something or lack a receipt", n)
	}
	if n := count(`SELECT count(*) FROM applicants a WHERE a.archived_at IS NULL AND (a.display_name = ''
		OR (SELECT count(*) FROM attributes WHERE applicant_id = a.id) != 4 OR NOT EXISTS (SELECT 1 FROM data_keys WHERE applicant_id = a.id)
		OR EXISTS (SELECT 1 FROM deletion_receipts WHERE applicant_id = a.id))`); n != 0 {
		t.Fatalf("%d applicants not archived are missing data or carry a receipt", n)
	}
	archived := count("SELECT count(*) FROM applicants WHERE archived_at IS NOT NULL")
	for _, st := range searchTables {
		if n := count(`SELECT count(*) FROM ` + st.name + ` s JOIN applicants a ON a.id = s.rowid WHERE a.archived_at IS NOT NULL`); n != 0 {
			t.Fatalf("%d archived applicants are still in %s", n, st.name)
		}
		if n := count("SELECT count(*) FROM " + st.name); n != total-archived {
			t.Fatalf("%s has %d rows, want %d", st.name, n, total-archived)
		}
	}
	if n := count("SELECT count(*) FROM audit_log WHERE action = 'applicant.archive'"); n != archived {
		t.Fatalf("%d archive audit entries for %d archived applicants", n, archived)
	}
	return archived
}
