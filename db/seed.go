package db

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	mbits "math/bits"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SeedOptions configure Seed.
type SeedOptions struct {
	N int
	// WithPII stores a few encrypted attributes per applicant (the demo data
	// set). Large benchmark seeds leave it off: they exercise the list, not
	// the vault.
	WithPII bool
	// Seed makes the data set reproducible.
	Seed uint64
	// Progress, if set, is called after each committed batch.
	Progress func(done int)
	// bulk forces the bulk path below bulkSeed (tests).
	bulk bool
	// batch is the applicants per transaction (tests; seedBatchSize if 0).
	batch int
}

// seedBatchSize is a seed's applicants per transaction.
const seedBatchSize = 10000

// seedStatus is one provider status a synthetic verification can be in,
// with its normalised status and the verbatim statuses that led to it.
type seedStatus struct {
	status string
	path   []string // provider statuses in order, the last one current
}

// seedCatalogue lists, per provider, realistic status histories (provider
// status strings as each provider spells them).
var seedCatalogue = map[string][]seedStatus{
	"blockpass": {
		{"invited", []string{"incomplete"}},
		{"in_progress", []string{"incomplete", "waiting"}},
		{"needs_review", []string{"incomplete", "waiting", "inreview"}},
		{"approved", []string{"incomplete", "waiting", "inreview", "approved"}},
		{"rejected", []string{"incomplete", "waiting", "inreview", "rejected"}},
		{"rejected", []string{"incomplete", "waiting", "inreview", "review_requested"}},
		{"blocked", []string{"incomplete", "waiting", "inreview", "blocked"}},
	},
	"corepass": {
		{"invited", []string{"PENDING"}},
		{"in_progress", []string{"PENDING", "ACCEPTED", "INITIATE_SUBMITTED", "INITIATED", "KYC_RECEIVED", "VALIDITY_CHECK"}},
		{"needs_review", []string{"PENDING", "ACCEPTED", "INITIATE_SUBMITTED", "INITIATED", "KYC_RECEIVED", "VALIDITY_CHECK", "VALIDITY_SUCCEED", "CONFIRM_SUBMITTED", "CONFIRMED", "CALLBACK_SUCCEED", "FINISH_SUCCESS"}},
		{"failed", []string{"PENDING", "ACCEPTED", "INITIATE_SUBMITTED", "INITIATED", "KYC_RECEIVED", "VALIDITY_CHECK", "VALIDITY_FAILED"}},
		{"expired", []string{"PENDING"}},
		{"approved", []string{"PENDING", "ACCEPTED", "INITIATE_SUBMITTED", "INITIATED", "KYC_RECEIVED", "VALIDITY_CHECK", "VALIDITY_SUCCEED", "CONFIRM_SUBMITTED", "CONFIRMED", "CALLBACK_SUCCEED", "FINISH_SUCCESS"}},
	},
	"verifyyou": {
		{"invited", []string{"registered"}},
		{"approved", []string{"registered", "connection_verified"}},
		{"withdrawn", []string{"registered", "connection_verified", "connection_deleted"}},
		{"rejected", []string{"registered", "connection_verified", "deverification"}},
	},
	"selfkey": {
		{"needs_review", []string{"IN_PROGRESS"}},
		{"approved", []string{"IN_PROGRESS", "APPROVED"}},
		{"rejected", []string{"IN_PROGRESS", "REJECTED"}},
		{"in_progress", []string{"IN_PROGRESS", "ADDITIONAL_REQUESTED"}},
	},
	"idfy": {
		{"invited", []string{"capture_pending"}},
		{"in_progress", []string{"capture_pending", "in_progress"}},
		{"needs_review", []string{"capture_pending", "in_progress", "completed"}},
		{"approved", []string{"capture_pending", "in_progress", "completed", "completed/approved"}},
		{"rejected", []string{"capture_pending", "in_progress", "completed", "completed/rejected"}},
	},
}

var seedProviders = []string{"blockpass", "corepass", "verifyyou", "selfkey", "idfy"}

var (
	givenNames = []string{"Amara", "Lukas", "Sofia", "Mateo", "Ingrid", "Kenji", "Priya", "Olu", "Chloé", "Björn", "Fatima", "Diego",
		"Hannah", "Tariq", "Mei", "Jonas", "Aisha", "Pavel", "Lucía", "Noah", "Zanele", "Emre", "Anika", "Rafael", "Yara", "Tomasz",
		"Leila", "Hugo", "Nadia", "Kwame", "Elif", "Marco", "Sven", "Ana", "Ravi", "Greta", "Omar", "Isabel", "Finn", "Akosua"}
	familyNames = []string{"Okafor", "Müller", "Rossi", "García", "Lindqvist", "Tanaka", "Sharma", "Adeyemi", "Dubois", "Eriksson",
		"Haddad", "Fernández", "Schmidt", "Rahman", "Chen", "Novak", "Hassan", "Ivanov", "Moreno", "Williams", "Dlamini", "Yılmaz",
		"Kowalski", "Silva", "Nakamura", "Petrov", "Mensah", "Bianchi", "Jansen", "O'Brien", "Kaya", "Costa", "Berg", "Nowak"}
	mailHosts = []string{"example.com", "mail.example.org", "example.net", "post.example.de", "example.co.uk"}
)

// seedApplicant builds the i-th synthetic applicant deterministically.
type seedApplicant struct {
	name, email, ref string
	token            string
	provider         string
	hist             seedStatus
	created, updated int64
}

