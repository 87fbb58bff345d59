package db

import (
	"context"
	"slices"
	"testing"
)

// TestBulkSeedPutsTheStoreBack seeds through the bulk path (indexes
// dropped, search merging off, a large cache) and checks that everything
// it changed is back: the same indexes as a fresh store, the search
// index's merge settings, the page cache, and search finding every match.
func TestBulkSeedPutsTheStoreBack(t *testing.T) {
	ctx := context.Background()
	fresh := openTest(t, t0)
	d := openTest(t, t0)
	if err := d.Seed(ctx, SeedOptions{N: 1500, Seed: 3, bulk: true}); err != nil {
		t.Fatal(err)
	}
	indexes := func(d *DB) []string {
		rows, err := d.read.QueryContext(ctx, "SELECT name || ': ' || sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var defs []string
		for rows.Next() {
			var def string
			if err := rows.Scan(&def); err != nil {
				t.Fatal(err)
			}
			defs = append(defs, def)
		}
		if len(defs) == 0 {
			t.Fatal("no indexes listed")
		}
		return defs
	}
	if got, want := indexes(d), indexes(fresh); !slices.Equal(got, want) {
		t.Errorf("indexes after a bulk seed:\n%q\nwant\n%q", got, want)
	}
	for key, want := range map[string]int{"automerge": 4, "crisismerge": 16} {
		var got int
		err := d.read.QueryRowContext(ctx, "SELECT v FROM applicant_search_config WHERE k = ?", key).Scan(&got)
		if err != nil || got != want {
			t.Errorf("search index %s = %d (%v), want %d", key, got, err, want)
		}
	}
	var cache int
	if err := d.write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil || cache != pageCacheSize {
		t.Errorf("write connection cache_size = %d (%v), want %d", cache, err, pageCacheSize)
	}
	var want int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM applicants WHERE display_name LIKE '%Okafor%'").Scan(&want)
	if want == 0 {
		t.Fatal("the fixture has no Okafor; the search check proves nothing")
	}
	got := 0
	for f := (ApplicantFilter{Query: "okafor", Limit: MaxPageSize}); ; {
		page, err := d.ListApplicants(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got += len(page.Rows)
		if page.Next.IsZero() {
			break
		}
		f.After = page.Next
	}
	if got != want {
		t.Errorf("search found %d Okafors, want %d", got, want)
	}
}
