package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	sqlite "modernc.org/sqlite"

	"github.com/kycdesk/kycdesk/db/seal"
)

// Backups and forgetting.
//
// A plain copy of the database would carry every applicant's wrapped data
// key beside its ciphertexts, and names and emails in plain text: with the
// KEK the system keeps, a copy made before an archive would read the
// archived person's data for as long as the copy exists. So a backup here
// is two files:
//
//   - the snapshot: an online backup (SQLite's backup API) with no data
//     keys in it, and every plain-text personal field (name, email, the
//     Core ID/DID provider ids, CorePass transfer references, inbox bodies)
//     sealed with the applicant's own data key into backup_sealed; the
//     search index is dropped (rebuilt on restore) and sessions removed;
//   - the key export: the wrapped data keys, written to one fixed path and
//     replaced by every backup. An archived applicant's key is in no export
//     made after its archive.
//
// Restore takes a snapshot and the newest key export: every applicant that
// still has a key comes back whole; one archived since the snapshot has no
// key and is archived again on restore. So every old snapshot forgets an
// archived person as soon as the key export is replaced, with no key
// rotation needed. Keep snapshots as long as policy says; never keep old
// key exports.

// snapshotMarker is the settings key that marks a snapshot file.
const snapshotMarker = "backup.snapshot"

// BackupReport says what Backup wrote.
type BackupReport struct {
	Path       string
	KeysPath   string
	Applicants int // not archived, sealed into the snapshot
	Keys       int // data keys in the key export
	Sealed     int // personal fields sealed
	Bytes      int64
}

type backupConn interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// Backup writes a snapshot of the live database to path (which must not
// exist) with SQLite's online backup API, scrubs it as described above,
// and replaces the key export at keysPath. The live database stays
// available throughout.
func (d *DB) Backup(ctx context.Context, path, keysPath string) (BackupReport, error) {
	rep := BackupReport{Path: path, KeysPath: keysPath}
	if d.kek == nil {
		return rep, fmt.Errorf("db: backup: no data key configured")
	}
	if _, err := os.Stat(path); err == nil {
		return rep, fmt.Errorf("db: backup: %s exists: %w", path, ErrConflict)
	}
	if keysPath == "" {
		return rep, fmt.Errorf("db: backup: no key export path: %w", ErrInvalid)
	}
	tmp := path + ".partial"
	keysTmp := keysPath + ".partial"
	for _, f := range []string{tmp, tmp + "-journal", keysTmp, keysTmp + "-journal"} {
		_ = os.Remove(f)
	}
	defer func() {
		for _, f := range []string{tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm", keysTmp, keysTmp + "-journal"} {
			_ = os.Remove(f)
		}
	}()
	if err := d.onlineBackup(ctx, tmp); err != nil {
		return rep, err
	}
	snap, err := openPlain(tmp)
	if err != nil {
		return rep, err
	}
	defer snap.Close()
	if err := d.scrubSnapshot(ctx, snap, keysTmp, &rep); err != nil {
		return rep, err
	}
	// VACUUM INTO writes a fresh, compact file: nothing freed in the
	// scrub is carried over.
	if _, err := snap.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return rep, fmt.Errorf("db: backup: vacuum into: %w", err)
	}
	if err := snap.Close(); err != nil {
		return rep, fmt.Errorf("db: backup: %w", err)
	}
	for _, f := range []string{path, keysTmp} {
		if err := syncFile(f); err != nil {
			return rep, fmt.Errorf("db: backup: %w", err)
		}
	}
	if err := os.Rename(keysTmp, keysPath); err != nil {
		return rep, fmt.Errorf("db: backup: key export: %w", err)
	}
	_ = syncDir(filepath.Dir(keysPath))
	_ = os.Chmod(path, 0o600)
	if st, err := os.Stat(path); err == nil {
		rep.Bytes = st.Size()
	}
	return rep, nil
}