// Seed inserts synthetic but realistic applicants across the five
// providers and all their statuses, each with a verification and its
// timeline, in large batches (one transaction per batch). One goroutine
// makes the rows (names, keys, wrapped data keys) while the caller's
// writes the previous batch, so the store's single writer never waits for
// the generator.
func (d *DB) Seed(ctx context.Context, opt SeedOptions) (err error) {
	if d.kek == nil && opt.WithPII {
		return fmt.Errorf("db: seed: no data key configured")
	}
	if opt.N <= 0 {
		return nil
	}
	var base seedBase
	var run *bulkSeedRun
	if opt.N >= bulkSeed || opt.bulk {
		if run, err = d.startBulkSeed(ctx); err != nil {
			return err
		}
		base = run.base
		defer func() {
			if ferr := run.finish(ctx, err == nil); ferr != nil && err == nil {
				err = ferr
			}
		}()
	} else if base, err = readSeedBase(ctx, d.write); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	batches := make(chan seedBatch, 1)
	generated := make(chan struct{})
	defer func() { // the generator stops before Seed returns
		cancel()
		for range batches {
		}
		<-generated
	}()
	go func() {
		defer close(generated)
		defer close(batches)
		g := newSeedGenerator(d, opt, base)
		batchSize := cmp.Or(opt.batch, seedBatchSize)
		for done := 0; done < opt.N && ctx.Err() == nil; done += batchSize {
			b := g.batch(done, min(batchSize, opt.N-done))
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	ins := newSeedInserter(d.write)
	defer ins.close()
	defer d.write.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.seed_steps")
	bulk, inTx := run != nil, d.inTx
	if bulk {
		inTx = d.inTxWithoutChecks
	}
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		if err := ins.prepare(ctx, b.tables(bulk)); err != nil {
			return err
		}
		if err := inTx(ctx, func(tx *sql.Tx) error { return d.writeSeedBatch(ctx, tx, ins, b, bulk) }); err != nil {
			return err
		}
		if bulk {
			run.search.add(b.search)
		}
		if opt.Progress != nil {
			opt.Progress(b.offset + len(b.apps))
		}
	}
	return ctx.Err()
}

// pragmaSetting is a connection setting and the value a step of the seed
// gives it while it runs (withPragmas).
type pragmaSetting struct{ name, value string }

// bulkBatchPragmas are the checks a bulk seed's batches go without, each
// for a batch's transaction only.
//   - Foreign keys: checking them was two table lookups for every
//     timeline event and one for every other row, about a fifth of the
//     writer's work at a million applicants. A batch's rows refer only to
//     applicants and verifications of the same batch, by ids the batch
//     checks are the store's next (writeSeedBatch), and neither is ever
//     deleted, so there is nothing for the checks to find; the tests check
//     the seeded store with PRAGMA foreign_key_check.
//   - CHECK constraints: SQLite evaluates a CHECK of the form
//     x IN ('a', 'b', …) by building a temporary B-tree of the list for
//     every row, and the timeline events and provider links have one each
//     (source, provider); at 1M applicants that was 4.2M small B-trees.
//     The seed's values come from its catalogue; the tests check the
//     seeded store with PRAGMA integrity_check, which checks CHECK
//     constraints.
var bulkBatchPragmas = []pragmaSetting{
	{"foreign_keys", "OFF"},
	{"ignore_check_constraints", "ON"},
}

// seedGCPercent is the garbage collector's target while a process seeds.
// A seed allocates its rows fast and keeps few alive (the batches in
// flight), so at Go's default (100) the collector ran every few batches,
// on the cores the writer, the search index and the generator share. At
// 1M applicants (`kycdesk seed`) the generator was busy 4.5–6.3 s instead
// of 8.4–8.7 s; the peak RSS rose from 0.36 to 0.50–0.53 GB.
const seedGCPercent = 400

// SeedGC sets the process's garbage collector target for seeding, unless
// the operator set GOGC, and returns what puts it back. It is for the
// commands that seed; a server seeding its small demo set needs none.
func SeedGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	was := debug.SetGCPercent(seedGCPercent)
	return func() { debug.SetGCPercent(was) }
}

// inTxWithoutChecks runs fn in a transaction on the write connection
// with bulkBatchPragmas' checks off for that transaction only, for a
// bulk seed's batches.
func (d *DB) inTxWithoutChecks(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return d.withPragmas(ctx, bulkBatchPragmas, func(conn *sql.Conn) error { return inTxOn(ctx, conn, fn) })
}

// withPragmas runs fn on the write connection, pinned for it, with
// pragmas set, and puts each back as it was before the connection
// returns to the pool. What it puts back is read back, not trusted:
// inside a transaction (one a cancelled context's rollback has not ended
// yet) SQLite ignores a pragma without an error. A connection that cannot
// say its settings are back is thrown away instead.
func (d *DB) withPragmas(ctx context.Context, pragmas []pragmaSetting, fn func(conn *sql.Conn) error) (err error) {
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: seed: %w", err)
	}
	defer conn.Close()
	was := make([]string, len(pragmas))
	for i, p := range pragmas {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&was[i]); err != nil {
			return fmt.Errorf("db: seed: %s: %w", p.name, err)
		}
	}
	defer func() {
		ctx := context.WithoutCancel(ctx)
		var perr error
		for i, p := range pragmas {
			var now string
			if _, perr = conn.ExecContext(ctx, "PRAGMA "+p.name+" = "+was[i]); perr == nil {
				perr = conn.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&now)
			}
			if perr == nil && now != was[i] {
				perr = fmt.Errorf("%s still %s", p.name, now)
			}
			if perr != nil {
				break
			}
		}
		if perr != nil {
			discardConn(conn)
			err = errors.Join(err, fmt.Errorf("db: seed: %w", perr))
		}
	}()
	for _, p := range pragmas {
		if _, err := conn.ExecContext(ctx, "PRAGMA "+p.name+" = "+p.value); err != nil {
			return fmt.Errorf("db: seed: %s: %w", p.name, err)
		}
	}
	return fn(conn)
}

// discardConn makes the pool close conn's driver connection instead of
// taking it back, when conn is released: for a connection whose state
// (pragmas, FTS5's cached layout) cannot be trusted any more.
func discardConn(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
}

// seedBase is where a seed's ids start: the largest ids before it. The
// generator numbers rows from there; each batch checks whether anybody
// else added applicants or verifications meanwhile (writeSeedBatch).
type seedBase struct{ Applicant, Verification int64 }

func readSeedBase(ctx context.Context, q querier) (seedBase, error) {
	var b seedBase
	if err := q.QueryRowContext(ctx, "SELECT (SELECT COALESCE(max(id), 0) FROM applicants), (SELECT COALESCE(max(id), 0) FROM verifications)").
		Scan(&b.Applicant, &b.Verification); err != nil {
		return b, fmt.Errorf("db: seed: %w", err)
	}
	return b, nil
}

