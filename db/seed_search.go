package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// A bulk seed builds the search index aside: in a file of its own beside
// the store, on a goroutine of its own, while the store's single writer
// fills the tables. The search index was about a third of a bulk seed's
// time on that writer (at 1M applicants, 26 s inserting and 11 s
// optimising of 124 s), and SQLite writes one file from one connection
// at a time, so a second file is the only way to put a second core to
// work. At the end the aside index's tables are copied into the store's
// in one transaction: whole postings pages and the content rows, nothing
// tokenised again (2.7 s at 1M when there was one table and no content).
//
// The aside index holds the applicants the store had when the seed began
// (read from the tables, as reindexApplicant makes their rows) and the
// seeded ones, each batch after its transaction committed, so it never
// holds a row the store lacks. It is copied in only if it is whole: the
// seed ran to its end, and no other connection wrote to the store since
// the aside index began (it would hold the old search rows of whatever
// that writer archived or renamed). Otherwise, and after a seed that
// died, the finish builds a new one from the tables.

// searchAsideSuffix names the aside file: the store's path with this
// appended, so it lies on the store's disk, in the store's directory.
const searchAsideSuffix = "-seed-search"

// searchAsideCacheKiB is the aside connection's page cache. Larger ones
// (256 MiB) cost memory and won no time: the optimise at the end reads
// the segments back from the operating system's cache.
const searchAsideCacheKiB = 32 * 1024

// errStoreWritten: another connection wrote to the store while a search
// index was built aside.
var errStoreWritten = errors.New("db: the store was written to while its search index was built; a bulk seed needs it to itself")

// searchAside is a search index being built aside.
type searchAside struct {
	path    string
	db      *sql.DB
	tables  []searchTable // the store's
	since   storeVersion  // the store's when it began
	docs    chan [][]any  // batches of search documents (docID...)
	last    sync.Once     // closes docs
	aborted atomic.Bool   // close: stop without finishing
	done    chan struct{}
	err     error // the build's, once done is closed
}

// storeVersion tells whether another connection wrote to the store: SQLite
// changes a connection's data_version when another one commits. The
// counter is the connection's own, so the connection is part of it (the
// write pool's one connection could be replaced). Writes through the same
// connection, which is the seed's, do not count: a bulk seed's process
// writes nothing else while it runs.
type storeVersion struct {
	conn    any // the driver connection
	version int64
}

// readStoreVersion reads the store version of the connection conn pins,
// through q: conn, or a transaction on it.
func readStoreVersion(ctx context.Context, conn *sql.Conn, q querier) (storeVersion, error) {
	var v storeVersion
	if err := conn.Raw(func(dc any) error { v.conn = dc; return nil }); err != nil {
		return v, err
	}
	err := q.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v.version)
	return v, err
}

// buildSearchAside starts building, in a new file, a search index of
// every unarchived applicant with an id up to upTo and then of the rows
// passed to add; finish ends it, close throws it away.
func (d *DB) buildSearchAside(ctx context.Context, upTo int64) (*searchAside, error) {
	s := &searchAside{path: d.path + searchAsideSuffix, docs: make(chan [][]any, 2)}
	if err := s.close(); err != nil { // one a stopped seed left
		return nil, err
	}
	if err := s.open(ctx, d); err != nil {
		return nil, errors.Join(fmt.Errorf("db: seed: search index aside: %w", err), s.close())
	}
	s.done = make(chan struct{})
	go s.run(context.WithoutCancel(ctx), d, upTo)
	return s, nil
}

