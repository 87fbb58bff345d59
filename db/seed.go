package db

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	mbits "math/bits"
	"math/rand/v2"
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
}

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
	if err := d.write.QueryRowContext(ctx, "SELECT (SELECT COALESCE(max(id), 0) FROM applicants), (SELECT COALESCE(max(id), 0) FROM verifications)").
		Scan(&base.applicant, &base.verification); err != nil {
		return fmt.Errorf("db: seed: %w", err)
	}
	if opt.N >= bulkSeed || opt.bulk {
		finish, err := d.startBulkSeed(ctx, base)
		if err != nil {
			return err
		}
		defer func() {
			if ferr := finish(); ferr != nil && err == nil {
				err = ferr
			}
		}()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan seedBatch, 1)
	go func() {
		defer close(batches)
		g := seedGenerator{d: d, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)), now: d.now(), base: base, total: opt.N, withPII: opt.WithPII}
		const batchSize = 10000
		for done := 0; done < opt.N; done += batchSize {
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
	ins := seedInserter{db: d.write, stmts: map[string]*sql.Stmt{}}
	defer ins.close()
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		if err := ins.prepare(ctx, b.tables()); err != nil {
			return err
		}
		if err := d.inTx(ctx, func(tx *sql.Tx) error { return d.writeSeedBatch(ctx, tx, &ins, b) }); err != nil {
			return err
		}
		if opt.Progress != nil {
			opt.Progress(b.offset + b.n)
		}
	}
	return ctx.Err()
}

// seedBase is where a seed's ids start: the largest ids before it. The
// generator numbers rows from there; each batch checks nobody else added
// applicants or verifications meanwhile.
type seedBase struct{ applicant, verification int64 }

// bulkSeed is the size from which Seed drops the secondary indexes of the
// tables it fills and builds them again at the end: one sort per index is
// far cheaper than a million random B-tree inserts into each.
const bulkSeed = 100_000

// seededTables are the tables whose secondary indexes a bulk seed rebuilds.
var seededTables = []string{"applicants", "provider_links", "verifications", "verification_events"}

// bulkSeedTriggers are the triggers a bulk seed drops and creates again.
// The seed writes the applicant's providers itself; the statistics and
// the review queue the others maintain row by row are brought up to date
// once, set-based, at the end (seedDerived); data_keys_not_archived
// guards against keys for archived applicants, and seeded ones are new.
// Together the triggers were about a sixth of a bulk seed's time.
var bulkSeedTriggers = []string{"applicant_providers_link_insert", "stats_applicant_insert", "stats_link_insert", "verification_insert_stats", "data_keys_not_archived"}