// bulkSeed is the size from which Seed drops the secondary indexes of the
// tables it fills and builds them again at the end: one sort per index is
// far cheaper than a million random B-tree inserts into each.
const bulkSeed = 100_000

// seededTables are the tables whose secondary indexes a bulk seed drops
// and builds again once the rows are in (but the partial ones:
// seedIndexes).
var seededTables = []string{"applicants", "provider_links", "verifications", "verification_events"}

// seedIndexes lists the indexes of table that a bulk seed drops: all but
// the partial ones. No seeded row is in a partial index (none has a
// creator, a provider's own reference or a claim;
// TestBulkSeedKeepsPartialIndexes), so keeping them costs the inserts
// nothing, while building one again meant reading its whole table (3 s of
// a 1M-applicant seed for the three on applicants and verifications).
func seedIndexes(ctx context.Context, tx *sql.Tx, table string) ([]schemaObject, error) {
	return schemaObjects(ctx, tx, "index", "tbl_name = ? AND name NOT IN (SELECT name FROM pragma_index_list(?) WHERE partial)", table, table)
}

// bulkSeedTriggers are the triggers a bulk seed drops and creates again.
// The seed writes the applicant's providers itself; the statistics and
// the review queue the others maintain row by row are brought up to date
// once, set-based, at the end (seedDerived); data_keys_not_archived
// guards against keys for archived applicants, and seeded ones are new.
// Together the triggers were about a sixth of a bulk seed's time.
var bulkSeedTriggers = []string{"applicant_providers_link_insert", "stats_applicant_insert", "stats_link_insert", "verification_insert_stats", "data_keys_not_archived"}

// seedDerived does for the rows after a seedBase, in one pass per table,
// what bulkSeedTriggers do for each inserted row (migrations 004, 014),
// and counts the review queue rows it adds as stats_queue_insert would:
// TestBulkSeedDerivesWhatTheTriggersWould keeps the two in step. The
// finish runs it as seedDerivation wraps it.
var seedDerived = []string{
	`INSERT INTO stats_applicant_status(status, n) SELECT status, count(*) FROM applicants WHERE id > :applicant GROUP BY status
		ON CONFLICT(status) DO UPDATE SET n = n + excluded.n`,
	`INSERT INTO stats_provider_status(provider, status, n) SELECT provider, status, count(*) FROM provider_links WHERE applicant_id > :applicant GROUP BY provider, status
		ON CONFLICT(provider, status) DO UPDATE SET n = n + excluded.n`,
	`INSERT INTO stats_verification_status(provider, status, n) SELECT provider, status, count(*) FROM verifications WHERE id > :verification GROUP BY provider, status
		ON CONFLICT(provider, status) DO UPDATE SET n = n + excluded.n`,
	`INSERT INTO review_queue(verification_id, applicant_id, provider, since, assignee_id, provider_status)
		SELECT v.id, v.applicant_id, v.provider, v.updated_at, a.assignee_id, v.provider_status FROM verifications v JOIN applicants a ON a.id = v.applicant_id
		WHERE v.id > :verification AND v.status = 'needs_review'`,
	`INSERT INTO stats_queue(provider, state, n) SELECT provider, state, count(*) FROM review_queue WHERE verification_id > :verification GROUP BY provider, state
		ON CONFLICT(provider, state) DO UPDATE SET n = n + excluded.n`,
	`INSERT INTO stats_decisions(day, provider, bucket, approved, rejected)
		SELECT updated_at / 86400000, provider,
			CASE WHEN d < 60000 THEN 0 WHEN d < 300000 THEN 1 WHEN d < 900000 THEN 2 WHEN d < 3600000 THEN 3
				WHEN d < 14400000 THEN 4 WHEN d < 43200000 THEN 5 WHEN d < 86400000 THEN 6 WHEN d < 172800000 THEN 7
				WHEN d < 345600000 THEN 8 WHEN d < 604800000 THEN 9 WHEN d < 1209600000 THEN 10 WHEN d < 2592000000 THEN 11
				WHEN d < 5184000000 THEN 12 WHEN d < 10368000000 THEN 13 ELSE 14 END,
			sum(status = 'approved'), sum(status = 'rejected')
		FROM (SELECT provider, status, updated_at, max(0, updated_at - created_at) AS d FROM verifications
			WHERE id > :verification AND status IN ('approved', 'rejected'))
		GROUP BY 1, 2, 3
		ON CONFLICT(day, provider, bucket) DO UPDATE SET approved = approved + excluded.approved, rejected = rejected + excluded.rejected`,
}

// seedDerivation is what a bulk seed records as its finish's derivation
// (bulkSeedState.Derived): searchSwappedGuard, then seedDerived with the
// review queue's indexes (but the partial one) and the trigger that
// counts its rows dropped before it and created again after it, all in
// the finish's last transaction. Maintained row by row, the queue's four
// indexes were most of the derivation's time at 1M applicants; the queue
// keeps them, and its count, for the seed's whole run. It is all
// recorded SQL, so any binary that finishes the seed puts them back.
func seedDerivation(queueIndexes, queueTriggers []schemaObject) []string {
	drop := slices.Concat(dropStatements("INDEX", queueIndexes), dropStatements("TRIGGER", queueTriggers))
	var create []string
	for _, o := range slices.Concat(queueIndexes, queueTriggers) {
		create = append(create, o.SQL)
	}
	return slices.Concat(searchSwappedGuard, drop, seedDerived, create)
}

// dropStatements are the statements that drop objs, of a kind (INDEX,
// TRIGGER).
func dropStatements(kind string, objs []schemaObject) []string {
	drops := make([]string, len(objs))
	for i, o := range objs {
		drops[i] = "DROP " + kind + ` "` + o.Name + `"`
	}
	return drops
}

// bulkSeedSearchSwapped is the settings key the search index's swap
// (searchAside.swapIn) writes in its transaction; the finish's last
// transaction deletes it with the pending record. A finish that finds it
// does not build the search index again.
const bulkSeedSearchSwapped = "seed.bulk_search_swapped"

