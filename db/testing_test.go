package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
)

// openTest opens a fresh database in a temp dir with a pinned clock.
func openTest(t *testing.T, now time.Time) *DB {
	t.Helper()
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	clock := now
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "kycdesk.db"), Options{KEK: kek, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// searchCount pages through the applicants list's search for q and
// counts the matches.
func searchCount(t *testing.T, d *DB, q string) int {
	t.Helper()
	n := 0
	for f := (ApplicantFilter{Query: q, Limit: MaxPageSize}); ; {
		page, err := d.ListApplicants(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Rows)
		if page.Next.IsZero() {
			return n
		}
		f.After = page.Next
	}
}

// searchIntegrity runs FTS5's own integrity check of the search index.
func searchIntegrity(d *DB) error {
	for _, t := range searchTables {
		if _, err := d.write.ExecContext(context.Background(), "INSERT INTO "+t.name+"("+t.name+", rank) VALUES('integrity-check', 0)"); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return nil
}

// queryPlan is SQLite's plan for q, its steps joined by "; ".
func queryPlan(t *testing.T, d *DB, q string, args ...any) string {
	t.Helper()
	rows, err := d.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "; ")
}