// onlineBackup copies the live database to dst page by page with SQLite's
// backup API on a read connection: a consistent snapshot while writers go
// on.
func (d *DB) onlineBackup(ctx context.Context, dst string) error {
	conn, err := d.read.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		bc, ok := dc.(backupConn)
		if !ok {
			return fmt.Errorf("db: backup: the SQLite driver has no backup API")
		}
		b, err := bc.NewBackup(dst)
		if err != nil {
			return fmt.Errorf("db: backup: %w", err)
		}
		for more := true; more; {
			if more, err = b.Step(-1); err != nil {
				b.Finish()
				return fmt.Errorf("db: backup: step: %w", err)
			}
		}
		if err := b.Finish(); err != nil {
			return fmt.Errorf("db: backup: finish: %w", err)
		}
		return nil
	})
}

// openPlain opens a database file that is not the live store (a snapshot
// being made or restored) with one connection, rollback journal, secure
// delete.
func openPlain(path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(DELETE)", "secure_delete(ON)", "foreign_keys(OFF)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	s, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", filepath.Base(path), err)
	}
	s.SetMaxOpenConns(1)
	return s, nil
}

// sealedKinds are the personal fields a snapshot carries sealed, with the
// statement that restores each (the value, then the row id).
var sealedKinds = map[string][]string{
	"name":             {"UPDATE applicants SET display_name = ? WHERE id = ?"},
	"email":            {"UPDATE applicants SET email = ? WHERE id = ?"},
	"provider_link":    {"UPDATE provider_links SET external_id = json_extract(?1, '$.external_id'), external_ids = json_extract(?1, '$.external_ids') WHERE id = ?2"},
	"verification_ref": {"UPDATE verifications SET provider_ref = ? WHERE id = ?"},
	"inbox_body":       {"UPDATE inbox SET body_ct = ? WHERE id = ?"},
	"note":             {"UPDATE notes SET body = ? WHERE id = ?"},
	// A SelfKey wallet's subject (DID or key) is its primary key, which its
	// pending files name: both stand in the snapshot as "sealed:<row>".
	"selfkey_subject": {
		"UPDATE selfkey_wallets SET subject = ?1 WHERE subject = 'sealed:' || ?2",
		"UPDATE selfkey_files SET subject = ?1 WHERE subject = 'sealed:' || ?2",
	},
}

// sealedPlaceholder stands in a snapshot for a text column that must not be
// empty.
const sealedPlaceholder = "[sealed in the backup]"

// setTriggersAside moves the update triggers of table into backup_triggers
// so the snapshot's scrub can rewrite rows they guard.
func setTriggersAside(ctx context.Context, tx *sql.Tx, table string) error {
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS backup_triggers (name TEXT PRIMARY KEY, sql TEXT NOT NULL)"); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? AND sql LIKE '%BEFORE UPDATE%'", table)
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("db: backup: %w", err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for i, name := range names {
		if _, err := tx.ExecContext(ctx, "INSERT INTO backup_triggers(name, sql) VALUES (?, ?)", name, defs[i]); err != nil {
			return fmt.Errorf("db: backup: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			return fmt.Errorf("db: backup: %w", err)
		}
	}
	return nil
}

// restoreTriggers puts back the triggers a snapshot set aside.
func restoreTriggers(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'backup_triggers'").Scan(&n); err != nil || n == 0 {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT sql FROM backup_triggers")
	if err != nil {
		return fmt.Errorf("db: restore: %w", err)
	}
	var defs []string
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			rows.Close()
			return fmt.Errorf("db: restore: %w", err)
		}
		defs = append(defs, def)
	}
	rows.Close()
	for _, def := range defs {
		if _, err := tx.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("db: restore: trigger: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE backup_triggers"); err != nil {
		return fmt.Errorf("db: restore: %w", err)
	}
	return nil
}