// searchSwappedGuard fails the finish's last transaction unless the
// search index was swapped in. A binary from before the aside index
// would otherwise finish a stopped seed of this one without it (it knows
// nothing of SearchAside, but runs the recorded derivation), leaving the
// seeded applicants unsearchable; this way it fails, and says with what
// to finish instead. SQLite has no RAISE outside triggers; a failed CHECK
// names its constraint.
var searchSwappedGuard = []string{
	`CREATE TEMP TABLE bulk_seed_guard(swapped INTEGER
		CONSTRAINT "the search index of this bulk seed is built by the kycdesk that started it: run its seed --finish" CHECK (swapped))`,
	`INSERT INTO temp.bulk_seed_guard SELECT EXISTS (SELECT 1 FROM settings WHERE key = '` + bulkSeedSearchSwapped + `')`,
	`DROP TABLE temp.bulk_seed_guard`,
}

// bulkSeedCacheKiB is the write connection's page cache while a bulk
// seed inserts: the tables' and unique indexes' right edges stay in it
// instead of being read back (seeded keys rise). The index builds use
// indexSortPragmas' instead. Measured at 1M applicants (`kycdesk seed`):
// this cache at 512 MiB and the aside index's at 256 MiB took 90–97 s
// with a peak RSS of 1.9 GB; at 64 and 32 MiB, 83–89 s and 0.55 GB.
const bulkSeedCacheKiB = 64 * 1024

// bulkSeedSearchHash is the aside search index's in-memory term buffer
// (FTS5 "hashsize", 1 MiB by default). Each time it fills, the index
// writes a segment; fewer, larger segments are cheaper to optimise. The
// index also writes one at the end of every statement, so the aside
// index's segments are its statements (5,000 applicants each), which the
// default would have cut into several.
const bulkSeedSearchHash = 64 << 20

// bulkSeedSearchConfig is the search index's merge and buffer settings
// while a bulk seed builds it aside, and FTS5's defaults, which the store's
// index has afterwards (seeds of earlier binaries changed the store's
// own): it stops merging its segments as it goes (automerge rewrote each
// term's postings many times over) and is optimised into one segment at
// the end.
var bulkSeedSearchConfig = []struct {
	key         string
	during, was int
}{
	{"automerge", 0, 4},
	{"crisismerge", 2000, 16},
	{"hashsize", bulkSeedSearchHash, 1 << 20},
}

// bulkSeedPending is the settings key under which a bulk seed keeps, from
// the moment it drops anything until all is back, what it dropped and
// where its rows start. A seed that dies (killed, out of memory, power)
// leaves it behind with the store lacking indexes and triggers, the
// archive guard among them; Open then refuses the store until
// Options.FinishBulkSeed finishes the seed's work.
const bulkSeedPending = "seed.bulk_pending"

// ErrBulkSeedPending: the store is in the middle of a bulk seed that was
// stopped (or, where there is no flock, may be running; where there is,
// a running one is ErrBulkSeedRunning).
var ErrBulkSeedPending = errors.New("db: a bulk seed is running or was interrupted: the store lacks indexes and triggers until it finishes")

// bulkSeedState is the value under bulkSeedPending.
// It carries the SQL of the binary that started the seed, which fits the
// schema the seed ran on: a later binary may finish it before its own
// migrations run.
type bulkSeedState struct {
	Base     seedBase       `json:"base"`
	Indexes  []schemaObject `json:"indexes"`
	Triggers []schemaObject `json:"triggers"`
	// Derived runs first in the finish's last transaction, with the base
	// as :applicant and :verification (seedDerivation).
	Derived []string `json:"derived"`
	// SearchAside: the seed leaves the search index alone and builds a
	// new one aside (seed_search.go). Seeds of binaries before it wrote
	// into the store's, which the finish then optimises.
	SearchAside bool `json:"search_aside,omitempty"`
}

// bulkSeedRun is a bulk seed under way.
type bulkSeedRun struct {
	d      *DB
	base   seedBase
	search *searchAside
	lock   *seedLock // held until the finish has ended (seedlock.go)
}

// finish puts the store back (finishBulkSeed); it must run however the
// seed ends. The search index built aside is used only if the seed ran to
// its end: one that stopped on an error may have stopped because of
// another writer, whose search rows only the store's index has.
func (r *bulkSeedRun) finish(ctx context.Context, complete bool) error {
	defer r.lock.unlock()
	search := r.search
	if !complete && search != nil {
		search.close()
		search = nil
	}
	_, err := r.d.finishBulkSeed(ctx, search)
	return err
}

// schemaObject is a named index or trigger and the SQL that creates it.
type schemaObject struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// startBulkSeed readies the store for a bulk seed, in one transaction
// with the bulkSeedPending record, and returns the run, whose finish
// puts it back (finishBulkSeed) and must run whatever happens:
//   - the named secondary indexes of the seeded tables, but the partial
//     ones, are dropped and built again at the end; unique constraints'
//     automatic indexes stay (they are part of the tables);
//   - bulkSeedTriggers are dropped; at the end what they would have done
//     for the seeded rows is done set-based (seedDerivation) and they are
//     created again;
//   - the search index is built aside and swapped in at the end;
//   - the write connection gets a larger page cache.
func (d *DB) startBulkSeed(ctx context.Context) (*bulkSeedRun, error) {
	lock, err := lockSeed(d.path)
	if err != nil {
		return nil, err
	}
	st := bulkSeedState{SearchAside: true}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		// The base is read in the transaction that drops the triggers: a
		// row another writer adds before it is counted by the triggers,
		// one after it by the derivation, none by both.
		var err error
		if st.Base, err = readSeedBase(ctx, tx); err != nil {
			return err
		}
		for _, table := range seededTables {
			objs, err := seedIndexes(ctx, tx, table)
			if err != nil {
				return err
			}
			st.Indexes = append(st.Indexes, objs...)
		}
		queueIndexes, err := seedIndexes(ctx, tx, "review_queue")
		if err != nil {
			return err
		}
		queueTriggers, err := schemaObjects(ctx, tx, "trigger", "name = 'stats_queue_insert'")
		if err != nil {
			return err
		}
		st.Derived = seedDerivation(queueIndexes, queueTriggers)
		for _, name := range bulkSeedTriggers {
			objs, err := schemaObjects(ctx, tx, "trigger", "name = ?", name)
			if err != nil {
				return err
			}
			st.Triggers = append(st.Triggers, objs...)
		}
		value, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("db: seed: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO settings(key, value) VALUES (?, ?)", bulkSeedPending, string(value)); err != nil {
			return fmt.Errorf("db: seed: %w (is another bulk seed running?)", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM settings WHERE key = ?", bulkSeedSearchSwapped); err != nil {
			return fmt.Errorf("db: seed: %w", err)
		}
		for _, q := range slices.Concat(dropStatements("INDEX", st.Indexes), dropStatements("TRIGGER", st.Triggers)) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("db: seed: %s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		lock.unlock()
		return nil, err
	}
	run := &bulkSeedRun{d: d, base: st.Base, lock: lock}
	if run.search, err = d.buildSearchAside(ctx, st.Base.Applicant); err != nil {
		return nil, errors.Join(err, run.finish(ctx, false))
	}
	if _, err := d.write.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size(-%d)", bulkSeedCacheKiB)); err != nil {
		return nil, errors.Join(fmt.Errorf("db: seed: %w", err), run.finish(ctx, false))
	}
	return run, nil
}

