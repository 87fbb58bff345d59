// Package db is the only package with SQL. It opens the embedded SQLite
// database with the pragmas KYC Desk relies on (durability, secure delete,
// foreign keys), keeps a read pool beside a one-connection write pool,
// applies the embedded migrations, and enforces the data invariants (audit
// append, envelope encryption of personal data) inside its transactions so
// no caller can skip them.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Sentinel errors callers can test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// DB is the KYC Desk store.
type DB struct {
	read  *readPool
	write *sql.DB
	kek   *seal.KEK
	now   func() time.Time
	path  string

	badgePolicy   policyCache // the retention policy as the list's badges see it
	providerLists sync.Map    // list rows' provider lists, shared (providerList)

	finishedBulkSeed bool // Open finished a stopped bulk seed
}

// Options configure Open.
type Options struct {
	// KEK wraps the applicants' data keys. Required for anything that
	// touches personal data.
	KEK *seal.KEK
	// Now is the clock (tests pin it). Defaults to time.Now.
	Now func() time.Time
	// FinishBulkSeed finishes a bulk seed that was interrupted (see
	// bulkSeedPending) instead of refusing the store with
	// ErrBulkSeedPending. Only for when no seed is running.
	FinishBulkSeed bool
}

// pragmas apply to every connection. busy_timeout comes first so that the
// others never fail on a locked database.
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"foreign_keys(ON)",
	"secure_delete(ON)",
	"temp_store(MEMORY)",
	fmt.Sprintf("cache_size(%d)", pageCacheSize),
}

// pageCacheSize is every connection's page cache (negative: KiB).
const pageCacheSize = -32000

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: create directory: %w", err)
		}
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append(pragmas, extra...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}
	write, err := sql.Open("sqlite", dsn())
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	// One writer: SQLite serialises writes anyway, and a single connection
	// means no SQLITE_BUSY between our own writers.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn("query_only(ON)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("db: open: %w", err)
	}
	n := max(4, runtime.NumCPU()*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	d := &DB{read: newReadPool(read), write: write, kek: opts.KEK, now: opts.Now, path: path}
	if d.now == nil {
		d.now = time.Now
	}
	// An unfinished bulk seed is dealt with first: the migrations that
	// follow expect the indexes and triggers it dropped.
	if d.finishedBulkSeed, err = d.bulkSeedAtOpen(ctx, opts.FinishBulkSeed); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	// The database holds personal data: keep it private to our user.
	_ = os.Chmod(path, 0o600)
	return d, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	return errors.Join(d.read.Close(), d.write.Close())
}

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Checkpoint truncates the WAL so that deleted pages leave the WAL file too.
func (d *DB) Checkpoint(ctx context.Context) error {
	if _, err := d.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("db: checkpoint: %w", err)
	}
	return nil
}

// querier is what read helpers need: the read pool or a transaction (so a
// helper reads inside a write transaction when it must see its writes).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execer is what writes: the write pool, a transaction, a connection.
// queryColumn reads the one column query selects, row by row.
func queryColumn[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("db: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (d *DB) millis() int64 { return d.now().UnixMilli() }

// inTx runs fn in one write transaction.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTxOn(ctx, d.write, fn)
}

// txBeginner begins transactions: a pool or a connection.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// inTxOn runs fn in one transaction begun on db.
func inTxOn(ctx context.Context, db txBeginner, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}
