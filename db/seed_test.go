package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db/seal"
)

// TestBulkSeedPutsTheStoreBack seeds through the bulk path (indexes
// and triggers dropped, search merging off, a large cache) and checks that everything
// it changed is back: the same indexes and triggers as a fresh store,
// each applicant's providers as its links say, the search
// index's merge settings, the page cache, and search finding every match.
func TestBulkSeedPutsTheStoreBack(t *testing.T) {
	ctx := context.Background()
	fresh := openTest(t, t0)
	d := openTest(t, t0)
	if err := d.Seed(ctx, SeedOptions{N: 1500, Seed: 3, bulk: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := schemaDefs(t, d), schemaDefs(t, fresh); !slices.Equal(got, want) {
		missing := slices.DeleteFunc(slices.Clone(want), func(s string) bool { return slices.Contains(got, s) })
		extra := slices.DeleteFunc(slices.Clone(got), func(s string) bool { return slices.Contains(want, s) })
		t.Errorf("indexes and triggers after a bulk seed differ from a fresh store's:\nmissing %q\nextra %q", missing, extra)
	}
	var wrong int
	d.read.QueryRowContext(ctx, `SELECT count(*) FROM applicants a WHERE a.providers != COALESCE((SELECT group_concat(provider, ',')
		FROM (SELECT provider FROM provider_links WHERE applicant_id = a.id ORDER BY provider)), '')`).Scan(&wrong)
	if wrong != 0 {
		t.Errorf("%d applicants list other providers than their links", wrong)
	}
	for _, st := range searchTables {
		for key, want := range map[string]int{"automerge": 4, "crisismerge": 16, "hashsize": 1 << 20} {
			var got int
			err := d.read.QueryRowContext(ctx, "SELECT v FROM "+st.name+"_config WHERE k = ?", key).Scan(&got)
			if err != nil || got != want {
				t.Errorf("search table %s: %s = %d (%v), want %d", st.name, key, got, err, want)
			}
		}
	}
	var cache int
	if err := d.write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil || cache != pageCacheSize {
		t.Errorf("write connection cache_size = %d (%v), want %d", cache, err, pageCacheSize)
	}
	// The batches went in without foreign key and CHECK constraint checks
	// (inTxWithoutChecks); integrity_check checks the CHECK constraints.
	var violations int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&violations); err != nil || violations != 0 {
		t.Errorf("%d foreign key violations after a bulk seed (%v)", violations, err)
	}
	var integrity string
	if err := d.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check after a bulk seed = %q (%v)", integrity, err)
	}
	checkSearchFindsEvery(t, d, "Okafor")
}