// FinishedBulkSeed reports whether Open finished a stopped bulk seed
// (Options.FinishBulkSeed).
func (d *DB) FinishedBulkSeed() bool { return d.finishedBulkSeed }

// bulkSeedAtOpen refuses a store with a pending bulk seed, or finishes
// the seed if told to and says so, unless the seed is still running
// (ErrBulkSeedRunning). A store without the settings table (new, or
// before migration 001) has none.
func (d *DB) bulkSeedAtOpen(ctx context.Context, finish bool) (bool, error) {
	var pending int
	err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema s, settings WHERE s.name = 'settings' AND settings.key = ?", bulkSeedPending).Scan(&pending)
	switch {
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("db: open: %w", err)
	case pending == 0:
		return false, nil
	}
	lock, err := lockSeed(d.path) // ErrBulkSeedRunning if the seed runs
	if err != nil {
		return false, err
	}
	defer lock.unlock()
	if !finish {
		return false, ErrBulkSeedPending
	}
	return d.finishBulkSeed(ctx, nil)
}

// finishBulkSeed puts back what startBulkSeed changed, if a bulk seed is
// pending: the indexes (each built on its own; one already there is
// left), the search index (the running seed's aside one, or, when there is
// none or it failed, one built aside from the tables), then in one
// transaction the recorded derivation (the statistics and review queue),
// the triggers, the search settings, and the end of the pending record,
// so the derivation happens exactly once however often this runs.
func (d *DB) finishBulkSeed(ctx context.Context, search *searchAside) (finished bool, err error) {
	ctx = context.WithoutCancel(ctx)
	if search != nil {
		// The aside index is optimised while the indexes below are built.
		search.lastAdded()
		defer search.close()
	}
	defer d.write.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size(%d)", pageCacheSize))
	var value string
	err = d.write.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", bulkSeedPending).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("db: finish bulk seed: %w", err)
	}
	var st bulkSeedState
	if err := json.Unmarshal([]byte(value), &st); err != nil {
		return false, fmt.Errorf("db: finish bulk seed: %w", err)
	}
	// The search tables the seed ran on (storeSearchTables).
	tables, err := storeSearchTables(ctx, d.write)
	if err != nil {
		return false, fmt.Errorf("db: finish bulk seed: %w", err)
	}
	if err := d.buildIndexes(ctx, st.Indexes); err != nil {
		return false, err
	}
	if err := d.finishBulkSeedSearch(ctx, st, tables, search); err != nil {
		return false, err
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range st.Derived {
			if _, err := tx.ExecContext(ctx, q, sql.Named("applicant", st.Base.Applicant), sql.Named("verification", st.Base.Verification)); err != nil {
				return fmt.Errorf("db: finish bulk seed: %w", err)
			}
		}
		for _, o := range st.Triggers {
			if _, err := tx.ExecContext(ctx, o.SQL); err != nil {
				return fmt.Errorf("db: finish bulk seed: %s: %w", o.Name, err)
			}
		}
		if err := setSearchConfig(ctx, tx, tables, false); err != nil {
			return fmt.Errorf("db: finish bulk seed: %w", err)
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM settings WHERE key IN (?, ?)", bulkSeedPending, bulkSeedSearchSwapped)
		return err
	})
	return err == nil, err
}

// indexSortPragmas let CREATE INDEX sort on worker threads: SQLite
// hands sorted runs (of about the page cache's size) to them, but only
// when its temporary files may be files and the cache is small enough
// for a million-row index to make several runs. At 1M applicants the
// index builds (then twelve) took 31 s in one thread with the bulk seed's
// cache and 20 s so. The temporary files are SQLite's own, deleted when
// opened.
var indexSortPragmas = []pragmaSetting{
	{"threads", "2"},
	{"temp_store", "FILE"},
	{"cache_size", "-16384"},
}

// buildIndexes creates those of indexes that are missing (a previous
// finish may have built some), under indexSortPragmas.
func (d *DB) buildIndexes(ctx context.Context, indexes []schemaObject) error {
	return d.withPragmas(ctx, indexSortPragmas, func(conn *sql.Conn) error {
		for _, o := range indexes {
			var n int
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?", o.Name).Scan(&n); err != nil {
				return fmt.Errorf("db: finish bulk seed: %w", err)
			}
			if n > 0 {
				continue
			}
			if _, err := conn.ExecContext(ctx, o.SQL); err != nil {
				return fmt.Errorf("db: finish bulk seed: %s: %w", o.Name, err)
			}
		}
		return nil
	})
}