// scrubSnapshot turns the copy into a snapshot: it writes the key export,
// seals the plain-text personal fields, and removes the keys, the search
// index and the sessions.
func (d *DB) scrubSnapshot(ctx context.Context, snap *sql.DB, keysTmp string, rep *BackupReport) error {
	conn, err := snap.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	defer conn.Close()
	if err := exportKeys(ctx, conn, keysTmp, &rep.Keys); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	defer tx.Rollback()
	sch, err := readArchiveSchema(ctx, tx)
	if err != nil {
		return err
	}
	defer sch.close()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE backup_sealed (applicant_id INTEGER NOT NULL, kind TEXT NOT NULL,
		row_id INTEGER NOT NULL, ct BLOB NOT NULL)`); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, "INSERT INTO backup_sealed(applicant_id, kind, row_id, ct) VALUES (?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	defer ins.Close()
	// Every personal field, with the applicant it belongs to and its row.
	sources := []struct{ kind, query, blank string }{
		{"name", "SELECT a.id, a.id, a.display_name FROM applicants a WHERE a.archived_at IS NULL AND a.display_name != ''", "UPDATE applicants SET display_name = '' WHERE archived_at IS NULL"},
		{"email", "SELECT a.id, a.id, a.email FROM applicants a WHERE a.archived_at IS NULL AND a.email != ''", "UPDATE applicants SET email = '' WHERE archived_at IS NULL"},
		{"provider_link", `SELECT l.applicant_id, l.id, json_object('external_id', l.external_id, 'external_ids', l.external_ids) FROM provider_links l
			WHERE (l.provider IN ` + scrubProviders + ` AND l.external_id != '') OR l.external_ids != '{}'`,
			`UPDATE provider_links SET external_id = CASE WHEN provider IN ` + scrubProviders + ` THEN '' ELSE external_id END, external_ids = '{}'`},
		{"verification_ref", "SELECT v.applicant_id, v.id, v.provider_ref FROM verifications v WHERE v.provider IN " + scrubProviders + " AND v.provider_ref != ''",
			"UPDATE verifications SET provider_ref = '' WHERE provider IN " + scrubProviders},
	}
	if sch.has("inbox") {
		sources = append(sources, struct{ kind, query, blank string }{"inbox_body",
			"SELECT i.applicant_id, i.id, i.body_ct FROM inbox i WHERE i.applicant_id IS NOT NULL AND i.body_ct IS NOT NULL",
			"UPDATE inbox SET body_ct = NULL WHERE applicant_id IS NOT NULL"})
	}
	if sch.has("notes") {
		// Notes are append-only: their update trigger is set aside in the
		// snapshot and put back on restore.
		if err := setTriggersAside(ctx, tx, "notes"); err != nil {
			return err
		}
		sources = append(sources, struct{ kind, query, blank string }{"note",
			"SELECT n.applicant_id, n.id, n.body FROM notes n", "UPDATE notes SET body = '" + sealedPlaceholder + "'"})
	}
	keys := map[int64]*seal.DataKey{}
	dataKey := func(id int64) (*seal.DataKey, error) {
		if dk, ok := keys[id]; ok {
			return dk, nil
		}
		dk, err := d.dataKey(ctx, tx, id)
		if err != nil {
			return nil, fmt.Errorf("db: backup: applicant %d: %w", id, err)
		}
		keys[id] = dk
		return dk, nil
	}
	for _, s := range sources {
		rows, err := tx.QueryContext(ctx, s.query)
		if err != nil {
			return fmt.Errorf("db: backup: %s: %w", s.kind, err)
		}
		type field struct {
			applicant, row int64
			value          []byte
		}
		var fields []field
		for rows.Next() {
			var f field
			if err := rows.Scan(&f.applicant, &f.row, &f.value); err != nil {
				rows.Close()
				return fmt.Errorf("db: backup: %s: %w", s.kind, err)
			}
			fields = append(fields, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("db: backup: %s: %w", s.kind, err)
		}
		for _, f := range fields {
			dk, err := dataKey(f.applicant)
			if errors.Is(err, ErrKeyDestroyed) {
				continue // archived: nothing personal is left to seal
			}
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, f.applicant, s.kind, f.row, dk.Seal(f.value)); err != nil {
				return fmt.Errorf("db: backup: %s: %w", s.kind, err)
			}
			rep.Sealed++
		}
		if _, err := tx.ExecContext(ctx, s.blank); err != nil {
			return fmt.Errorf("db: backup: %s: %w", s.kind, err)
		}
		// Dropping the cache keeps memory flat on a large store; keys are
		// cheap to unwrap again.
		if len(keys) > 100000 {
			keys = map[int64]*seal.DataKey{}
		}
	}
	if sch.has("selfkey_wallets") {
		if err := sealWalletSubjects(ctx, tx, sch, dataKey, ins, rep); err != nil {
			return err
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM applicants WHERE archived_at IS NULL").Scan(&rep.Applicants); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	for _, t := range searchTables {
		if !sch.has(t.name) {
			continue
		}
		if err := emptySearchTable(ctx, tx, t.name); err != nil {
			return fmt.Errorf("db: backup: scrub: %w", err)
		}
	}
	marker, _ := json.Marshal(map[string]any{"at": d.now().UTC(), "kek_id": d.kek.ID(), "keys": rep.Keys})
	for _, q := range []struct {
		query string
		args  []any
	}{
		{"DELETE FROM data_keys", nil},
		{"DELETE FROM sessions", nil},
		{"INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", []any{snapshotMarker, string(marker)}},
	} {
		if _, err := tx.ExecContext(ctx, q.query, q.args...); err != nil {
			return fmt.Errorf("db: backup: scrub: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	return nil
}

// sealWalletSubjects seals the subject of every SelfKey wallet that
// belongs to an applicant and puts "sealed:<n>" in its place (in the
// wallet row and in its pending files).
func sealWalletSubjects(ctx context.Context, tx *sql.Tx, sch *archiveSchema, dataKey func(int64) (*seal.DataKey, error), ins *sql.Stmt, rep *BackupReport) error {
	rows, err := tx.QueryContext(ctx, "SELECT applicant_id, subject FROM selfkey_wallets WHERE applicant_id IS NOT NULL ORDER BY subject")
	if err != nil {
		return fmt.Errorf("db: backup: selfkey wallets: %w", err)
	}
	type wallet struct {
		applicant int64
		subject   string
	}
	var all []wallet
	for rows.Next() {
		var w wallet
		if err := rows.Scan(&w.applicant, &w.subject); err != nil {
			rows.Close()
			return fmt.Errorf("db: backup: selfkey wallets: %w", err)
		}
		all = append(all, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: backup: selfkey wallets: %w", err)
	}
	for i, w := range all {
		dk, err := dataKey(w.applicant)
		if errors.Is(err, ErrKeyDestroyed) {
			continue
		}
		if err != nil {
			return err
		}
		n := int64(i + 1)
		placeholder := fmt.Sprintf("sealed:%d", n)
		if _, err := ins.ExecContext(ctx, w.applicant, "selfkey_subject", n, dk.Seal([]byte(w.subject))); err != nil {
			return fmt.Errorf("db: backup: selfkey wallets: %w", err)
		}
		for _, q := range []string{"UPDATE selfkey_wallets SET subject = ? WHERE subject = ?", "UPDATE selfkey_files SET subject = ? WHERE subject = ?"} {
			if q == "UPDATE selfkey_files SET subject = ? WHERE subject = ?" && !sch.has("selfkey_files") {
				continue
			}
			if _, err := tx.ExecContext(ctx, q, placeholder, w.subject); err != nil {
				return fmt.Errorf("db: backup: selfkey wallets: %w", err)
			}
		}
		rep.Sealed++
	}
	return nil
}

// exportKeys writes the snapshot's wrapped data keys to a new key export
// file, attached to the snapshot's connection.
func exportKeys(ctx context.Context, conn *sql.Conn, path string, n *int) error {
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS k", path); err != nil {
		return fmt.Errorf("db: key export: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE k")
	for _, q := range []string{
		`CREATE TABLE k.key_export (applicant_id INTEGER PRIMARY KEY, kek_id TEXT NOT NULL, wrapped BLOB NOT NULL, created_at INTEGER NOT NULL)`,
		`CREATE TABLE k.key_export_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`INSERT INTO k.key_export SELECT k2.applicant_id, k2.kek_id, k2.wrapped, k2.created_at FROM main.data_keys k2
			JOIN main.applicants a ON a.id = k2.applicant_id WHERE a.archived_at IS NULL`,
		`INSERT INTO k.key_export_meta(key, value) VALUES ('format', 'kycdesk key export v1')`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("db: key export: %w", err)
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM k.key_export").Scan(n); err != nil {
		return fmt.Errorf("db: key export: %w", err)
	}
	return nil
}