// seedDerived does for the rows after a seedBase, in one pass per table,
// what bulkSeedTriggers do for each inserted row (migration 004):
// TestBulkSeedDerivesWhatTheTriggersWould keeps the two in step.
var seedDerived = []string{
	`INSERT INTO stats_applicant_status(status, n) SELECT status, count(*) FROM applicants WHERE id > :applicant GROUP BY status
		ON CONFLICT(status) DO UPDATE SET n = n + excluded.n`,
	`INSERT INTO stats_provider_status(provider, status, n) SELECT provider, status, count(*) FROM provider_links WHERE applicant_id > :applicant GROUP BY provider, status
		ON CONFLICT(provider, status) DO UPDATE SET n = n + excluded.n`,
	`INSERT INTO stats_verification_status(provider, status, n) SELECT provider, status, count(*) FROM verifications WHERE id > :verification GROUP BY provider, status
		ON CONFLICT(provider, status) DO UPDATE SET n = n + excluded.n`,
	`INSERT INTO review_queue(verification_id, applicant_id, provider, since, assignee_id)
		SELECT v.id, v.applicant_id, v.provider, v.updated_at, a.assignee_id FROM verifications v JOIN applicants a ON a.id = v.applicant_id
		WHERE v.id > :verification AND v.status = 'needs_review'`,
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

// bulkSeedCacheKiB is the write connection's page cache during a bulk
// seed: the index builds sort in it, and the search index's segments and
// the tables' right edges stay in it instead of being read back.
const bulkSeedCacheKiB = 512 * 1024

// bulkSeedSearchHash is the search index's in-memory term buffer during a
// bulk seed (FTS5 "hashsize", 1 MiB by default). Each time it fills, the
// index writes a segment; fewer, larger segments made the final optimize
// about a third faster.
const bulkSeedSearchHash = 64 << 20

// startBulkSeed readies the store for a bulk seed and returns the function
// that puts it back, which must run whatever happens:
//   - the named secondary indexes of the seeded tables are dropped and
//     built again at the end; unique constraints' automatic indexes stay
//     (they are part of the tables);
//   - the search index stops merging its segments as it goes (automerge
//     rewrote each term's postings many times over) and is optimised into
//     one segment at the end;
//   - bulkSeedTriggers are dropped, what they would have done for the
//     seeded rows is done set-based (seedDerived), and they are created
//     again;
//   - the search index collects more terms in memory before it writes them
//     out as a segment (bulkSeedSearchHash);
//   - the write connection gets a larger page cache.
func (d *DB) startBulkSeed(ctx context.Context, base seedBase) (func() error, error) {
	var (
		defs     []string
		triggers []string
		undo     []string
	)
	finish := func() error {
		ctx := context.WithoutCancel(ctx)
		var errs []error
		exec := func(q string, args ...any) {
			if _, err := d.write.ExecContext(ctx, q, args...); err != nil {
				errs = append(errs, fmt.Errorf("db: seed: finish (%s): %w", q, err))
			}
		}
		for _, q := range defs {
			exec(q)
		}
		if len(triggers) > 0 {
			for _, q := range seedDerived {
				exec(q, sql.Named("applicant", base.applicant), sql.Named("verification", base.verification))
			}
		}
		for _, q := range append(triggers, undo...) {
			exec(q)
		}
		return errors.Join(errs...)
	}
	setup := []struct{ do, undo string }{
		{fmt.Sprintf("PRAGMA cache_size(-%d)", bulkSeedCacheKiB), fmt.Sprintf("PRAGMA cache_size(%d)", pageCacheSize)},
		{"INSERT INTO applicant_search(applicant_search, rank) VALUES('automerge', 0)", "INSERT INTO applicant_search(applicant_search, rank) VALUES('automerge', 4)"},
		{"INSERT INTO applicant_search(applicant_search, rank) VALUES('crisismerge', 2000)", "INSERT INTO applicant_search(applicant_search, rank) VALUES('crisismerge', 16)"},
		{fmt.Sprintf("INSERT INTO applicant_search(applicant_search, rank) VALUES('hashsize', %d)", bulkSeedSearchHash), "INSERT INTO applicant_search(applicant_search, rank) VALUES('hashsize', 1048576)"},
	}
	for _, s := range setup {
		if _, err := d.write.ExecContext(ctx, s.do); err != nil {
			return nil, errors.Join(fmt.Errorf("db: seed: %w", err), finish())
		}
		undo = append([]string{s.undo}, undo...)
	}
	undo = append([]string{"INSERT INTO applicant_search(applicant_search) VALUES('optimize')"}, undo...)
	drop := func(kind, where string, into *[]string, args ...any) error {
		names, found, err := d.schemaObjects(ctx, kind, where, args...)
		if err != nil {
			return err
		}
		for i, name := range names {
			if _, err := d.write.ExecContext(ctx, `DROP `+strings.ToUpper(kind)+` "`+name+`"`); err != nil {
				return fmt.Errorf("db: seed: drop %s %s: %w", kind, name, err)
			}
			*into = append(*into, found[i])
		}
		return nil
	}
	for _, table := range seededTables {
		if err := drop("index", "tbl_name = ?", &defs, table); err != nil {
			return nil, errors.Join(err, finish())
		}
	}
	for _, name := range bulkSeedTriggers {
		if err := drop("trigger", "name = ?", &triggers, name); err != nil {
			return nil, errors.Join(err, finish())
		}
	}
	return finish, nil
}

// schemaObjects lists the named schema objects of a kind ("index",
// "trigger") that match where, with their definitions.
func (d *DB) schemaObjects(ctx context.Context, kind, where string, args ...any) (names, defs []string, err error) {
	rows, err := d.write.QueryContext(ctx, "SELECT name, sql FROM sqlite_schema WHERE type = ? AND sql IS NOT NULL AND "+where, append([]any{kind}, args...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("db: seed: list %ss: %w", kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, nil, fmt.Errorf("db: seed: list %ss: %w", kind, err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("db: seed: list %ss: %w", kind, err)
	}
	return names, defs, nil
}

// seedBatch is one transaction's rows, made by seedGenerator.
type seedBatch struct {
	offset, n                               int // the batch's applicants within the seed
	apps, keys, links, vers, events, search [][]any
	pii                                     []seedPII
	err                                     error
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

func (b *seedBatch) tables() []seedTable {
	return []seedTable{
		{"applicants", "id, ref, display_name, email, status, created_at, updated_at, providers", b.apps},
		{"data_keys", "applicant_id, kek_id, wrapped, created_at", b.keys},
		{"provider_links", "applicant_id, provider, reference, external_id, status, updated_at", b.links},
		{"verifications", "id, applicant_id, provider, reference, status, provider_status, token, token_expires_at, created_at, updated_at", b.vers},
		{"verification_events", "applicant_id, verification_id, provider, source, status, provider_status, at", b.events},
		{"applicant_search", "rowid, name, email, refs", b.search},
	}
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

var seedSources = map[string]string{"blockpass": "webhook", "corepass": "callback", "verifyyou": "webhook", "selfkey": "callback", "idfy": "poll"}

func (g *seedGenerator) batch(offset, n int) seedBatch {
	b := seedBatch{offset: offset, n: n}
	for i := 0; i < n; i++ {
		a := makeSeedApplicant(g.rng, g.now, offset+i, g.total)
		id, vid := g.base.applicant+int64(offset+i)+1, g.base.verification+int64(offset+i)+1
		reference := strings.ToLower(a.provider[:2]) + "-" + a.ref[3:]
		extID := seedExternalID(g.rng, a.provider)
		b.apps = append(b.apps, []any{id, a.ref, a.name, a.email, a.hist.status, a.created, a.updated, a.provider})
		b.search = append(b.search, []any{id, a.name, searchEmail(a.email), a.ref + " " + reference + " " + extID})
		b.links = append(b.links, []any{id, a.provider, reference, extID, a.hist.status, a.updated})
		current := a.hist.path[len(a.hist.path)-1]
		b.vers = append(b.vers, []any{vid, id, a.provider, reference, a.hist.status, current, a.token, a.created + 7*24*3600*1000, a.created, a.updated})
		step := (a.updated - a.created) / int64(len(a.hist.path))
		for j, ps := range a.hist.path {
			status := ""
			if j == len(a.hist.path)-1 {
				status = a.hist.status
			}
			src := seedSources[a.provider]
			if j == 0 {
				src = "staff"
			}
			b.events = append(b.events, []any{id, vid, a.provider, src, status, ps, a.created + int64(j)*step})
		}
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

// writeSeedBatch writes one batch in tx, after checking that its ids
// still follow the store's.
func (d *DB) writeSeedBatch(ctx context.Context, tx *sql.Tx, ins *seedInserter, b seedBatch) error {
	var maxA, maxV int64
	if err := tx.QueryRowContext(ctx, "SELECT (SELECT COALESCE(max(id), 0) FROM applicants), (SELECT COALESCE(max(id), 0) FROM verifications)").Scan(&maxA, &maxV); err != nil {
		return fmt.Errorf("db: seed: %w", err)
	}
	if first := b.apps[0][0].(int64); maxA != first-1 || maxV != b.vers[0][0].(int64)-1 {
		return fmt.Errorf("db: seed: applicants or verifications were added while seeding; seed a store nobody else writes to")
	}
	for _, t := range b.tables() {
		if err := ins.insert(ctx, tx, t); err != nil {
			return err
		}
	}
	for _, p := range b.pii {
		if err := d.putPII(ctx, tx, p.id, p.attrs, nil); err != nil {
			return err
		}
	}
	return nil
}

// maxSeedVariables keeps a multi-row INSERT under SQLite's limit on bound
// parameters (32766). Fewer, larger statements matter most to the search
// index, which flushes its pending terms at the end of every statement.
const maxSeedVariables = 32000

// seedInserter writes rows with multi-row INSERT statements as large as
// the parameter limit allows, splitting a table's rows of a batch into
// equal chunks: batches are the same size, so a seed prepares each
// statement shape once instead of parsing statements of tens of thousands
// of parameters for every batch (the timeline, whose length varies,
// still takes new shapes).
type seedInserter struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

// seedChunks splits n rows of a width into as few equal statements as
// the parameter limit allows.
func seedChunks(n, width int) []int {
	k := (n + maxSeedVariables/width - 1) / (maxSeedVariables / width)
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

// prepare readies the statements a batch's tables need; it runs between
// transactions, as the write pool's one connection is then free.
func (s *seedInserter) prepare(ctx context.Context, tables []seedTable) error {
	for _, t := range tables {
		if len(t.rows) == 0 {
			continue
		}
		width := len(t.rows[0])
		for _, n := range seedChunks(len(t.rows), width) {
			key := seedStmtKey(t.table, n)
			if s.stmts[key] != nil {
				continue
			}
			ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
			q := "INSERT INTO " + t.table + "(" + t.cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(ph+", ", n), ", ")
			stmt, err := s.db.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("db: seed %s: %w", t.table, err)
			}
			s.stmts[key] = stmt
		}
	}
	return nil
}

func (s *seedInserter) insert(ctx context.Context, tx *sql.Tx, t seedTable) error {
	if len(t.rows) == 0 {
		return nil
	}
	width := len(t.rows[0])
	rows := t.rows
	args := make([]any, 0, maxSeedVariables)
	for _, n := range seedChunks(len(rows), width) {
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		rows = rows[n:]
		if _, err := tx.StmtContext(ctx, s.stmts[seedStmtKey(t.table, n)]).ExecContext(ctx, args...); err != nil {
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

func seedExternalID(rng *rand.Rand, provider string) string {
	switch provider {
	case "blockpass":
		return fmt.Sprintf("%024x", rng.Uint64())
	case "corepass":
		return fmt.Sprintf("cb%02d%040x", 10+rng.IntN(89), rng.Uint64())
	case "verifyyou":
		return fmt.Sprintf("vy_%016x", rng.Uint64())
	case "selfkey":
		return fmt.Sprintf("did:eth:0x%040x", rng.Uint64())
	default:
		return fmt.Sprintf("%08x-%04x", rng.Uint32(), rng.Uint32()&0xffff)
	}
}