// finishBulkSeedSearch brings the search index up to date after a bulk
// seed: the running seed's aside index, which the index builds before
// gave time to finish, or, when there is none or it cannot be used (its
// build failed, another connection wrote to the store), one built now
// from the tables. A seed of an earlier binary wrote into the store's
// index, which only needs optimising.
func (d *DB) finishBulkSeedSearch(ctx context.Context, st bulkSeedState, tables []searchTable, live *searchAside) error {
	if !st.SearchAside {
		if err := optimizeSearch(ctx, d.write, tables); err != nil {
			return fmt.Errorf("db: finish bulk seed: %w", err)
		}
		return nil
	}
	var swapped int // by a finish that died after it
	if err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", bulkSeedSearchSwapped).Scan(&swapped); err != nil {
		return fmt.Errorf("db: finish bulk seed: %w", err)
	}
	if swapped > 0 {
		return nil
	}
	if live != nil {
		if live.swapIn(ctx, d) == nil {
			return nil
		}
		live.close() // its file's name is the rebuild's
	}
	upTo, err := readSeedBase(ctx, d.write)
	if err != nil {
		return err
	}
	rebuilt, err := d.buildSearchAside(ctx, upTo.Applicant)
	if err != nil {
		return err
	}
	defer rebuilt.close()
	return rebuilt.swapIn(ctx, d)
}

// schemaObjects lists the named schema objects of a kind ("index",
// "trigger") that match where, with their definitions.
func schemaObjects(ctx context.Context, tx *sql.Tx, kind, where string, args ...any) ([]schemaObject, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_schema WHERE type = ? AND sql IS NOT NULL AND "+where, append([]any{kind}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("db: seed: list %ss: %w", kind, err)
	}
	defer rows.Close()
	var objs []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.Name, &o.SQL); err != nil {
			return nil, fmt.Errorf("db: seed: list %ss: %w", kind, err)
		}
		objs = append(objs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: seed: list %ss: %w", kind, err)
	}
	return objs, nil
}

// seedBatch is one transaction's rows, made by seedGenerator.
type seedBatch struct {
	offset                          int // the batch's first applicant within the seed
	apps, keys, links, vers, search [][]any
	pii                             []seedPII
	err                             error
}

type seedPII struct {
	id    int64
	attrs []AttributeInput
}

// seedTable is one multi-row INSERT target of a batch.
type seedTable struct {
	table, cols string
	rows        [][]any
}

// tables are the batch's tables; a bulk seed's search rows go to the
// index it builds aside.
func (b *seedBatch) tables(bulk bool) []seedTable {
	tables := []seedTable{
		{"applicants", "id, ref, display_name, email, status, created_at, updated_at, providers", b.apps},
		{"data_keys", "applicant_id, kek_id, wrapped, created_at", b.keys},
		{"provider_links", "applicant_id, provider, reference, external_id, status, updated_at", b.links},
		{"verifications", "id, applicant_id, provider, reference, status, provider_status, token, token_expires_at, created_at, updated_at", b.vers},
	}
	if !bulk {
		for _, t := range searchTables {
			tables = append(tables, t.batch(b.search))
		}
	}
	return tables
}

// seedGenerator makes the seed's rows. Ids are assigned here, from the
// seedBase, so every table of a batch goes in as multi-row INSERTs:
// per-statement overhead, and the search index's flush at every
// statement, dominated one-row-at-a-time seeding.
type seedGenerator struct {
	d       *DB
	rng     *rand.Rand
	now     time.Time
	base    seedBase
	total   int
	withPII bool
}

func newSeedGenerator(d *DB, opt SeedOptions, base seedBase) *seedGenerator {
	return &seedGenerator{d: d, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)), now: d.now(), base: base, total: opt.N, withPII: opt.WithPII}
}

var seedSources = map[string]string{"blockpass": "webhook", "corepass": "callback", "verifyyou": "webhook", "selfkey": "callback", "idfy": "poll"}

// seedTimelineSQL writes the timelines of a batch's verifications (ids
// ?1 to ?2) in SQL, from the verifications just inserted: one event per
// step of the status history that the verification's provider, status and
// provider status name in seedCatalogue (TestSeedHistoriesAreKeyed),
// evenly spaced from its creation to its last update. The first step is
// the staff member's invitation, the last carries the normalised status.
// Bound from Go, the timelines were a third of a seed's parameters. The
// steps are a TEMP table (seedStepsSQL) for its primary key: joined as a
// VALUES list, each verification scanned all of them.
const seedTimelineSQL = `INSERT INTO verification_events(applicant_id, verification_id, provider, source, status, provider_status, at)
	SELECT v.applicant_id, v.id, v.provider, s.source, s.event_status, s.event_provider_status,
		v.created_at + s.step * ((v.updated_at - v.created_at) / s.steps)
	FROM verifications v CROSS JOIN temp.seed_steps s ON s.provider = v.provider AND s.status = v.status AND s.current = v.provider_status
	WHERE v.id BETWEEN ?1 AND ?2
	ORDER BY v.id, s.step`

// sqlString is s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// seedStepsSQL creates and fills seedTimelineSQL's steps on the write
// connection, if that connection has not got them yet; Seed drops them
// at its end.
var seedStepsSQL = func() []string {
	var steps []string
	for _, provider := range seedProviders {
		for _, h := range seedCatalogue[provider] {
			for j, ps := range h.path {
				source, status := seedSources[provider], ""
				if j == 0 {
					source = "staff"
				}
				if j == len(h.path)-1 {
					status = h.status
				}
				steps = append(steps, fmt.Sprintf("(%s, %s, %s, %d, %d, %s, %s, %s)",
					sqlString(provider), sqlString(h.status), sqlString(h.path[len(h.path)-1]), j, len(h.path), sqlString(source), sqlString(status), sqlString(ps)))
			}
		}
	}
	return []string{
		`CREATE TEMP TABLE IF NOT EXISTS seed_steps(provider, status, current, step, steps, source, event_status, event_provider_status,
			PRIMARY KEY (provider, status, current, step)) WITHOUT ROWID`,
		`INSERT OR IGNORE INTO temp.seed_steps VALUES ` + strings.Join(steps, ", "),
	}
}()