// RestoreReport says what Restore did.
type RestoreReport struct {
	Applicants int // restored whole
	Rewrapped  int // keys that were under the old KEK, re-wrapped
	Unsealed   int // personal fields put back
	Archived   int // no key in the export: archived since the snapshot, archived again
}

// Restore builds a new live database at target (which must not exist)
// from a snapshot Backup wrote and the newest key export: keys are
// imported, personal fields unsealed, the search index rebuilt; an
// applicant whose key is not in the export (archived after the snapshot)
// is archived again, with a receipt. old, if set, is a previous
// KYCDESK_DATA_KEY for an export made before a key rotation.
func Restore(ctx context.Context, snapshot, keysPath, target string, opts Options, old []byte) (RestoreReport, error) {
	var rep RestoreReport
	if _, err := os.Stat(target); err == nil {
		return rep, fmt.Errorf("db: restore: %s exists: %w", target, ErrConflict)
	}
	if err := copyFile(snapshot, target); err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	d, err := Open(ctx, target, opts)
	if err != nil {
		os.Remove(target)
		return rep, err
	}
	defer d.Close()
	rep, err = d.restoreSnapshot(ctx, keysPath, old)
	if err != nil {
		d.Close()
		for _, f := range []string{target, target + "-wal", target + "-shm"} {
			os.Remove(f)
		}
		return rep, err
	}
	d.checkpointAfterArchive(ctx)
	return rep, nil
}