// open creates the aside file with the store's search table and settings
// (secure-delete among them), so the pages are in the store's format.
func (s *searchAside) open(ctx context.Context, d *DB) error {
	// The index holds names and emails: the file is the owner's alone
	// before SQLite writes anything to it.
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	// No journal and no syncs: the file is scratch, thrown away and built
	// again from the tables if anything goes wrong before it is copied.
	if s.db, err = sql.Open("sqlite", fmt.Sprintf("file:%s?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-%d)", s.path, searchAsideCacheKiB)); err != nil {
		return err
	}
	s.db.SetMaxOpenConns(1)
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return err
	}
	s.since, err = readStoreVersion(ctx, conn, conn)
	conn.Close()
	if err != nil {
		return err
	}
	if s.tables, err = storeSearchTables(ctx, d.write); err != nil {
		return err
	}
	// Each table as the store defines it, with the store's settings.
	for _, t := range s.tables {
		def, err := readSearchTableDef(ctx, d.write, t.name)
		if err != nil {
			return err
		}
		if err := def.create(ctx, s.db); err != nil {
			return err
		}
	}
	return setSearchConfig(ctx, s.db, s.tables, true)
}

// setSearchConfig gives the search tables bulkSeedSearchConfig's settings
// for a bulk seed, or FTS5's defaults.
func setSearchConfig(ctx context.Context, db execer, tables []searchTable, bulk bool) error {
	for _, t := range tables {
		for _, c := range bulkSeedSearchConfig {
			v := c.was
			if bulk {
				v = c.during
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+t.name+"("+t.name+", rank) VALUES(?, ?)", c.key, v); err != nil {
				return fmt.Errorf("search %s %s: %w", t.name, c.key, err)
			}
		}
	}
	return nil
}

// optimizeSearch merges each of the search tables into one segment.
func optimizeSearch(ctx context.Context, db execer, tables []searchTable) error {
	for _, t := range tables {
		if _, err := db.ExecContext(ctx, "INSERT INTO "+t.name+"("+t.name+") VALUES('optimize')"); err != nil {
			return fmt.Errorf("search %s optimize: %w", t.name, err)
		}
	}
	return nil
}

// add passes a committed batch's search rows to the aside index.
func (s *searchAside) add(rows [][]any) { s.docs <- rows }

// lastAdded says nothing more will be added: the aside index is then
// optimised into one segment, on its goroutine.
func (s *searchAside) lastAdded() { s.last.Do(func() { close(s.docs) }) }

// finish waits for the aside index to hold everything added and to be
// optimised.
func (s *searchAside) finish() error {
	s.lastAdded()
	<-s.done
	return s.err
}