// TestBulkSeedKeepsPartialIndexes: while a bulk seed runs, every index
// of the seeded tables is dropped (and recorded, to be built again) but
// the partial ones, which cost it nothing because no seeded row is in one.
func TestBulkSeedKeepsPartialIndexes(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	run, _ := startBulkSeedBatch(t, d, SeedOptions{N: 1500, Seed: 3})
	defer run.die(t)
	recorded := map[string]bool{}
	for _, o := range pendingBulkSeed(t, d).Indexes {
		recorded[o.Name] = true
	}
	partial := 0
	err := inTxOn(ctx, openTest(t, t0).write, func(fresh *sql.Tx) error {
		for _, table := range seededTables {
			all, err := schemaObjects(ctx, fresh, "index", "tbl_name = ?", table)
			if err != nil {
				return err
			}
			for _, o := range all {
				var there int
				if err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?", o.Name).Scan(&there); err != nil {
					return err
				}
				at := strings.Index(o.SQL, " WHERE ")
				if at < 0 {
					if there != 0 || !recorded[o.Name] {
						t.Errorf("index %s: in the store %d times and recorded %v during a bulk seed, want dropped and recorded", o.Name, there, recorded[o.Name])
					}
					continue
				}
				partial++
				if there != 1 || recorded[o.Name] {
					t.Errorf("partial index %s: in the store %d times and recorded %v during a bulk seed, want kept", o.Name, there, recorded[o.Name])
				}
				var n int
				if err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM "+table+o.SQL[at:]).Scan(&n); err != nil {
					return err
				}
				if n != 0 {
					t.Errorf("%d seeded rows are in the partial index %s, which a bulk seed keeps", n, o.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if partial != 3 {
		t.Errorf("%d partial indexes on the seeded tables, want the three of migration 015", partial)
	}
	// The review queue keeps its indexes while the seed runs; the recorded
	// derivation, which any finishing binary runs, drops and creates them
	// around the rows it adds.
	var queue []schemaObject
	if err := d.inTx(ctx, func(tx *sql.Tx) (err error) {
		queue, err = schemaObjects(ctx, tx, "index", "tbl_name = 'review_queue'")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	derivation := strings.Join(pendingBulkSeed(t, d).Derived, ";\n")
	for _, o := range queue {
		dropped := strings.Contains(derivation, `DROP INDEX "`+o.Name+`"`)
		if strings.Contains(o.SQL, " WHERE ") == dropped || dropped != strings.Contains(derivation, o.SQL) {
			t.Errorf("review queue index %s: dropped %v and created %v by the recorded derivation, want both unless it is partial", o.Name, dropped, strings.Contains(derivation, o.SQL))
		}
	}
	if len(queue) != 5 {
		t.Errorf("%d review queue indexes during a bulk seed, want all five", len(queue))
	}
}

// checkSearchFindsEvery fails t unless searching for a family name finds
// every applicant who has it, and there are some.
func checkSearchFindsEvery(t *testing.T, d *DB, family string) {
	t.Helper()
	var want int
	if err := d.read.QueryRowContext(context.Background(), "SELECT count(*) FROM applicants WHERE display_name LIKE ?", "% "+family).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if want == 0 {
		t.Fatalf("the fixture has no %s; the search check proves nothing", family)
	}
	if got := searchCount(t, d, strings.ToLower(family)); got != want {
		t.Errorf("search found %d of the %d applicants named %s", got, want, family)
	}
}

// startBulkSeedBatch starts a bulk seed and writes one batch of opt.N
// applicants as the seed would, returning the run and the batch.
func startBulkSeedBatch(t *testing.T, d *DB, opt SeedOptions) (*bulkSeedRun, seedBatch) {
	t.Helper()
	ctx := context.Background()
	run, err := d.startBulkSeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := newSeedGenerator(d, opt, run.base).batch(0, opt.N)
	if err := d.inTx(ctx, func(tx *sql.Tx) error { return d.writeSeedBatch(ctx, tx, newSeedInserter(d.write), b, true) }); err != nil {
		t.Fatal(err)
	}
	return run, b
}

// pendingBulkSeed reads the store's pending bulk-seed record.
func pendingBulkSeed(t *testing.T, d *DB) bulkSeedState {
	t.Helper()
	var value string
	if err := d.write.QueryRowContext(context.Background(), "SELECT value FROM settings WHERE key = ?", bulkSeedPending).Scan(&value); err != nil {
		t.Fatal(err)
	}
	var st bulkSeedState
	if err := json.Unmarshal([]byte(value), &st); err != nil {
		t.Fatalf("pending record %s: %v", value, err)
	}
	return st
}

// reopenable is a store at a path of its own that a test closes and opens
// again under the same key and clock.
func reopenable(t *testing.T) func(Options) (*DB, error) {
	t.Helper()
	kek, err := seal.NewKEK(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kycdesk.db")
	return func(opts Options) (*DB, error) {
		opts.KEK, opts.Now = kek, func() time.Time { return t0 }
		return Open(context.Background(), path, opts)
	}
}

// die leaves a bulk seed run as a process that dies leaves it: its aside
// search index (here finished) stays behind, and the operating system
// releases its lock.
func (r *bulkSeedRun) die(t *testing.T) {
	t.Helper()
	if err := r.search.finish(); err != nil {
		t.Fatal(err)
	}
	r.search.db.Close()
	r.lock.unlock()
}

// TestApplicantProvidersFollowLinks: the applicant's providers column
// (migration 010) follows its links through insert, update and delete.
func TestApplicantProvidersFollowLinks(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	a, err := d.CreateApplicant(ctx, NewApplicant{Name: "Ana Costa"}, AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.CreateApplicant(ctx, NewApplicant{Name: "Finn Berg"}, AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		sql   string
		wantA string
		wantB string
	}{
		{"first link", "INSERT INTO provider_links(applicant_id, provider, reference, updated_at) VALUES (?, 'idfy', 'r1', 1)", "idfy", ""},
		{"second link, listed in order", "INSERT INTO provider_links(applicant_id, provider, reference, updated_at) VALUES (?, 'corepass', 'r2', 1)", "corepass,idfy", ""},
		{"provider changed", "UPDATE provider_links SET provider = 'blockpass' WHERE applicant_id = ? AND provider = 'idfy'", "blockpass,corepass", ""},
		{"link moved to another applicant", "UPDATE provider_links SET applicant_id = " + strconv.FormatInt(b.ID, 10) + " WHERE applicant_id = ? AND provider = 'corepass'", "blockpass", "corepass"},
		{"link deleted", "DELETE FROM provider_links WHERE applicant_id = ?", "", "corepass"},
	}
	for _, s := range steps {
		if _, err := d.write.ExecContext(ctx, s.sql, a.ID); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for _, c := range []struct {
			id   int64
			want string
		}{{a.ID, s.wantA}, {b.ID, s.wantB}} {
			got, err := d.Applicant(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Providers, ",") != c.want {
				t.Errorf("%s: applicant %d providers = %q, want %q", s.name, c.id, got.Providers, c.want)
			}
		}
	}
}

// TestBulkSeedDerivesWhatTheTriggersWould: a bulk seed drops the triggers
// that keep the statistics and the review queue, and derives them
// set-based at the end (seedDerivation), after three batches here. The
// result must be what the triggers make row by row, on top of rows that
// were there before.
func TestBulkSeedDerivesWhatTheTriggersWould(t *testing.T) {
	ctx := context.Background()
	derived := func(bulk bool) map[string][]string {
		d := openTest(t, t0)
		// Rows from before the seed, which the derivation must leave counted.
		if err := d.Seed(ctx, SeedOptions{N: 300, Seed: 11}); err != nil {
			t.Fatal(err)
		}
		if err := d.Seed(ctx, SeedOptions{N: 2000, Seed: 12, bulk: bulk, batch: 700}); err != nil {
			t.Fatal(err)
		}
		return derivedTables(t, d)
	}
	byTriggers, bulk := derived(false), derived(true)
	for name, want := range byTriggers {
		if len(want) == 0 {
			t.Errorf("%s is empty after seeding; the comparison proves nothing", name)
		}
		if !slices.Equal(bulk[name], want) {
			t.Errorf("%s after a bulk seed:\n%q\nwant (as the triggers make it)\n%q", name, bulk[name], want)
		}
	}
}

// TestBulkSeedSearchIndex: a bulk seed builds the search index aside,
// from the applicants already there and the seeded ones, and swaps it in.
// Search then finds what a seed through the store's own index finds: the
// earlier applicants too, never an archived one, and the index stays
// sound for the writes that follow.
func TestBulkSeedSearchIndex(t *testing.T) {
	ctx := context.Background()
	queries := []string{"okafor", "quist", "amara schmidt", "example.net"}
	matches := func(bulk bool) (*DB, map[string][]int64) {
		d := openTest(t, t0)
		if err := d.Seed(ctx, SeedOptions{N: 300, Seed: 11}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Zoltan Quist", "Ada Quist"} {
			if _, err := d.CreateApplicant(ctx, NewApplicant{Name: name, Email: "quist@example.org"}, AuditEntry{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Archive(ctx, 1, ArchiveRequest{Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		// The write connection reads the search tables, which then keep
		// their layout cached (a write would have dropped it).
		var n int
		if err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM applicant_search WHERE applicant_search MATCH 'quist'").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d Quists before the seed (%v)", n, err)
		}
		if err := d.write.QueryRowContext(ctx, `SELECT count(*) FROM applicant_ref_search WHERE applicant_ref_search MATCH '"kd-"*'`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("%d refs before the seed (%v)", n, err)
		}
		if err := d.Seed(ctx, SeedOptions{N: 2000, Seed: 12, bulk: bulk}); err != nil {
			t.Fatal(err)
		}
		found := map[string][]int64{}
		for _, q := range queries {
			for f := (ApplicantFilter{Query: q, Limit: MaxPageSize}); ; {
				page, err := d.ListApplicants(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range page.Rows {
					found[q] = append(found[q], a.ID)
				}
				if f.After = page.Next; f.After.IsZero() {
					break
				}
			}
		}
		return d, found
	}
	_, want := matches(false)
	d, got := matches(true)
	for _, q := range queries {
		if len(want[q]) == 0 {
			t.Errorf("%q finds nothing; the comparison proves nothing", q)
		}
		if !slices.Equal(got[q], want[q]) {
			t.Errorf("search %q after a bulk seed: %d matches, want %d", q, len(got[q]), len(want[q]))
		}
	}
	if len(got["quist"]) != 2 {
		t.Errorf("search finds %d of the 2 applicants from before the seed", len(got["quist"]))
	}
	// The refs column: a seeded applicant by its ref, its provider
	// reference and its provider's id.
	var ref, reference, external string
	if err := d.read.QueryRowContext(ctx, "SELECT a.ref, l.reference, l.external_id FROM applicants a JOIN provider_links l ON l.applicant_id = a.id WHERE a.id = 1500").
		Scan(&ref, &reference, &external); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{ref, reference, external} {
		if page, err := d.ListApplicants(ctx, ApplicantFilter{Query: q}); err != nil || len(page.Rows) != 1 || page.Rows[0].ID != 1500 {
			t.Errorf("search %q finds %d rows (%v), want applicant 1500", q, len(page.Rows), err)
		}
	}
	archived := searchRowsOf(t, d, 1)
	if archived != 0 {
		t.Errorf("the archived applicant has %d search rows", archived)
	}
	// Writes after the swap go into the swapped-in index.
	if _, err := d.CreateApplicant(ctx, NewApplicant{Name: "Ida Quist"}, AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if n := searchCount(t, d, "quist"); n != 3 {
		t.Errorf("search finds %d Quists after one more, want 3", n)
	}
	if err := searchIntegrity(d); err != nil {
		t.Errorf("search index after a bulk seed and a write: %v", err)
	}
	if _, err := os.Stat(d.path + searchAsideSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the aside search index is still there: %v", err)
	}
}

// TestBulkSeedBesideAnotherWriter: a bulk seed needs the store to itself.
// If another writer comes anyway, the search index built aside (which
// lacks that writer's changes) is not swapped in: the finish builds one
// from the tables instead, so nothing the other writer did is undone.
func TestBulkSeedBesideAnotherWriter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		n       int                                 // applicants to seed
		write   func(t *testing.T, d *DB) int64     // what the other writer does after the first batch; the applicant it touched
		seedErr bool                                // the seed notices and stops
		check   func(t *testing.T, d *DB, id int64) // the search index afterwards
	}{
		{
			// Another process (another connection) archives an applicant
			// the aside index already holds.
			name: "archive from another connection",
			n:    2000,
			write: func(t *testing.T, d *DB) int64 {
				other, err := sql.Open("sqlite", "file:"+d.path+"?_pragma=busy_timeout(10000)")
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				for _, q := range []string{"UPDATE applicants SET archived_at = 1, display_name = '', email = '' WHERE id = 2",
					"DELETE FROM applicant_search WHERE rowid = 2", "DELETE FROM applicant_ref_search WHERE rowid = 2"} {
					if _, err := other.ExecContext(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
				return 2
			},
			check: func(t *testing.T, d *DB, id int64) {
				if n := searchRowsOf(t, d, id); n != 0 {
					t.Errorf("applicant %d, archived during the seed, has %d search rows", id, n)
				}
			},
		},
		{
			// The same process adds an applicant between two batches: the
			// seed stops with an error.
			name: "applicant added",
			n:    12000,
			write: func(t *testing.T, d *DB) int64 {
				a, err := d.CreateApplicant(ctx, NewApplicant{Name: "Quinn Other"}, AuditEntry{})
				if err != nil {
					t.Fatal(err)
				}
				return a.ID
			},
			seedErr: true,
			check: func(t *testing.T, d *DB, id int64) {
				if n := searchRowsOf(t, d, id); n != len(searchTables) {
					t.Errorf("applicant %d, added during the seed, has %d search rows, want %d", id, n, len(searchTables))
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openTest(t, t0)
			if err := d.Seed(ctx, SeedOptions{N: 300, Seed: 11}); err != nil {
				t.Fatal(err)
			}
			var id int64
			progress := func(done int) {
				if id == 0 {
					id = tc.write(t, d)
				}
			}
			err := d.Seed(ctx, SeedOptions{N: tc.n, Seed: 12, bulk: true, Progress: progress})
			if (err != nil) != tc.seedErr {
				t.Fatalf("seed: %v, want an error: %v", err, tc.seedErr)
			}
			var pending int
			if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", bulkSeedPending).Scan(&pending); err != nil || pending != 0 {
				t.Fatalf("the seed is still pending (%d, %v)", pending, err)
			}
			tc.check(t, d, id)
			if err := searchIntegrity(d); err != nil {
				t.Errorf("search index: %v", err)
			}
		})
	}
}

// searchRowsOf counts an applicant's rows in the search index's tables
// (one in each while it is searchable).
func searchRowsOf(t *testing.T, d *DB, id int64) int {
	t.Helper()
	n := 0
	for _, st := range searchTables {
		var rows int
		if err := d.read.QueryRowContext(context.Background(), "SELECT count(*) FROM "+st.name+"_content WHERE id = ?", id).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		n += rows
	}
	return n
}

// TestSeedKeysRiseAndKeepTheirFormat: seeded refs and tokens have the
// formats of newRef and NewToken, are unique, and rise with the
// applicant's place in the seed (which keeps their unique indexes cheap
// to fill).
func TestSeedKeysRiseAndKeepTheirFormat(t *testing.T) {
	for _, n := range []int{1, 2, 7, 1000} {
		var prevRef, prevToken string
		for i := 0; i < n; i++ {
			ref, token := seedRef(i, n), seedToken(i, n)
			if len(ref) != len(newRef()) || !strings.HasPrefix(ref, "KD-") {
				t.Fatalf("seedRef(%d, %d) = %q, not newRef's format (%q)", i, n, ref, newRef())
			}
			if _, err := refEncoding.DecodeString(ref[3:]); err != nil {
				t.Fatalf("seedRef(%d, %d) = %q: %v", i, n, ref, err)
			}
			if len(token) != len(NewToken()) || strings.Trim(token, "-_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
				t.Fatalf("seedToken(%d, %d) = %q, not NewToken's format", i, n, token)
			}
			if ref <= prevRef || token <= prevToken {
				t.Fatalf("seed keys %d of %d do not rise: %q after %q, %q after %q", i, n, ref, prevRef, token, prevToken)
			}
			prevRef, prevToken = ref, token
		}
	}
}

// TestInterruptedBulkSeed: a bulk seed that dies after dropping indexes
// and triggers and writing rows leaves a store that Open refuses (it
// lacks the archive guard among others) until told to finish the seed;
// then the store is as if the seed had ended: the same schema as a fresh
// store, and the statistics and review queue the triggers would have made.
func TestInterruptedBulkSeed(t *testing.T) {
	ctx := context.Background()
	open := reopenable(t)
	d, err := open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	opt := SeedOptions{N: 800, Seed: 5}
	// The seed writes a batch and dies: its finish never runs, and the
	// search index it built aside (without the batch) is left behind.
	run, _ := startBulkSeedBatch(t, d, opt)
	run.die(t)
	// A first finish died after building one of the indexes: the next
	// one must build the others and leave that one.
	st := pendingBulkSeed(t, d)
	if len(st.Indexes) == 0 {
		t.Fatal("the pending record lists no indexes")
	}
	if _, err := d.write.ExecContext(ctx, st.Indexes[0].SQL); err != nil {
		t.Fatal(err)
	}
	d.Close()

	if d, err := open(Options{}); !errors.Is(err, ErrBulkSeedPending) {
		if err == nil {
			d.Close()
		}
		t.Fatalf("open after an interrupted bulk seed: %v, want ErrBulkSeedPending", err)
	}
	d, err = open(Options{FinishBulkSeed: true})
	if err != nil {
		t.Fatalf("open finishing the seed: %v", err)
	}
	defer d.Close()
	if !d.FinishedBulkSeed() {
		t.Error("Open finished a bulk seed and does not say so")
	}
	byTriggers := openTest(t, t0)
	if err := byTriggers.Seed(ctx, opt); err != nil {
		t.Fatal(err)
	}
	if got, want := schemaDefs(t, d), schemaDefs(t, byTriggers); !slices.Equal(got, want) {
		t.Errorf("indexes and triggers after finishing:\n%q\nwant\n%q", got, want)
	}
	got, want := derivedTables(t, d), derivedTables(t, byTriggers)
	for name, w := range want {
		if len(w) == 0 {
			t.Errorf("%s is empty; the comparison proves nothing", name)
		}
		if !slices.Equal(got[name], w) {
			t.Errorf("%s after finishing:\n%q\nwant\n%q", name, got[name], w)
		}
	}
	// The search index was built from the tables, not taken from the
	// stopped seed's aside one.
	checkSearchFindsEvery(t, d, "Okafor")
	if _, err := os.Stat(d.path + searchAsideSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stopped seed's aside search index is still there: %v", err)
	}
	// Finished: a plain open works, with nothing to finish.
	d.Close()
	if d, err = open(Options{FinishBulkSeed: true}); err != nil {
		t.Fatalf("open after finishing: %v", err)
	}
	if d.FinishedBulkSeed() {
		t.Error("a second open says it finished a bulk seed")
	}
	d.Close()
}

// TestBulkSeedUsesItsOwnSearchIndex: the finish swaps in the index the
// seed built as it went (one built from the tables is the fallback, the
// same index at the cost of the whole build again), and a finish that
// died after its swap does not build it again. The probe is a name
// changed in the table behind the search index's back, on the seed's own
// connection (which the check for other writers does not see): only an
// index built from the tables has it.
func TestBulkSeedUsesItsOwnSearchIndex(t *testing.T) {
	ctx := context.Background()
	open := reopenable(t)
	d, err := open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, b := startBulkSeedBatch(t, d, SeedOptions{N: 500, Seed: 7})
	run.search.add(b.search)
	rename := func(id int64, name string) {
		t.Helper()
		if _, err := d.write.ExecContext(ctx, "UPDATE applicants SET display_name = ? WHERE id = ?", name, id); err != nil {
			t.Fatal(err)
		}
	}
	rename(1, "Probe Zanzibar")
	if err := d.finishBulkSeedSearch(ctx, pendingBulkSeed(t, d), searchTables, run.search); err != nil {
		t.Fatal(err)
	}
	if n := searchCount(t, d, "zanzibar"); n != 0 {
		t.Error("the finish built the search index from the tables instead of swapping in the seed's own")
	}
	// The finish dies before its last transaction.
	run.search.close()
	run.lock.unlock()
	rename(2, "Probe Xylophone")
	d.Close()
	d, err = open(Options{FinishBulkSeed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n := searchCount(t, d, "xylophone"); n != 0 {
		t.Error("a finish after the swap built the search index again")
	}
	checkSearchFindsEvery(t, d, "Okafor")
}

// TestOlderBinaryDoesNotFinishWithoutSearch: a binary from before the
// aside search index finishes a stopped seed by the recorded derivation
// alone (it knows nothing of search_aside), which would leave the seeded
// applicants unsearchable; the recorded guard makes it fail instead, with
// the seed still pending, until a binary that builds the index finishes.
func TestOlderBinaryDoesNotFinishWithoutSearch(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	run, _ := startBulkSeedBatch(t, d, SeedOptions{N: 500, Seed: 7})
	run.die(t)
	setAside := func(q string) {
		t.Helper()
		if _, err := d.write.ExecContext(ctx, "UPDATE settings SET value = "+q+" WHERE key = ?", bulkSeedPending); err != nil {
			t.Fatal(err)
		}
	}
	setAside("json_remove(value, '$.search_aside')") // as the older binary reads it
	if _, err := d.finishBulkSeed(ctx, nil); err == nil || !strings.Contains(err.Error(), "run its seed --finish") {
		t.Fatalf("an older binary's finish: %v, want the guard's error", err)
	}
	var pending int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", bulkSeedPending).Scan(&pending); err != nil || pending != 1 {
		t.Fatalf("after the refused finish the seed is pending %d times (%v), want once", pending, err)
	}
	setAside("json_set(value, '$.search_aside', json('true'))")
	if finished, err := d.finishBulkSeed(ctx, nil); err != nil || !finished {
		t.Fatalf("finish = %v, %v", finished, err)
	}
	checkSearchFindsEvery(t, d, "Okafor")
	var marker int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", bulkSeedSearchSwapped).Scan(&marker); err != nil || marker != 0 {
		t.Errorf("the swap's marker is left behind (%d, %v)", marker, err)
	}
}

// TestFinishRunsTheRecordedDerivation: a stopped bulk seed is finished
// with the derivation SQL recorded when it started, which fits the schema
// it ran on, not with this binary's (Open finishes before it migrates).
func TestFinishRunsTheRecordedDerivation(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	run, err := d.startBulkSeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer run.lock.unlock()
	recorded := `INSERT INTO settings(key, value) VALUES ('test.derivation', 'recorded')`
	if _, err := d.write.ExecContext(ctx, `UPDATE settings SET value = json_set(value, '$.derived', json_array(?)) WHERE key = ?`, recorded, bulkSeedPending); err != nil {
		t.Fatal(err)
	}
	if finished, err := d.finishBulkSeed(ctx, run.search); err != nil || !finished {
		t.Fatalf("finish = %v, %v", finished, err)
	}
	var ran string
	if err := d.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'test.derivation'").Scan(&ran); err != nil || ran != "recorded" {
		t.Errorf("the recorded derivation did not run: %q, %v", ran, err)
	}
}

// schemaDefs lists the store's indexes and triggers with their SQL.
func schemaDefs(t *testing.T, d *DB) []string {
	t.Helper()
	rows, err := d.read.QueryContext(context.Background(), "SELECT type || ' ' || name || ': ' || sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name, type")
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

// derivedTables reads what the statistics and review-queue triggers keep.
func derivedTables(t *testing.T, d *DB) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for name, q := range map[string]string{
		"stats_applicant_status":    "SELECT status || '=' || n FROM stats_applicant_status ORDER BY 1",
		"stats_provider_status":     "SELECT provider || '/' || status || '=' || n FROM stats_provider_status ORDER BY 1",
		"stats_verification_status": "SELECT provider || '/' || status || '=' || n FROM stats_verification_status ORDER BY 1",
		"stats_decisions":           "SELECT day || '/' || provider || '/' || bucket || '=' || approved || ',' || rejected FROM stats_decisions ORDER BY 1",
		"stats_queue":               "SELECT provider || '/' || state || '=' || n FROM stats_queue ORDER BY 1",
		"review_queue":              "SELECT verification_id || '/' || applicant_id || '/' || provider || '/' || provider_status || '/' || since || '/' || state || '/' || COALESCE(assignee_id, '-') FROM review_queue ORDER BY 1",
	} {
		rows, err := d.read.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got[name] = append(got[name], s)
		}
		rows.Close()
	}
	return got
}

// TestSeedMovesAroundOtherWriters: a small seed beside a server (which
// adds applicants and verifications of its own meanwhile) moves its batch
// up to the next free ids, with data keys wrapped for the new ids; a bulk
// seed refuses instead.
func TestSeedMovesAroundOtherWriters(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	opt := SeedOptions{N: 40, WithPII: true, Seed: 9}
	b := newSeedGenerator(d, opt, seedBase{}).batch(0, opt.N) // numbered from 1
	other, err := d.CreateApplicant(ctx, NewApplicant{Name: "Finn Berg"}, AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.write.ExecContext(ctx, `INSERT INTO verifications(applicant_id, provider, reference, status, provider_status, token, token_expires_at, created_at, updated_at)
		VALUES (?, 'idfy', 'id-other', 'invited', 'capture_pending', ?, 0, 0, 0)`, other.ID, NewToken()); err != nil {
		t.Fatal(err)
	}
	write := func(bulk bool) error {
		return d.inTx(ctx, func(tx *sql.Tx) error { return d.writeSeedBatch(ctx, tx, newSeedInserter(d.write), b, bulk) })
	}
	if err := write(true); err == nil {
		t.Fatal("a bulk (not movable) batch was written over another writer's ids")
	}
	if err := write(false); err != nil {
		t.Fatalf("a movable batch beside another writer: %v", err)
	}
	var applicants, mismatched int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM applicants WHERE id > ?", other.ID).Scan(&applicants)
	d.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM verifications v LEFT JOIN applicants a ON a.id = v.applicant_id WHERE a.id IS NULL)
		+ (SELECT count(*) FROM verification_events e JOIN verifications v ON v.id = e.verification_id WHERE e.applicant_id != v.applicant_id)
		+ (SELECT count(*) FROM provider_links l LEFT JOIN applicants a ON a.id = l.applicant_id WHERE a.id IS NULL)`).Scan(&mismatched)
	// The timelines follow the moved verifications: each has its own, the
	// other writer's has none.
	var otherEvents, withoutTimeline int
	d.read.QueryRowContext(ctx, "SELECT count(*) FROM verification_events WHERE verification_id = (SELECT id FROM verifications WHERE reference = 'id-other')").Scan(&otherEvents)
	d.read.QueryRowContext(ctx, `SELECT count(*) FROM verifications v WHERE v.reference != 'id-other'
		AND NOT EXISTS (SELECT 1 FROM verification_events e WHERE e.verification_id = v.id)`).Scan(&withoutTimeline)
	if otherEvents != 0 || withoutTimeline != 0 {
		t.Errorf("the other writer's verification got %d seeded events; %d moved verifications have no timeline", otherEvents, withoutTimeline)
	}
	if applicants != opt.N || mismatched != 0 {
		t.Errorf("%d seeded applicants after the other writer's (want %d), %d rows pointing at the wrong applicant or verification", applicants, opt.N, mismatched)
	}
	first, err := d.Applicant(ctx, other.ID+1)
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := d.Attributes(ctx, first.ID)
	if err != nil {
		t.Fatalf("personal data of a moved applicant: %v", err)
	}
	var name string
	for _, a := range attrs {
		if a.Meaning == "full_name" {
			name = a.Value
		}
	}
	if name == "" || name != first.Name {
		t.Errorf("moved applicant %d: full name %q decrypts, display name %q", first.ID, name, first.Name)
	}
}

// TestSeedHistoriesAreKeyed: seedTimelineSQL finds a verification's
// status history by its provider, normalised status and current provider
// status, so no two histories of a provider may share those.
func TestSeedHistoriesAreKeyed(t *testing.T) {
	for provider, hists := range seedCatalogue {
		seen := map[[2]string]bool{}
		for _, h := range hists {
			key := [2]string{h.status, h.path[len(h.path)-1]}
			if seen[key] {
				t.Errorf("%s: two histories end in %s as %s", provider, key[1], key[0])
			}
			seen[key] = true
		}
	}
}

// TestSeedTimelines checks every seeded verification's timeline against
// its history in seedCatalogue: one event per step in order, from the
// staff member's invitation to the current status, within the
// verification's life.
func TestSeedTimelines(t *testing.T) {
	ctx := context.Background()
	for _, bulk := range []bool{false, true} {
		d := openTest(t, t0)
		// Three batches: the steps table is made by the first and
		// reused by the others.
		if err := d.Seed(ctx, SeedOptions{N: 500, Seed: 5, bulk: bulk, batch: 200}); err != nil {
			t.Fatal(err)
		}
		var steps int
		if err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM temp.sqlite_schema WHERE name = 'seed_steps'").Scan(&steps); err != nil || steps != 0 {
			t.Errorf("bulk %v: the seed left its steps table behind (%d, %v)", bulk, steps, err)
		}
		paths := map[[3]string][]string{}
		for provider, hists := range seedCatalogue {
			for _, h := range hists {
				paths[[3]string{provider, h.status, h.path[len(h.path)-1]}] = h.path
			}
		}
		rows, err := d.read.QueryContext(ctx, `SELECT v.id, v.applicant_id, v.provider, v.status, v.provider_status, v.created_at, v.updated_at,
			e.applicant_id, e.provider, e.source, e.status, e.provider_status, e.at
			FROM verifications v LEFT JOIN verification_events e ON e.verification_id = v.id ORDER BY v.id, e.id`)
		if err != nil {
			t.Fatal(err)
		}
		type event struct {
			applicant                    int64
			provider, source, status, ps string
			at                           int64
		}
		type verification struct {
			applicant                 int64
			provider, status, current string
			created, updated          int64
			events                    []event
		}
		var vers []*verification
		var lastID int64
		for rows.Next() {
			var v verification
			var id int64
			var e event
			var eApplicant sql.NullInt64
			if err := rows.Scan(&id, &v.applicant, &v.provider, &v.status, &v.current, &v.created, &v.updated,
				&eApplicant, &e.provider, &e.source, &e.status, &e.ps, &e.at); err != nil {
				t.Fatal(err)
			}
			e.applicant = eApplicant.Int64
			if id != lastID {
				vers = append(vers, &v)
				lastID = id
			}
			last := vers[len(vers)-1]
			last.events = append(last.events, e)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(vers) != 500 {
			t.Fatalf("bulk %v: %d verifications, want 500", bulk, len(vers))
		}
		for _, v := range vers {
			path := paths[[3]string{v.provider, v.status, v.current}]
			if len(path) == 0 || len(v.events) != len(path) {
				t.Fatalf("bulk %v: %s %s/%s: %d events, history %v", bulk, v.provider, v.status, v.current, len(v.events), path)
			}
			for j, e := range v.events {
				source, status := seedSources[v.provider], ""
				if j == 0 {
					source = "staff"
				}
				if j == len(path)-1 {
					status = v.status
				}
				// Evenly spaced from the creation, as Go's integer division spaces them.
				at := v.created + int64(j)*((v.updated-v.created)/int64(len(path)))
				if e.applicant != v.applicant || e.provider != v.provider || e.source != source || e.status != status || e.ps != path[j] || e.at != at {
					t.Fatalf("bulk %v: %s %s/%s: event %d is %+v, want %s %q %s at %d", bulk, v.provider, v.status, v.current, j, e, source, status, path[j], at)
				}
			}
		}
	}
}

// TestChecksAreBackAfterABulkBatch: a bulk seed's batch runs without
// foreign key and CHECK constraint checks, and the write connection has
// them again afterwards, whether the batch committed or failed.
func TestChecksAreBackAfterABulkBatch(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t0)
	pragma := func(q querier, name string) string {
		t.Helper()
		var v string
		if err := q.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, fail := range []bool{false, true} {
		during := map[string]string{}
		err := d.inTxWithoutChecks(ctx, func(tx *sql.Tx) error {
			for _, p := range bulkBatchPragmas {
				during[p.name] = pragma(tx, p.name)
			}
			if fail {
				return errors.New("batch failed")
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatalf("fail %v: %v", fail, err)
		}
		for name, want := range map[string][2]string{"foreign_keys": {"0", "1"}, "ignore_check_constraints": {"1", "0"}} {
			if during[name] != want[0] {
				t.Errorf("fail %v: %s = %s during the batch, want %s", fail, name, during[name], want[0])
			}
			if after := pragma(d.write, name); after != want[1] {
				t.Errorf("fail %v: %s = %s on the write connection afterwards, want %s", fail, name, after, want[1])
			}
		}
	}
	// And enforced again: an event of a verification that does not exist,
	// and one from a source there is not.
	if _, err := d.write.ExecContext(ctx, "INSERT INTO verification_events(applicant_id, verification_id, source, at) VALUES (999, 999, 'system', 0)"); err == nil {
		t.Error("an event of a missing applicant and verification went in after a bulk batch")
	}
	if err := d.Seed(ctx, SeedOptions{N: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := d.write.ExecContext(ctx, `INSERT INTO verification_events(applicant_id, verification_id, source, at)
		SELECT applicant_id, id, 'carrier pigeon', 0 FROM verifications LIMIT 1`)
	if err == nil || !strings.Contains(err.Error(), "CHECK constraint failed") {
		t.Errorf("an event from an unknown source after a bulk batch: %v, want a failed CHECK constraint", err)
	}
}