func (d *DB) restoreSnapshot(ctx context.Context, keysPath string, old []byte) (RestoreReport, error) {
	var rep RestoreReport
	if d.kek == nil {
		return rep, fmt.Errorf("db: restore: no data key configured")
	}
	var oldKEK *seal.KEK
	if len(old) > 0 {
		var err error
		if oldKEK, err = seal.NewKEK(old); err != nil {
			return rep, fmt.Errorf("db: restore: old key: %w", err)
		}
	}
	if _, err := os.Stat(keysPath); err != nil {
		return rep, fmt.Errorf("db: restore: key export: %w", err)
	}
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS k", "file:"+keysPath+"?mode=ro"); err != nil {
		return rep, fmt.Errorf("db: restore: key export: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE k")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	defer tx.Rollback()
	// Sealed primary keys (SelfKey wallet subjects) come back before the
	// rows that name them: check foreign keys at commit.
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	var marker int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", snapshotMarker).Scan(&marker); err != nil || marker == 0 {
		return rep, fmt.Errorf("db: restore: not a snapshot made by kycdesk backup: %w", ErrInvalid)
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.id, e.kek_id, e.wrapped, e.created_at FROM applicants a
		LEFT JOIN k.key_export e ON e.applicant_id = a.id WHERE a.archived_at IS NULL ORDER BY a.id`)
	if err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	type keyRow struct {
		id      int64
		kekID   sql.NullString
		wrapped []byte
		created sql.NullInt64
	}
	var all []keyRow
	for rows.Next() {
		var r keyRow
		if err := rows.Scan(&r.id, &r.kekID, &r.wrapped, &r.created); err != nil {
			rows.Close()
			return rep, fmt.Errorf("db: restore: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	var keyless []int64
	for _, r := range all {
		switch {
		case !r.kekID.Valid:
			keyless = append(keyless, r.id)
			continue
		case r.kekID.String == d.kek.ID():
		case oldKEK != nil && r.kekID.String == oldKEK.ID():
			if r.wrapped, err = d.rewrap(oldKEK, old, r.id, r.wrapped); err != nil {
				return rep, err
			}
			rep.Rewrapped++
		default:
			return rep, fmt.Errorf("db: restore: applicant %d: %w", r.id, ErrUnknownKEK)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO data_keys(applicant_id, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?)",
			r.id, d.kek.ID(), r.wrapped, r.created.Int64); err != nil {
			return rep, fmt.Errorf("db: restore: data key: %w", err)
		}
	}
	if err := d.unsealSnapshot(ctx, tx, &rep); err != nil {
		return rep, err
	}
	sch, err := readArchiveSchema(ctx, tx)
	if err != nil {
		return rep, err
	}
	defer sch.close()
	for _, id := range keyless {
		if _, err := d.archiveTx(ctx, tx, sch, id, ArchiveRequest{Rule: "restore", Audit: AuditEntry{Actor: "system"},
			Reason: "restored from a snapshot; its data key is not in the key export (archived after the snapshot)"}); err != nil && !errors.Is(err, ErrLegalHold) {
			return rep, err
		}
		rep.Archived++
	}
	if err := sch.finish(ctx); err != nil {
		return rep, err
	}
	if err := restoreTriggers(ctx, tx); err != nil {
		return rep, err
	}
	ids, err := queryIDs(ctx, tx, "SELECT id FROM applicants WHERE archived_at IS NULL ORDER BY id")
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		if err := reindexApplicant(ctx, tx, id); err != nil {
			return rep, err
		}
	}
	rep.Applicants = len(ids)
	if _, err := tx.ExecContext(ctx, "DELETE FROM settings WHERE key = ?", snapshotMarker); err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	audit := AuditEntry{Actor: "system", Action: "backup.restore", Object: "database",
		Detail: fmt.Sprintf("restored %d applicants, unsealed %d fields, re-archived %d without a key, re-wrapped %d keys", rep.Applicants, rep.Unsealed, rep.Archived, rep.Rewrapped)}
	if err := d.appendAudit(ctx, tx, &audit); err != nil {
		return rep, err
	}
	if err := tx.Commit(); err != nil {
		return rep, fmt.Errorf("db: restore: %w", err)
	}
	return rep, nil
}

// unsealSnapshot puts the sealed personal fields back for every applicant
// whose key was imported, then drops the sealed table.
func (d *DB) unsealSnapshot(ctx context.Context, tx *sql.Tx, rep *RestoreReport) error {
	rows, err := tx.QueryContext(ctx, `SELECT s.applicant_id, s.kind, s.row_id, s.ct FROM backup_sealed s
		JOIN data_keys k ON k.applicant_id = s.applicant_id ORDER BY s.applicant_id`)
	if err != nil {
		return fmt.Errorf("db: restore: sealed fields: %w", err)
	}
	type sealedRow struct {
		applicant, row int64
		kind           string
		ct             []byte
	}
	var all []sealedRow
	for rows.Next() {
		var s sealedRow
		if err := rows.Scan(&s.applicant, &s.kind, &s.row, &s.ct); err != nil {
			rows.Close()
			return fmt.Errorf("db: restore: sealed fields: %w", err)
		}
		all = append(all, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: restore: sealed fields: %w", err)
	}
	var dk *seal.DataKey
	var dkFor int64
	for _, s := range all {
		if dk == nil || dkFor != s.applicant {
			if dk, err = d.dataKey(ctx, tx, s.applicant); err != nil {
				return err
			}
			dkFor = s.applicant
		}
		pt, err := dk.Open(s.ct)
		if err != nil {
			return fmt.Errorf("db: restore: applicant %d %s: %w", s.applicant, s.kind, err)
		}
		qs, ok := sealedKinds[s.kind]
		if !ok {
			return fmt.Errorf("db: restore: unknown sealed kind %q: %w", s.kind, ErrInvalid)
		}
		var v any = string(pt)
		if s.kind == "inbox_body" {
			v = pt
		}
		for _, q := range qs {
			if _, err := tx.ExecContext(ctx, q, v, s.row); err != nil {
				return fmt.Errorf("db: restore: applicant %d %s: %w", s.applicant, s.kind, err)
			}
		}
		rep.Unsealed++
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE backup_sealed"); err != nil {
		return fmt.Errorf("db: restore: %w", err)
	}
	return nil
}

func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	return queryColumn[int64](ctx, q, query, args...)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// IsSnapshot reports whether the open database is a snapshot (made by
// Backup, not yet restored): serving it would show no personal data.
func (d *DB) IsSnapshot(ctx context.Context) (bool, error) {
	var n int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", snapshotMarker).Scan(&n); err != nil {
		return false, fmt.Errorf("db: %w", err)
	}
	return n > 0, nil
}