// run builds the index, a transaction per batch as the store's writer
// does (kept statements are prepared between transactions, when the one
// connection is free). After a failure it goes on draining docs, so the
// seed never blocks.
func (s *searchAside) run(ctx context.Context, d *DB, upTo int64) {
	defer close(s.done)
	ins := newSeedInserter(s.db)
	defer ins.close()
	insert := func(docs [][]any) error {
		tables := make([]seedTable, len(s.tables))
		for i, t := range s.tables {
			tables[i] = t.batch(docs)
		}
		if err := ins.prepare(ctx, tables); err != nil {
			return err
		}
		return inTxOn(ctx, s.db, func(tx *sql.Tx) error {
			for _, t := range tables {
				if err := ins.insert(ctx, tx, t); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for after := int64(0); s.err == nil && after < upTo && !s.aborted.Load(); {
		var rows [][]any
		if rows, s.err = searchRows(ctx, d.read, after, upTo); s.err == nil && len(rows) == 0 {
			break
		}
		if s.err == nil {
			s.err = insert(rows)
			after = rows[len(rows)-1][0].(int64)
		}
	}
	for rows := range s.docs {
		if s.err == nil && !s.aborted.Load() {
			s.err = insert(rows)
		}
	}
	if s.err == nil && !s.aborted.Load() {
		s.err = optimizeSearch(ctx, s.db, s.tables)
	}
	if s.err != nil {
		s.err = fmt.Errorf("db: seed: search index aside: %w", s.err)
	}
}

// swapIn waits for the aside index to finish, then replaces the store's
// search index with it, in one transaction, unless another connection
// wrote to the store since the aside one began (errStoreWritten). It
// runs on a connection of its own that is thrown away afterwards: the
// search index caches its layout per connection, and the copy goes round
// it.
func (s *searchAside) swapIn(ctx context.Context, d *DB) error {
	if err := s.finish(); err != nil {
		return err
	}
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: seed: search index swap: %w", err)
	}
	defer func() {
		discardConn(conn)
		conn.Close()
	}()
	// Read-only: a missing file fails instead of being created empty.
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS seed_search", "file:"+s.path+"?mode=ro"); err != nil {
		return fmt.Errorf("db: seed: search index swap: %w", err)
	}
	// Immediate (the pool's _txlock): no other writer until it ends.
	return inTxOn(ctx, conn, func(tx *sql.Tx) error {
		now, err := readStoreVersion(ctx, conn, tx)
		if err != nil {
			return fmt.Errorf("db: seed: search index swap: %w", err)
		}
		if now != s.since {
			return errStoreWritten
		}
		shadows, err := searchShadowTables(ctx, tx, s.tables)
		if err != nil {
			return fmt.Errorf("db: seed: search index swap: %w", err)
		}
		for _, table := range shadows {
			for _, q := range []string{"DELETE FROM main." + table, "INSERT INTO main." + table + " SELECT * FROM seed_search." + table} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("db: seed: search index swap: %s: %w", q, err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO main.settings(key, value) VALUES (?, '1')", bulkSeedSearchSwapped); err != nil {
			return fmt.Errorf("db: seed: search index swap: %w", err)
		}
		return nil
	})
}

// searchShadowTables are the tables that hold the search tables' index
// and content, as the store has them: _data and _idx, _content unless a
// table is contentless (migration 016 gave them content), _docsize unless
// columnsize=0 (migrations before 016 kept one). Their settings (_config)
// are not among them: the aside index's are a bulk seed's.
func searchShadowTables(ctx context.Context, q querier, tables []searchTable) ([]string, error) {
	var shadows []string
	for _, t := range tables {
		names, err := queryColumn[string](ctx, q, `SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name IN (?, ?, ?, ?) ORDER BY name`,
			t.name+"_content", t.name+"_data", t.name+"_docsize", t.name+"_idx")
		if err != nil {
			return nil, err
		}
		shadows = append(shadows, names...)
	}
	return shadows, nil
}

// close stops the aside build, if it runs, unfinished, and deletes its
// file.
func (s *searchAside) close() error {
	if s.done != nil {
		s.aborted.Store(true)
		s.lastAdded()
		<-s.done
	}
	if s.db != nil {
		s.db.Close()
	}
	for _, p := range []string{s.path, s.path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("db: seed: search index aside: %w", err)
		}
	}
	return nil
}

// searchRowBatch is how many applicants searchRows reads at a time.
const searchRowBatch = 10000

// searchRowColumns make an applicant's search row, before searchEmail:
// name, email, and its ref with every provider link's reference and
// external id.
const searchRowColumns = `a.display_name, a.email, a.ref || ' ' || COALESCE((SELECT group_concat(reference || ' ' || external_id, ' ')
	FROM provider_links WHERE applicant_id = a.id), '')`

// searchRows reads the search documents of up to searchRowBatch unarchived
// applicants with ids in (after, upTo], in id order.
func searchRows(ctx context.Context, q querier, after, upTo int64) ([][]any, error) {
	rows, err := q.QueryContext(ctx, "SELECT a.id, "+searchRowColumns+" FROM applicants a WHERE a.id > ? AND a.id <= ? AND a.archived_at IS NULL ORDER BY a.id LIMIT ?",
		after, upTo, searchRowBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var id int64
		var name, email, refs string
		if err := rows.Scan(&id, &name, &email, &refs); err != nil {
			return nil, err
		}
		out = append(out, []any{id, name, searchEmail(email), refs})
	}
	return out, rows.Err()
}
