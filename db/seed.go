package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
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
	provider         string
	hist             seedStatus
	created, updated int64
}

// Seed inserts synthetic but realistic applicants across the five
// providers and all their statuses, each with a verification and its
// timeline, in large batches (one transaction per batch) so a million rows
// take seconds, not minutes.
func (d *DB) Seed(ctx context.Context, opt SeedOptions) (err error) {
	if d.kek == nil && opt.WithPII {
		return fmt.Errorf("db: seed: no data key configured")
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	now := d.now()
	if opt.N >= bulkSeed || opt.bulk {
		finish, err := d.startBulkSeed(ctx)
		if err != nil {
			return err
		}
		defer func() {
			if ferr := finish(); ferr != nil && err == nil {
				err = ferr
			}
		}()
	}
	const batch = 10000
	for done := 0; done < opt.N; {
		n := min(batch, opt.N-done)
		if err := d.inTx(ctx, func(tx *sql.Tx) error { return d.seedBatch(ctx, tx, rng, now, done, n, opt.WithPII) }); err != nil {
			return err
		}
		done += n
		if opt.Progress != nil {
			opt.Progress(done)
		}
	}
	return nil
}

// bulkSeed is the size from which Seed drops the secondary indexes of the
// tables it fills and builds them again at the end: one sort per index is
// far cheaper than a million random B-tree inserts into each.
const bulkSeed = 100_000

// seededTables are the tables whose secondary indexes a bulk seed rebuilds.
var seededTables = []string{"applicants", "provider_links", "verifications", "verification_events"}

// bulkSeedTriggers are the triggers a bulk seed drops and creates again
// because it writes what they would: each new link rewrote its applicant's
// providers, which the seed inserts with the applicant.
var bulkSeedTriggers = []string{"applicant_providers_link_insert"}

// bulkSeedCacheKiB is the write connection's page cache during a bulk
// seed. The unique indexes on random keys (applicant refs, link tokens)
// are inserted into at random; once they outgrow the usual cache, every
// row costs page reads, and a million-row seed slowed down several times
// over.
const bulkSeedCacheKiB = 512 * 1024

// startBulkSeed readies the store for a bulk seed and returns the function
// that puts it back, which must run whatever happens:
//   - the named secondary indexes of the seeded tables are dropped and
//     built again at the end; unique constraints' automatic indexes stay
//     (they are part of the tables);
//   - the search index stops merging its segments as it goes (automerge
//     rewrote each term's postings many times over) and is optimised into
//     one segment at the end;
//   - bulkSeedTriggers are dropped and created again;
//   - the write connection gets a larger page cache.
func (d *DB) startBulkSeed(ctx context.Context) (func() error, error) {
	var (
		defs []string
		undo []string
	)
	finish := func() error {
		ctx := context.WithoutCancel(ctx)
		var errs []error
		for _, q := range append(defs, undo...) {
			if _, err := d.write.ExecContext(ctx, q); err != nil {
				errs = append(errs, fmt.Errorf("db: seed: finish (%s): %w", q, err))
			}
		}
		return errors.Join(errs...)
	}
	setup := []struct{ do, undo string }{
		{fmt.Sprintf("PRAGMA cache_size(-%d)", bulkSeedCacheKiB), fmt.Sprintf("PRAGMA cache_size(%d)", pageCacheSize)},
		{"INSERT INTO applicant_search(applicant_search, rank) VALUES('automerge', 0)", "INSERT INTO applicant_search(applicant_search, rank) VALUES('automerge', 4)"},
		{"INSERT INTO applicant_search(applicant_search, rank) VALUES('crisismerge', 2000)", "INSERT INTO applicant_search(applicant_search, rank) VALUES('crisismerge', 16)"},
	}
	for _, s := range setup {
		if _, err := d.write.ExecContext(ctx, s.do); err != nil {
			return nil, errors.Join(fmt.Errorf("db: seed: %w", err), finish())
		}
		undo = append([]string{s.undo}, undo...)
	}
	undo = append([]string{"INSERT INTO applicant_search(applicant_search) VALUES('optimize')"}, undo...)
	drop := func(kind, where string, args ...any) error {
		names, found, err := d.schemaObjects(ctx, kind, where, args...)
		if err != nil {
			return err
		}
		for i, name := range names {
			if _, err := d.write.ExecContext(ctx, `DROP `+strings.ToUpper(kind)+` "`+name+`"`); err != nil {
				return fmt.Errorf("db: seed: drop %s %s: %w", kind, name, err)
			}
			defs = append(defs, found[i])
		}
		return nil
	}
	for _, table := range seededTables {
		if err := drop("index", "tbl_name = ?", table); err != nil {
			return nil, errors.Join(err, finish())
		}
	}
	for _, name := range bulkSeedTriggers {
		if err := drop("trigger", "name = ?", name); err != nil {
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

func (d *DB) seedBatch(ctx context.Context, tx *sql.Tx, rng *rand.Rand, now time.Time, offset, n int, withPII bool) error {
	// Ids are assigned here (the one write connection holds the
	// transaction), so every table of the batch goes in as multi-row
	// INSERTs: per-statement overhead, and the search index's flush at
	// every statement, dominated one-row-at-a-time seeding.
	var baseA, baseV int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(max(id), 0) FROM applicants").Scan(&baseA); err != nil {
		return fmt.Errorf("db: seed: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(max(id), 0) FROM verifications").Scan(&baseV); err != nil {
		return fmt.Errorf("db: seed: %w", err)
	}
	sources := map[string]string{"blockpass": "webhook", "corepass": "callback", "verifyyou": "webhook", "selfkey": "callback", "idfy": "poll"}
	var apps, keys, links, vers, events, search [][]any
	var pii []struct {
		id    int64
		attrs []AttributeInput
	}
	for i := 0; i < n; i++ {
		a := makeSeedApplicant(rng, now, offset+i)
		id, vid := baseA+int64(i)+1, baseV+int64(i)+1
		reference := strings.ToLower(a.provider[:2]) + "-" + a.ref[3:]
		extID := seedExternalID(rng, a.provider)
		apps = append(apps, []any{id, a.ref, a.name, a.email, a.hist.status, a.created, a.updated, a.provider})
		search = append(search, []any{id, a.name, searchEmail(a.email), a.ref + " " + reference + " " + extID})
		links = append(links, []any{id, a.provider, reference, extID, a.hist.status, a.updated})
		current := a.hist.path[len(a.hist.path)-1]
		vers = append(vers, []any{vid, id, a.provider, reference, a.hist.status, current, NewToken(), a.created + 7*24*3600*1000, a.created, a.updated})
		step := (a.updated - a.created) / int64(len(a.hist.path))
		for j, ps := range a.hist.path {
			status := ""
			if j == len(a.hist.path)-1 {
				status = a.hist.status
			}
			src := sources[a.provider]
			if j == 0 {
				src = "staff"
			}
			events = append(events, []any{id, vid, a.provider, src, status, ps, a.created + int64(j)*step})
		}
		if d.kek != nil {
			wrapped, err := d.kek.Wrap(id, newDataKeyBytes())
			if err != nil {
				return err
			}
			keys = append(keys, []any{id, d.kek.ID(), wrapped, a.created})
		}
		if withPII {
			dob := time.Date(1950+rng.IntN(55), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
			pii = append(pii, struct {
				id    int64
				attrs []AttributeInput
			}{id, []AttributeInput{
				{Provider: a.provider, Meaning: "full_name", Name: "full_name", Value: a.name},
				{Provider: a.provider, Meaning: "email", Name: "email", Value: a.email},
				{Provider: a.provider, Meaning: "date_of_birth", Name: "date_of_birth", Value: dob},
				{Provider: a.provider, Meaning: "document_number", Name: "document_number", Value: fmt.Sprintf("P%08d", rng.IntN(1e8))},
			}})
		}
	}
	for _, ins := range []struct {
		table string
		cols  string
		rows  [][]any
	}{
		{"applicants", "id, ref, display_name, email, status, created_at, updated_at, providers", apps},
		{"data_keys", "applicant_id, kek_id, wrapped, created_at", keys},
		{"provider_links", "applicant_id, provider, reference, external_id, status, updated_at", links},
		{"verifications", "id, applicant_id, provider, reference, status, provider_status, token, token_expires_at, created_at, updated_at", vers},
		{"verification_events", "applicant_id, verification_id, provider, source, status, provider_status, at", events},
		{"applicant_search", "rowid, name, email, refs", search},
	} {
		if err := insertRows(ctx, tx, ins.table, ins.cols, ins.rows); err != nil {
			return err
		}
	}
	for _, p := range pii {
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

// insertRows inserts rows with multi-row INSERT statements as large as the
// parameter limit allows, preparing the full-size statement once.
func insertRows(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	rowsPerInsert := maxSeedVariables / width
	stmtFor := func(n int) string {
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
		return "INSERT INTO " + table + "(" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(ph+", ", n), ", ")
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, rowsPerInsert*width)
	for len(rows) > 0 {
		chunk := rows[:min(rowsPerInsert, len(rows))]
		rows = rows[len(chunk):]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		var err error
		if len(chunk) == rowsPerInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, stmtFor(rowsPerInsert)); err != nil {
					return fmt.Errorf("db: seed %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, stmtFor(len(chunk)), args...)
		}
		if err != nil {
			return fmt.Errorf("db: seed %s: %w", table, err)
		}
	}
	return nil
}

func makeSeedApplicant(rng *rand.Rand, now time.Time, i int) seedApplicant {
	given := givenNames[rng.IntN(len(givenNames))]
	family := familyNames[rng.IntN(len(familyNames))]
	provider := seedProviders[rng.IntN(len(seedProviders))]
	hists := seedCatalogue[provider]
	// Spread over the last year, older rows more settled.
	age := time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))
	created := now.Add(-age)
	updated := created.Add(time.Duration(rng.Int64N(int64(age/2) + 1)))
	local := strings.ToLower(strings.NewReplacer("é", "e", "ö", "o", "ü", "u", "ı", "i", "'", "").Replace(given + "." + family))
	return seedApplicant{
		name:     given + " " + family,
		email:    fmt.Sprintf("%s%d@%s", local, i%997, mailHosts[rng.IntN(len(mailHosts))]),
		ref:      newRef(),
		provider: provider,
		hist:     hists[rng.IntN(len(hists))],
		created:  created.UnixMilli(),
		updated:  updated.UnixMilli(),
	}
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
