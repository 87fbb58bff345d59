package db

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSearchMatchesNamesOrRefs: a search finds the applicants whose names
// and emails hold every word, and those whose refs do, newest first, each
// once, page after page; a ref by its first RefPrefixMin characters.
func TestSearchMatchesNamesOrRefs(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	if err := d.Seed(ctx, SeedOptions{N: 300, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	// "did" is a word of every SelfKey id (did:eth:0x…) and of these names.
	var named []int64
	for i := range 60 {
		a, err := d.CreateApplicant(ctx, NewApplicant{Name: "Did Nakamura", Email: "did" + strings.Repeat("x", i%3) + "@example.org"}, AuditEntry{})
		if err != nil {
			t.Fatal(err)
		}
		named = append(named, a.ID)
	}
	wantIDs, err := queryIDs(ctx, d.read, `SELECT applicant_id FROM provider_links WHERE provider = 'selfkey' AND external_id LIKE 'did:%'
		UNION SELECT id FROM applicants WHERE display_name = 'Did Nakamura' ORDER BY 1 DESC`)
	if err != nil {
		t.Fatal(err)
	}
	if len(wantIDs) <= len(named) {
		t.Fatal("the seed has no SelfKey applicants; the case proves nothing")
	}
	var got []int64
	f := ApplicantFilter{Query: "did", Limit: 50}
	for {
		page, err := d.ListApplicants(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Rows {
			got = append(got, a.ID)
		}
		if f.After = page.Next; f.After.IsZero() {
			break
		}
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("search did: %d rows, want %d newest first, each once", len(got), len(wantIDs))
	}

	var ref, reference, external string
	if err := d.read.QueryRowContext(ctx, "SELECT a.ref, l.reference, l.external_id FROM applicants a JOIN provider_links l ON l.applicant_id = a.id WHERE a.id = 100").
		Scan(&ref, &reference, &external); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{ref, true},
		{strings.ToLower(ref), true},
		{ref[:RefPrefixMin], true},
		{ref[:RefPrefixMin-1], false}, // too short to begin a ref
		{reference[:RefPrefixMin+2], true},
		{external, true},
		{"Did " + ref, false}, // one word in the names, one in the refs
	} {
		page, err := d.ListApplicants(ctx, ApplicantFilter{Query: tc.q, Limit: MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		found := slices.ContainsFunc(page.Rows, func(a Applicant) bool { return a.ID == 100 })
		if found != tc.want {
			t.Errorf("search %q finds applicant 100: %v, want %v", tc.q, found, tc.want)
		}
	}
}

func TestMergeNewestFirst(t *testing.T) {
	ids := func(as []Applicant) []int64 {
		var out []int64
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	apps := func(ids ...int64) []Applicant {
		var out []Applicant
		for _, id := range ids {
			out = append(out, Applicant{ID: id})
		}
		return out
	}
	for _, tc := range []struct {
		a, b []Applicant
		n    int
		want []int64
	}{
		{apps(9, 5, 1), nil, 2, []int64{9, 5}},
		{nil, apps(4, 3), 5, []int64{4, 3}},
		{apps(9, 5, 1), apps(8, 5, 2), 10, []int64{9, 8, 5, 2, 1}},
		{apps(9, 5, 1), apps(8, 5, 2), 3, []int64{9, 8, 5}},
		{apps(3), apps(3), 2, []int64{3}},
		{nil, nil, 3, nil},
	} {
		if got := ids(mergeNewestFirst(tc.a, tc.b, tc.n)); !slices.Equal(got, tc.want) {
			t.Errorf("merge %v %v n=%d = %v, want %v", ids(tc.a), ids(tc.b), tc.n, got, tc.want)
		}
	}
}

func TestRefQueries(t *testing.T) {
	for in, want := range map[string]string{
		`KD-7K2M9Q`:         `"kd-7k2m9q"*`,
		`kd-7k`:             `"kd-7k"`,
		`did:eth:0x1234abc`: `"did" AND "eth" AND "0x1234abc"*`,
		`"; DROP`:           `"drop"`,
		``:                  ``,
	} {
		if got := refFTSQuery(in); got != want {
			t.Errorf("refFTSQuery(%q) = %q, want %q", in, got, want)
		}
	}
	for q, want := range map[string]bool{"kd-7k": true, "b": false, "Schmidt": false, "anna kd": true, "": false} {
		if got := RefTooShort(q); got != want {
			t.Errorf("RefTooShort(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestMigration016BuildsWhatTheAppWrites: migration 016, run again on a
// store, builds the search index reindexApplicant writes (emails split by
// kycdesk_search_email, refs in their own table): every search finds what
// it found before.
func TestMigration016BuildsWhatTheAppWrites(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	if err := d.Seed(ctx, SeedOptions{N: 400, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateApplicant(ctx, NewApplicant{Name: "Lukas Schmidt", Email: "lukas.schmidt96@example.com"}, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Archive(ctx, 2, ArchiveRequest{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	var ref, external string
	if err := d.read.QueryRowContext(ctx, "SELECT a.ref, l.external_id FROM applicants a JOIN provider_links l ON l.applicant_id = a.id WHERE a.id = 7").Scan(&ref, &external); err != nil {
		t.Fatal(err)
	}
	queries := []string{"schmidt96", "schmidt9", "okafor", "example.net", ref, ref[:RefPrefixMin], external, "did"}
	results := func() map[string][]int64 {
		out := map[string][]int64{}
		for _, q := range queries {
			page, err := d.ListApplicants(ctx, ApplicantFilter{Query: q, Limit: MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page.Rows {
				out[q] = append(out[q], a.ID)
			}
		}
		return out
	}
	before := results()
	body, err := migrationFiles.ReadFile("migrations/016_ref_search.sql")
	if err != nil {
		t.Fatal(err)
	}
	// From the schema before it: the refs table did not exist.
	if err := d.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DROP TABLE applicant_ref_search;"+string(body))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	after := results()
	for _, q := range queries {
		if len(before[q]) == 0 {
			t.Errorf("%q finds nothing; the comparison proves nothing", q)
		}
		if !slices.Equal(after[q], before[q]) {
			t.Errorf("search %q after migration 016: %v, before %v", q, after[q], before[q])
		}
	}
	// Split as searchEmail splits: "96" is a word of its own.
	var split int
	if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM applicant_search WHERE applicant_search MATCH 'email: "schmidt" "96"'`).Scan(&split); err != nil || split != 1 {
		t.Errorf("emails split after migration 016: %d rows (%v), want 1", split, err)
	}
	if n := searchRowsOf(t, d, 2); n != 0 {
		t.Errorf("the archived applicant has %d search rows after migration 016", n)
	}
	if err := searchIntegrity(d); err != nil {
		t.Error(err)
	}
}

// TestStoreSearchTables: the aside index and the finish read the search
// tables from the store, which a stopped bulk seed of an earlier binary
// leaves at migration 009's one table with a refs column.
func TestStoreSearchTables(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	got, err := storeSearchTables(ctx, d.read)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(searchTables) {
		t.Fatalf("store search tables %v, want %v", got, searchTables)
	}
	for i := range got {
		if got[i].name != searchTables[i].name || !slices.Equal(got[i].columns, searchTables[i].columns) {
			t.Errorf("store search table %v, want %v", got[i], searchTables[i])
		}
	}

	old, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	body, err := migrationFiles.ReadFile("migrations/009_search_prefixes.sql")
	if err != nil {
		t.Fatal(err)
	}
	def := string(body)[strings.Index(string(body), "CREATE VIRTUAL TABLE"):]
	def = def[:strings.Index(def, ";")]
	if _, err := old.ExecContext(ctx, def); err != nil {
		t.Fatal(err)
	}
	tables, err := storeSearchTables(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || tables[0].name != "applicant_search" || !slices.Equal(tables[0].columns, []string{"name", "email", "refs"}) {
		t.Fatalf("search tables of migration 009: %v", tables)
	}
	row := tables[0].batch([][]any{{int64(4), "Ada Quist", "ada 7@example org", "KD-1 se-1 0xab"}})
	if row.cols != "rowid, name, email, refs" || !slices.Equal(row.rows[0], []any{int64(4), "Ada Quist", "ada 7@example org", "KD-1 se-1 0xab"}) {
		t.Errorf("a 009 row: %s %v", row.cols, row.rows[0])
	}
	ref := searchTables[1].batch([][]any{{int64(4), "Ada Quist", "ada", "KD-1"}})
	if ref.cols != "rowid, refs" || !slices.Equal(ref.rows[0], []any{int64(4), "KD-1"}) {
		t.Errorf("a refs row: %s %v", ref.cols, ref.rows[0])
	}
}

// TestArchiveLeavesNoSearchTerms: an archived applicant's words leave the
// search index's pages, not only its results (FTS5 secure-delete, which
// needs tables that keep their content: migration 016). Its words sort
// first in their tables, so they would be stored whole, the first term of
// the first page, were they still there.
func TestArchiveLeavesNoSearchTerms(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	var ids []int64
	for _, name := range []string{"Aaacanary Aaaperson", "Bea Quist", "Cem Quist"} {
		a, err := d.CreateApplicant(ctx, NewApplicant{Name: name, Email: strings.ToLower(strings.Fields(name)[0]) + "@example.org"}, AuditEntry{})
		if err != nil {
			t.Fatal(err)
		}
		// A Core ID, which the archive blanks (other providers' ids stay).
		coreID := "cb00canary" + []string{"ab", "z1", "z2"}[len(ids)]
		if _, err := d.StartVerification(ctx, NewVerification{ApplicantID: a.ID, Provider: "corepass", Reference: "cp-" + a.Ref,
			ExternalID: coreID, Status: "invited", ProviderStatus: "PENDING"}, AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if page, err := d.ListApplicants(ctx, ApplicantFilter{Query: "cb00canary"}); err != nil || len(page.Rows) != 3 {
		t.Fatalf("the provider ids' beginning finds %d rows (%v) before the archive, want 3", len(page.Rows), err)
	}
	if _, err := d.Archive(ctx, ids[0], ArchiveRequest{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(d.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, word := range []string{"aaacanary", "aaaperson", "cb00canaryab"} {
		if bytes.Contains(file, []byte(word)) {
			t.Errorf("the store still holds %q of the archived applicant", word)
		}
	}
	if page, err := d.ListApplicants(ctx, ApplicantFilter{Query: "cb00canary"}); err != nil || len(page.Rows) != 2 {
		t.Errorf("the provider ids' beginning finds %d rows (%v) after the archive, want 2", len(page.Rows), err)
	}
	if !bytes.Contains(file, []byte("cb00canaryz1")) {
		t.Error("the store lacks a live applicant's provider id; the scan proves nothing")
	}
}

// TestReindexRewritesOnlyWhatChanged: reindexApplicant leaves a search
// table whose row is current alone (a secure delete rewrites index
// pages), rewrites the one that changed, and removes both once archived.
func TestReindexRewritesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a, err := d.CreateApplicant(ctx, NewApplicant{Name: "Ada Quist", Email: "ada@example.org"}, AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	changes := func(step func(tx *sql.Tx) error) (n int) {
		t.Helper()
		err := d.inTx(ctx, func(tx *sql.Tx) error {
			if err := step(tx); err != nil {
				return err
			}
			var before int
			if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&before); err != nil {
				return err
			}
			if err := reindexApplicant(ctx, tx, a.ID); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, "SELECT total_changes() - ?", before).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec := func(q string, args ...any) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }
	}
	if n := changes(func(*sql.Tx) error { return nil }); n != 0 {
		t.Errorf("reindexing an unchanged applicant changed %d rows, want 0", n)
	}
	// A new provider link rewrites the refs table's row only: half of what
	// a new name and another link together rewrite.
	link := func(provider, reference, external string) func(tx *sql.Tx) error {
		return exec("INSERT INTO provider_links(applicant_id, provider, reference, external_id, status, updated_at) VALUES (?, ?, ?, ?, 'invited', 1)",
			a.ID, provider, reference, external)
	}
	oneTable := changes(link("verifyyou", "vy-abcdef1", "vy_0011223344"))
	if searchCount(t, d, "vy_0011223344") != 1 || searchCount(t, d, "quist") != 1 {
		t.Error("the applicant is not found by its new link's id and its name")
	}
	both := changes(func(tx *sql.Tx) error {
		if err := exec("UPDATE applicants SET display_name = 'Ada Lindqvist' WHERE id = ?", a.ID)(tx); err != nil {
			return err
		}
		return link("idfy", "id-abcdef1", "0badc0de-0001")(tx)
	})
	if oneTable == 0 || both != 2*oneTable {
		t.Errorf("a new link changed %d rows, a new name and link %d: want one table's rewrite, then both", oneTable, both)
	}
	if searchCount(t, d, "quist") != 0 || searchCount(t, d, "lindqvist") != 1 || searchCount(t, d, "0badc0de-0001") != 1 {
		t.Error("the search finds the old name, or not the new name or link")
	}
	changes(exec("UPDATE applicants SET archived_at = 1 WHERE id = ?", a.ID))
	if n := searchRowsOf(t, d, a.ID); n != 0 {
		t.Errorf("an archived applicant has %d search rows", n)
	}
}

// TestBulkSeedOnTheOneTableSearchIndex: a bulk seed that a binary from
// before migration 016 began is finished by this one before the
// migrations run, on migration 009's one contentless search table. The
// aside index, its swap and the finish work on the tables the store has;
// migration 016 then splits them.
func TestBulkSeedOnTheOneTableSearchIndex(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	backToOneTable(t, d)
	if err := d.Seed(ctx, SeedOptions{N: 2000, Seed: 4, bulk: true}); err != nil {
		t.Fatal(err)
	}
	var ref string
	if err := d.read.QueryRowContext(ctx, "SELECT ref FROM applicants WHERE id = 1500").Scan(&ref); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM applicant_search WHERE applicant_search MATCH ?", `refs:"`+strings.ToLower(ref)+`"`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the one-table index finds the seeded ref %d times (%v), want 1", n, err)
	}
	if _, err := d.write.ExecContext(ctx, "INSERT INTO applicant_search(applicant_search, rank) VALUES('integrity-check', 0)"); err != nil {
		t.Fatalf("the one-table index after the seed: %v", err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := searchCount(t, d, ref); got != 1 {
		t.Errorf("after migration 016 the seeded ref finds %d applicants, want 1", got)
	}
	if err := searchIntegrity(d); err != nil {
		t.Error(err)
	}
}

// backToOneTable puts d's search index back to migration 009's one
// contentless table, with migration 016 not applied.
func backToOneTable(t *testing.T, d *DB) {
	t.Helper()
	ctx := context.Background()
	body, err := migrationFiles.ReadFile("migrations/009_search_prefixes.sql")
	if err != nil {
		t.Fatal(err)
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DROP TABLE applicant_ref_search; DELETE FROM schema_migrations WHERE version = 16;"+string(body))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStoppedOneTableBulkSeedFinishesThenMigrates: the path of an upgrade
// over a stopped bulk seed. The seed stopped on migration 009's one
// table; Open finishes it (building that table's index from the tables,
// as the seed's aside index died with it) before it migrates, and
// migration 016 then splits the index.
func TestStoppedOneTableBulkSeedFinishesThenMigrates(t *testing.T) {
	ctx := context.Background()
	open := reopenable(t)
	d, err := open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	backToOneTable(t, d)
	run, _ := startBulkSeedBatch(t, d, SeedOptions{N: 800, Seed: 5})
	run.die(t)
	d.Close()
	if d, err = open(Options{FinishBulkSeed: true}); err != nil {
		t.Fatalf("open finishing the seed on the one-table index: %v", err)
	}
	defer d.Close()
	if !d.FinishedBulkSeed() {
		t.Fatal("Open did not finish the stopped seed")
	}
	if v, err := d.SchemaVersion(ctx); err != nil || v < 16 {
		t.Fatalf("schema version %d (%v) after the finish, want migration 016 applied", v, err)
	}
	checkSearchFindsEvery(t, d, "Okafor")
	var ref string
	if err := d.read.QueryRowContext(ctx, "SELECT ref FROM applicants ORDER BY id DESC LIMIT 1").Scan(&ref); err != nil {
		t.Fatal(err)
	}
	if got := searchCount(t, d, ref); got != 1 {
		t.Errorf("the last seeded ref finds %d applicants, want 1", got)
	}
	if err := searchIntegrity(d); err != nil {
		t.Error(err)
	}
}
