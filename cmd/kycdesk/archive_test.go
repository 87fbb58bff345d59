package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
)

const testDay = 24 * time.Hour

// canaryValues are one applicant's distinctive personal data.
type canaryValues struct {
	name, email, dob, docNumber, coreID, jpegMark string
}

func canaryN(i int) canaryValues {
	return canaryValues{
		name:      fmt.Sprintf("Zebulonne Canaryperson%03d", i),
		email:     fmt.Sprintf("canarymailbox%03d@example.test", i),
		dob:       fmt.Sprintf("17%02d-10-%02d", i, 1+i),
		docNumber: fmt.Sprintf("QZ%07dXW", 4242000+i),
		coreID:    fmt.Sprintf("cb%02d%040d", 50+i, 99990000+i),
		jpegMark:  fmt.Sprintf("JPEGMARK-CANARY-%03d", i),
	}
}

func (c canaryValues) all() []string {
	return []string{c.name, c.email, c.dob, c.docNumber, c.coreID, c.jpegMark}
}

// plain are the values held in plain text while the applicant is live.
func (c canaryValues) plain() []string { return []string{c.name, c.email, c.coreID} }

func canaryJPEG(mark string) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xFE, 0, byte(len(mark) + 2)}
	return append(append(b, mark...), 0xFF, 0xD9)
}