func (g *seedGenerator) batch(offset, n int) seedBatch {
	b := seedBatch{offset: offset}
	for i := 0; i < n; i++ {
		a := makeSeedApplicant(g.rng, g.now, offset+i, g.total)
		id, vid := g.base.Applicant+int64(offset+i)+1, g.base.Verification+int64(offset+i)+1
		reference := strings.ToLower(a.provider[:2]) + "-" + a.ref[3:]
		extID := seedExternalID(g.rng, a.provider)
		b.apps = append(b.apps, []any{id, a.ref, a.name, a.email, a.hist.status, a.created, a.updated, a.provider})
		b.search = append(b.search, []any{id, a.name, searchEmail(a.email), a.ref + " " + reference + " " + extID})
		b.links = append(b.links, []any{id, a.provider, reference, extID, a.hist.status, a.updated})
		current := a.hist.path[len(a.hist.path)-1]
		b.vers = append(b.vers, []any{vid, id, a.provider, reference, a.hist.status, current, a.token, a.created + 7*24*3600*1000, a.created, a.updated})
		if g.d.kek != nil {
			wrapped, err := g.d.kek.Wrap(id, newDataKeyBytes())
			if err != nil {
				b.err = fmt.Errorf("db: seed: %w", err)
				return b
			}
			b.keys = append(b.keys, []any{id, g.d.kek.ID(), wrapped, a.created})
		}
		if g.withPII {
			rng := g.rng
			dob := time.Date(1950+rng.IntN(55), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
			b.pii = append(b.pii, seedPII{id, []AttributeInput{
				{Provider: a.provider, Meaning: "full_name", Name: "full_name", Value: a.name},
				{Provider: a.provider, Meaning: "email", Name: "email", Value: a.email},
				{Provider: a.provider, Meaning: "date_of_birth", Name: "date_of_birth", Value: dob},
				{Provider: a.provider, Meaning: "document_number", Name: "document_number", Value: fmt.Sprintf("P%08d", rng.IntN(1e8))},
			}})
		}
	}
	return b
}

// writeSeedBatch writes one batch in tx. The generator numbered its rows
// from the seedBase; if others have added applicants or verifications
// since (a server beside a small seed: the sandbox's Blockpass sync adds
// applicants), the batch moves up to the store's next ids. A bulk seed's
// does not: the statistics it derives at the end count every row after
// its base as its own. Its search rows are left to the caller (for the
// index built aside).
func (d *DB) writeSeedBatch(ctx context.Context, tx *sql.Tx, ins *seedInserter, b seedBatch, bulk bool) error {
	now, err := readSeedBase(ctx, tx)
	if err != nil {
		return err
	}
	if byA, byV := now.Applicant-(b.apps[0][0].(int64)-1), now.Verification-(b.vers[0][0].(int64)-1); byA != 0 || byV != 0 {
		if bulk {
			return fmt.Errorf("db: seed: applicants or verifications were added while bulk seeding; a bulk seed needs the store to itself")
		}
		if err := b.renumber(d, byA, byV); err != nil {
			return err
		}
	}
	for _, t := range b.tables(bulk) {
		if err := ins.insert(ctx, tx, t); err != nil {
			return err
		}
	}
	for _, q := range seedStepsSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("db: seed timelines: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, seedTimelineSQL, b.vers[0][0], b.vers[len(b.vers)-1][0]); err != nil {
		return fmt.Errorf("db: seed timelines: %w", err)
	}
	for _, p := range b.pii {
		if err := d.putPII(ctx, tx, p.id, p.attrs, nil); err != nil {
			return err
		}
	}
	return nil
}

// renumber moves a batch's applicants up by byA ids and its
// verifications by byV. Data keys are wrapped for their applicant's id,
// so each gets a new key wrapped for the new one (nothing is sealed with
// it yet).
func (b *seedBatch) renumber(d *DB, byA, byV int64) error {
	add := func(r []any, i int, by int64) { r[i] = r[i].(int64) + by }
	for _, r := range b.apps {
		add(r, 0, byA)
	}
	for _, r := range b.links {
		add(r, 0, byA)
	}
	for _, r := range b.search {
		add(r, 0, byA)
	}
	for _, r := range b.vers {
		add(r, 0, byV)
		add(r, 1, byA)
	}
	for _, r := range b.keys {
		add(r, 0, byA)
		wrapped, err := d.kek.Wrap(r[0].(int64), newDataKeyBytes())
		if err != nil {
			return fmt.Errorf("db: seed: %w", err)
		}
		r[2] = wrapped
	}
	for i := range b.pii {
		b.pii[i].id += byA
	}
	return nil
}

// How many bound parameters a seed's multi-row INSERT takes at most.
// The search index flushes its pending terms at the end of every
// statement, so its statements are as large as SQLite's limit (32766)
// allows. The store's tables take smaller ones: a bulk seed's batches
// switch checks off and on (bulkBatchPragmas), and setting such a pragma
// expires every prepared statement of the connection, so SQLite parsed
// each statement again in every batch. At 32000 parameters that parsing
// was about a sixth of a 1M-applicant seed's time (`kycdesk seed`: 64.7
// to 58.7 s at 1000 parameters, 58.2 s at 4000, 64.4 s at 300, where
// each statement's own overhead takes over).
const (
	maxSearchVariables = 32000
	maxStoreVariables  = 4000
)

// maxVariables is the largest statement for t's table.
func (t seedTable) maxVariables() int {
	if isSearchTable(t.table) {
		return maxSearchVariables
	}
	return maxStoreVariables
}

// seedInserter writes rows with multi-row INSERT statements as large as
// the table's parameter limit allows, splitting a table's rows of a batch
// into equal chunks. Each statement shape is prepared once and kept until
// the seed ends: batches are the same size, so a table has a shape or two
// (the last batch is shorter). A bulk seed's pragmas expire them in every
// batch, after which SQLite prepares each again on its first use.
type seedInserter struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

func newSeedInserter(db *sql.DB) *seedInserter {
	return &seedInserter{db: db, stmts: map[string]*sql.Stmt{}}
}

// chunks splits t's rows into as few equal statements as its
// parameter limit allows.
func (t seedTable) chunks() []int {
	n, width := len(t.rows), len(t.rows[0])
	k := (n + t.maxVariables()/width - 1) / (t.maxVariables() / width)
	sizes := make([]int, k)
	for i := range sizes {
		sizes[i] = n / k
		if i < n%k {
			sizes[i]++
		}
	}
	return sizes
}

func seedStmtKey(table string, n int) string { return table + "/" + strconv.Itoa(n) }

// prepare readies the statements of a batch's tables not prepared yet; it runs
// between transactions, as the write pool's one connection is then free.
func (s *seedInserter) prepare(ctx context.Context, tables []seedTable) error {
	for _, t := range tables {
		if len(t.rows) == 0 {
			continue
		}
		for _, n := range t.chunks() {
			key := seedStmtKey(t.table, n)
			if s.stmts[key] != nil {
				continue
			}
			stmt, err := s.db.PrepareContext(ctx, seedInsertSQL(t, n))
			if err != nil {
				return fmt.Errorf("db: seed %s: %w", t.table, err)
			}
			s.stmts[key] = stmt
		}
	}
	return nil
}

// seedInsertSQL is the INSERT of n rows of t.
func seedInsertSQL(t seedTable, n int) string {
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.rows[0])), ", ") + ")"
	return "INSERT INTO " + t.table + "(" + t.cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(ph+", ", n), ", ")
}

func (s *seedInserter) insert(ctx context.Context, tx *sql.Tx, t seedTable) error {
	if len(t.rows) == 0 {
		return nil
	}
	rows := t.rows
	args := make([]any, 0, t.maxVariables())
	for _, n := range t.chunks() {
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		rows = rows[n:]
		key := seedStmtKey(t.table, n)
		var err error
		if stmt := s.stmts[key]; stmt != nil {
			_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
		} else { // not prepared (tests write a batch without)
			_, err = tx.ExecContext(ctx, seedInsertSQL(t, n), args...)
		}
		if err != nil {
			return fmt.Errorf("db: seed %s: %w", t.table, err)
		}
	}
	return nil
}

func (s *seedInserter) close() {
	for _, stmt := range s.stmts {
		stmt.Close()
	}
}

// seedEmailLocal spells a name as the local part of an address.
var seedEmailLocal = strings.NewReplacer("é", "e", "ö", "o", "ü", "u", "ı", "i", "'", "")

// makeSeedApplicant makes the i-th of total applicants of a seed.
func makeSeedApplicant(rng *rand.Rand, now time.Time, i, total int) seedApplicant {
	given := givenNames[rng.IntN(len(givenNames))]
	family := familyNames[rng.IntN(len(familyNames))]
	provider := seedProviders[rng.IntN(len(seedProviders))]
	hists := seedCatalogue[provider]
	// Spread over the last year, older rows more settled.
	age := time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))
	created := now.Add(-age)
	updated := created.Add(time.Duration(rng.Int64N(int64(age/2) + 1)))
	local := strings.ToLower(seedEmailLocal.Replace(given + "." + family))
	return seedApplicant{
		name:     given + " " + family,
		email:    fmt.Sprintf("%s%d@%s", local, i%997, mailHosts[rng.IntN(len(mailHosts))]),
		ref:      seedRef(i, total),
		token:    seedToken(i, total),
		provider: provider,
		hist:     hists[rng.IntN(len(hists))],
		created:  created.UnixMilli(),
		updated:  updated.UnixMilli(),
	}
}

// Seeded refs and tokens are as random as newRef's and NewToken's, but
// rise with the applicant's place in the seed: the i-th of n is drawn from
// the i-th of n equal slices of the key space. Their unique indexes (which
// a bulk seed cannot drop: they are part of the tables) are then filled at
// their right edge instead of at random places, which made a million-row
// seed slow down as those indexes outgrew the page cache.

// seedStratum draws a random value from the i-th of n equal slices of
// [0, 2^bits), bits <= 64.
func seedStratum(i, n int, bits uint) uint64 {
	slice := func(i uint64) uint64 { // i * 2^bits / n
		if bits == 64 {
			q, _ := mbits.Div64(i, 0, uint64(n))
			return q
		}
		hi, lo := mbits.Mul64(i, 1<<bits)
		q, _ := mbits.Div64(hi, lo, uint64(n))
		return q
	}
	from, to := slice(uint64(i)), ^uint64(0)>>(64-bits) // the last slice ends at the top
	if i+1 < n {
		to = slice(uint64(i + 1))
	}
	return from + rand.Uint64N(max(to-from, 1))
}

// seedRef is newRef's format: 48 random bits in an order-keeping base 32.
func seedRef(i, n int) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seedStratum(i, n, 48))
	return "KD-" + refEncoding.EncodeToString(b[2:])
}

// sortedBase64 is the URL-safe base64 alphabet in byte order, so encoded
// tokens sort as their bytes do; a token stays 43 URL-safe characters.
var sortedBase64 = base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").WithPadding(base64.NoPadding)

// seedToken is NewToken's format: 32 random bytes, the first 8 drawn from
// the applicant's slice.
func seedToken(i, n int) string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:8], seedStratum(i, n, 64))
	crand.Read(b[8:])
	return sortedBase64.EncodeToString(b[:])
}

// seedExternalID is a provider's id for an applicant, every digit random:
// ids that all began with zeros would all share a prefix, and a search
// for one by its beginning would merge them all (RefPrefixMin).
func seedExternalID(rng *rand.Rand, provider string) string {
	switch provider {
	case "blockpass":
		return fmt.Sprintf("%016x%08x", rng.Uint64(), rng.Uint32())
	case "corepass":
		return fmt.Sprintf("cb%02d%016x%016x%08x", 10+rng.IntN(89), rng.Uint64(), rng.Uint64(), rng.Uint32())
	case "verifyyou":
		return fmt.Sprintf("vy_%016x", rng.Uint64())
	case "selfkey":
		return fmt.Sprintf("did:eth:0x%016x%016x%08x", rng.Uint64(), rng.Uint64(), rng.Uint32())
	default:
		return fmt.Sprintf("%08x-%04x", rng.Uint32(), rng.Uint32()&0xffff)
	}
}