// addCanary stores an approved CorePass applicant holding c, every event
// at the store's clock.
func addCanary(t *testing.T, d *db.DB, c canaryValues) db.Applicant {
	t.Helper()
	ctx := context.Background()
	a, err := d.CreateApplicant(ctx, db.NewApplicant{Name: c.name, Email: c.email}, db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.StartVerification(ctx, db.NewVerification{ApplicantID: a.ID, Provider: "corepass", Reference: "cp-" + a.Ref,
		ProviderRef: c.coreID + ":dob", ExternalID: c.coreID, Status: "invited", ProviderStatus: "PENDING"}, db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	err = d.ApplyUpdate(ctx, db.VerificationUpdate{VerificationID: v.ID, Source: "callback", Status: "approved", ProviderStatus: "FINISH_SUCCESS",
		Attributes: []db.AttributeInput{
			{Provider: "corepass", Meaning: "full_name", Name: "SH_FullName", Value: c.name},
			{Provider: "corepass", Meaning: "date_of_birth", Name: "SH_DOB", Value: c.dob, Pepper: "pepper"},
			{Provider: "corepass", Meaning: "document_number", Name: "SH_DocNo", Value: c.docNumber},
		},
		Documents: []db.DocumentInput{{Provider: "corepass", Name: "face.jpg", ContentType: "image/jpeg", Data: canaryJPEG(c.jpegMark)}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// found lists the values present in raw (as typed or lower-cased, as the
// search index folds them).
func found(raw []byte, values []string) []string {
	var out []string
	for _, v := range values {
		if bytes.Contains(raw, []byte(v)) || bytes.Contains(raw, []byte(strings.ToLower(v))) {
			out = append(out, v)
		}
	}
	return out
}

func readOrEmpty(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

func testEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestArchivedCanariesLeaveEveryFile seeds applicants with canary values,
// archives some (one by hand, the others by `kycdesk archive run` under
// the retention policy), and scans the raw bytes of the database file, its
// WAL, the command's logs, and snapshots made before and after: no trace of
// the archived ones anywhere, and everything of the others.
func TestArchivedCanariesLeaveEveryFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyHex := hex.EncodeToString(seal.NewKey())
	env := map[string]string{
		"KYCDESK_DB":           filepath.Join(dir, "kycdesk.db"),
		"KYCDESK_DATA_KEY":     keyHex,
		"KYCDESK_SESSION_KEYS": hex.EncodeToString(seal.NewKey()),
		"KYCDESK_SANDBOX":      "0",
	}
	raw, _ := hex.DecodeString(keyHex)
	kek, _ := seal.NewKEK(raw)
	clock := time.Now().Add(-400 * testDay)
	d, err := db.Open(ctx, env["KYCDESK_DB"], db.Options{KEK: kek, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const n = 8
	var people []db.Applicant
	var canaries []canaryValues
	for i := range n {
		if i == 4 {
			clock = time.Now() // the second half is recent
		}
		canaries = append(canaries, canaryN(i))
		people = append(people, addCanary(t, d, canaries[i]))
	}
	if err := d.SetRetentionRules(ctx, []db.RetentionRule{{Provider: db.RetentionAny, Outcome: db.OutcomeApproved, Days: 365}}, db.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	runCmd := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, args, testEnv(env), &out, &logs); err != nil {
			t.Fatalf("kycdesk %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		logs.Write(out.Bytes())
		return out.String()
	}
	keys := filepath.Join(dir, "kycdesk-keys.db")
	before := filepath.Join(dir, "before.db")
	runCmd("backup", before, "--keys", keys)

	// Applicant 4 is archived by hand; 0-3 are older than the 365 days.
	if _, err := d.Archive(ctx, people[4].ID, db.ArchiveRequest{Reason: "asked", Audit: db.AuditEntry{Actor: "checker@example.com"}}); err != nil {
		t.Fatal(err)
	}
	dry := runCmd("archive", "run", "--dry-run")
	if !strings.Contains(dry, "4 applicants would be archived") {
		t.Fatalf("dry run said:\n%s", dry)
	}
	out := runCmd("archive", "run")
	if !strings.Contains(out, "archived 4 of 4") {
		t.Fatalf("archive run said:\n%s", out)
	}
	after := filepath.Join(dir, "after.db")
	runCmd("backup", after, "--keys", keys)

	archived := map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true}
	for i, a := range people {
		got, err := d.Applicant(ctx, a.ID)
		if err != nil || got.Archived() != archived[i] {
			t.Fatalf("applicant %d archived = %v, want %v (%v)", i, got.Archived(), archived[i], err)
		}
	}

	live := readOrEmpty(t, env["KYCDESK_DB"])
	wal := readOrEmpty(t, env["KYCDESK_DB"]+"-wal")
	t.Logf("database %d bytes, WAL %d bytes, logs %d bytes", len(live), len(wal), logs.Len())
	files := map[string][]byte{
		"database file":          live,
		"WAL":                    wal,
		"logs":                   logs.Bytes(),
		"snapshot after":         readOrEmpty(t, after),
		"snapshot before":        readOrEmpty(t, before),
		"key export":             readOrEmpty(t, keys),
		"database file with WAL": append(append([]byte{}, live...), wal...),
	}
	for i, c := range canaries {
		for name, b := range files {
			h := found(b, c.all())
			switch {
			case archived[i] && len(h) > 0:
				t.Errorf("archived applicant %d: %s holds %v", i, name, h)
			case !archived[i] && name == "database file with WAL" && len(found(b, c.plain())) != len(c.plain()):
				t.Errorf("live applicant %d: %s lacks its data (found %v)", i, name, h)
			case !archived[i] && name != "database file with WAL" && name != "database file" && name != "WAL" && len(h) > 0:
				t.Errorf("live applicant %d: %s holds %v in plain text", i, name, h)
			}
		}
		if archived[i] {
			continue
		}
		attrs, err := d.Attributes(ctx, people[i].ID)
		if err != nil || len(attrs) != 3 {
			t.Fatalf("live applicant %d attributes: %v", i, err)
		}
		var vals []string
		for _, a := range attrs {
			vals = append(vals, a.Value)
		}
		if v := strings.Join(vals, " "); !strings.Contains(v, c.dob) || !strings.Contains(v, c.docNumber) {
			t.Errorf("live applicant %d attributes = %v", i, vals)
		}
		docs, _ := d.Documents(ctx, people[i].ID)
		if _, data, err := d.DocumentData(ctx, people[i].ID, docs[0].ID); err != nil || !bytes.Contains(data, []byte(c.jpegMark)) {
			t.Errorf("live applicant %d JPEG: %v", i, err)
		}
	}
	if len(wal) != 0 {
		t.Errorf("the WAL holds %d bytes after the archive run's checkpoint", len(wal))
	}
	if !strings.Contains(logs.String(), "retention run") || !strings.Contains(logs.String(), "archived=4") {
		t.Errorf("the run logged nothing useful:\n%s", logs.String())
	}

	// Both snapshots restore, with the newest key export, to the live
	// applicants whole and the archived ones archived.
	for _, snap := range []string{before, after} {
		target := filepath.Join(t.TempDir(), "restored.db")
		env2 := map[string]string{}
		for k, v := range env {
			env2[k] = v
		}
		env2["KYCDESK_DB"] = target
		var o bytes.Buffer
		if err := run(ctx, []string{"restore", "--keys", keys, snap}, testEnv(env2), &o, io.Discard); err != nil {
			t.Fatalf("restore %s: %v\n%s", filepath.Base(snap), err, o.String())
		}
		restored := readOrEmpty(t, target)
		restored = append(restored, readOrEmpty(t, target+"-wal")...)
		for i, c := range canaries {
			h := found(restored, c.all())
			if archived[i] && len(h) > 0 {
				t.Errorf("restored %s: archived applicant %d's %v came back", filepath.Base(snap), i, h)
			}
			if !archived[i] && len(found(restored, c.plain())) != len(c.plain()) {
				t.Errorf("restored %s: live applicant %d incomplete (%v)", filepath.Base(snap), i, h)
			}
		}
		if !strings.Contains(o.String(), "3 applicants whole") {
			t.Errorf("restore %s said %q", filepath.Base(snap), o.String())
		}
	}
}

// TestRetentionLoopRunsOnItsClock drives the scheduled job with an injected
// clock and ticker: one day before the limit nothing goes, on the day the
// applicant is archived.
func TestRetentionLoopRunsOnItsClock(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := openTestDB(t, func() time.Time { return start })
	a := addCanary(t, d, canaryN(1))
	if err := d.SetRetentionRules(ctx, []db.RetentionRule{{Provider: db.RetentionAny, Outcome: db.OutcomeApproved, Days: 30}}, db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	now := start.Add(29 * testDay)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	first := make(chan time.Time, 1)
	ticks := make(chan time.Time)
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		runRetentionLoop(loopCtx, d, logger, first, ticks, func() time.Time { return now })
		close(done)
	}()
	archivedNow := func() bool {
		got, err := d.Applicant(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Archived()
	}
	first <- now
	ticks <- now // accepted only once the first run is over
	if archivedNow() {
		t.Fatal("archived a day before the limit")
	}
	now = start.Add(30 * testDay)
	ticks <- now // the second run is over when the third tick is taken
	ticks <- now
	if !archivedNow() {
		t.Fatal("not archived on the day of the limit")
	}
	cancel()
	<-done
	if bytes.Contains(logs.Bytes(), []byte(canaryN(1).name)) || !strings.Contains(logs.String(), "archived=1") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestStartRetentionRecordsTheScheduleAndStops(t *testing.T) {
	ctx := context.Background()
	d := openTestDB(t, nil)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stop := startRetention(ctx, d, logger, 2*time.Hour)
	stop()
	every, ok, err := d.RetentionSchedule(ctx)
	if err != nil || !ok || every != 2*time.Hour {
		t.Errorf("schedule = %v %v %v", every, ok, err)
	}
	for in, want := range map[string]time.Duration{"": time.Hour, "0": 0, "off": 0, "15m": 15 * time.Minute, "banana": time.Hour, "1s": time.Hour} {
		if got := retentionInterval(testEnv(map[string]string{envRetentionInterval: in}), logger); got != want {
			t.Errorf("interval %q = %v, want %v", in, got, want)
		}
	}
}

func TestKeysRotateCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	oldKey, newKey := hex.EncodeToString(seal.NewKey()), hex.EncodeToString(seal.NewKey())
	env := map[string]string{
		"KYCDESK_DB":           filepath.Join(dir, "kycdesk.db"),
		"KYCDESK_DATA_KEY":     oldKey,
		"KYCDESK_SESSION_KEYS": hex.EncodeToString(seal.NewKey()),
		"KYCDESK_SANDBOX":      "0",
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"seed", "--applicants", "700", "--pii", "--seed", "3"}, testEnv(env), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	env["KYCDESK_DATA_KEY"] = newKey
	out.Reset()
	if err := run(ctx, []string{"keys", "rotate"}, testEnv(env), &out, io.Discard); err == nil || !strings.Contains(err.Error(), "KYCDESK_DATA_KEY_OLD") {
		t.Fatalf("rotate without the old key: %v", err)
	}
	env["KYCDESK_DATA_KEY_OLD"] = oldKey
	if err := run(ctx, []string{"keys", "rotate"}, testEnv(env), &out, io.Discard); err != nil {
		t.Fatalf("rotate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "re-wrapped 700 data keys") {
		t.Errorf("rotate said %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"keys", "rotate"}, testEnv(env), &out, io.Discard); err != nil || !strings.Contains(out.String(), "re-wrapped 0 data keys") {
		t.Errorf("second rotate: %v %q", err, out.String())
	}
	// The old key is now useless: with it alone nothing opens.
	delete(env, "KYCDESK_DATA_KEY_OLD")
	kek, _ := seal.NewKEK(mustHex(t, newKey))
	d, err := db.Open(ctx, env["KYCDESK_DB"], db.Options{KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	if attrs, err := d.Attributes(ctx, 1); err != nil || len(attrs) == 0 {
		t.Errorf("attributes under the new key: %v", err)
	}
	d.Close()
	oldKEK, _ := seal.NewKEK(mustHex(t, oldKey))
	d, _ = db.Open(ctx, env["KYCDESK_DB"], db.Options{KEK: oldKEK})
	if _, err := d.Attributes(ctx, 1); err == nil {
		t.Error("the old key still opens the data")
	}
	d.Close()
	out.Reset()
	if err := run(ctx, []string{"audit", "verify"}, testEnv(env), &out, io.Discard); err != nil {
		t.Errorf("audit after rotation: %v %s", err, out.String())
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openTestDB opens a fresh store under t's temp dir with a new data key.
func openTestDB(t *testing.T, now func() time.Time) *db.DB {
	t.Helper()
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), db.Options{KEK: kek, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
