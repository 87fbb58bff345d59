package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"modernc.org/sqlite"
)

// searchEmail is how an email goes into the search index: letters and
// digits that run together are split ("schmidt96" -> "schmidt 96"). Without
// this, thousands of addresses like schmidt1..schmidt999 each become their
// own index term, and a prefix search for "schmidt" has to merge them all
// (measured at 1M applicants: 20 ms per search instead of well under 1 ms).
func searchEmail(email string) string {
	var b strings.Builder
	b.Grow(len(email) + 4)
	var prev rune
	for i, r := range email {
		if i > 0 && ((unicode.IsLetter(prev) && unicode.IsDigit(r)) || (unicode.IsDigit(prev) && unicode.IsLetter(r))) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// splitLettersDigits splits a word made of letters followed by digits
// ("schmidt96") into its two parts; ok is false for any other shape.
func splitLettersDigits(w string) (letters, digits string, ok bool) {
	i := strings.IndexFunc(w, unicode.IsDigit)
	if i <= 0 {
		return "", "", false
	}
	letters, digits = w[:i], w[i:]
	if strings.IndexFunc(letters, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 ||
		strings.IndexFunc(digits, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0 {
		return "", "", false
	}
	return letters, digits, true
}

// The search index is two FTS5 tables (migration 016). applicant_search
// holds names and emails, with prefix indexes (migration 009) so that a
// search as one types reads one index term newest first.
// applicant_ref_search holds the applicant's ref and its providers'
// references and ids, without: nearly every one of those is a word of its
// own, and its seven prefix entries were each a term of their own too.
// At 300k applicants one table with refs took 15.5 s to build and 184 MB,
// the two 9.2 s and 90 MB; the search index sets the pace of a bulk seed.
// A ref is found by its first RefPrefixMin characters or more
// (refFTSQuery). A search matches every word in the names and emails, or
// every word in the refs, not some words in each.

// The fields of an applicant's search document, as a seed and
// searchRows make it: []any{id, name, searchEmail(email), refs}.
const (
	docID = iota
	docName
	docEmail
	docRefs
)

// searchDocFields names the fields a search table's columns may hold.
var searchDocFields = map[string]int{"name": docName, "email": docEmail, "refs": docRefs}

// searchTable is one FTS5 table of the search index and the document
// field each of its columns holds.
type searchTable struct {
	name    string
	columns []string
}

// searchTables is the search index of the current schema.
var searchTables = []searchTable{
	{"applicant_search", []string{"name", "email"}},
	{"applicant_ref_search", []string{"refs"}},
}

// isSearchTable reports whether table is one of the search index's.
func isSearchTable(table string) bool {
	return slices.ContainsFunc(searchTables, func(t searchTable) bool { return t.name == table })
}

// insertColumns are the columns an INSERT of the table's rows names.
func (t searchTable) insertColumns() string { return "rowid, " + strings.Join(t.columns, ", ") }

// row is the table's row of a search document: the rowid, then its
// columns.
func (t searchTable) row(doc []any) []any {
	row := make([]any, 1+len(t.columns))
	row[0] = doc[docID]
	for j, c := range t.columns {
		row[1+j] = doc[searchDocFields[c]]
	}
	return row
}

// batch is the table's rows of a batch of search documents.
func (t searchTable) batch(docs [][]any) seedTable {
	rows := make([][]any, len(docs))
	for i, doc := range docs {
		rows[i] = t.row(doc)
	}
	return seedTable{t.name, t.insertColumns(), rows}
}

// insertSQL inserts one row.
func (t searchTable) insertSQL() string {
	return "INSERT INTO " + t.name + "(" + t.insertColumns() + ") VALUES (?" + strings.Repeat(", ?", len(t.columns)) + ")"
}

// stored reads the columns of the table's row id, as the table keeps
// them; found is false when it has none.
func (t searchTable) stored(ctx context.Context, q querier, id int64) (cols []any, found bool, err error) {
	cols = make([]any, len(t.columns))
	dest := make([]any, len(cols))
	for i := range cols {
		dest[i] = &cols[i]
	}
	err = q.QueryRowContext(ctx, "SELECT "+strings.Join(t.columns, ", ")+" FROM "+t.name+" WHERE rowid = ?", id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return cols, err == nil, err
}

// storeSearchTables reads which search tables the store has and their
// columns. It is searchTables once migrated; a bulk seed that an earlier
// binary began is finished before the migrations run, on the schema it
// began with (one applicant_search with a refs column).
func storeSearchTables(ctx context.Context, q querier) ([]searchTable, error) {
	var tables []searchTable
	for _, st := range searchTables {
		columns, err := queryColumn[string](ctx, q, "SELECT name FROM pragma_table_info(?) ORDER BY cid", st.name)
		if err != nil {
			return nil, fmt.Errorf("db: search tables: %w", err)
		}
		for _, c := range columns {
			if _, ok := searchDocFields[c]; !ok {
				return nil, fmt.Errorf("db: search tables: %s has a column %q no search document fills", st.name, c)
			}
		}
		if len(columns) > 0 {
			tables = append(tables, searchTable{st.name, columns})
		}
	}
	if len(tables) == 0 {
		return nil, errors.New("db: search tables: the store has no search index")
	}
	return tables, nil
}

// emptySearchTable empties the search table name in tx: it drops the
// table and creates it again, with its settings. FTS5's delete-all is for
// tables without content of their own, and a DELETE would read and
// tokenize every row again to take it out of the index.
func emptySearchTable(ctx context.Context, tx *sql.Tx, name string) error {
	def, err := readSearchTableDef(ctx, tx, name)
	if err == nil {
		_, err = tx.ExecContext(ctx, "DROP TABLE "+name)
	}
	if err == nil {
		err = def.create(ctx, tx)
	}
	if err != nil {
		return fmt.Errorf("empty %s: %w", name, err)
	}
	return nil
}

// searchTableDef is what creates a search table again, in its store
// (emptySearchTable) or in another file (the bulk seed's aside index):
// its definition and its settings (its _config rows).
type searchTableDef struct {
	name, sql string
	config    [][2]any
}

func readSearchTableDef(ctx context.Context, q querier, name string) (searchTableDef, error) {
	def := searchTableDef{name: name}
	if err := q.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", name).Scan(&def.sql); err != nil {
		return def, err
	}
	rows, err := q.QueryContext(ctx, "SELECT k, v FROM "+name+"_config")
	if err != nil {
		return def, err
	}
	defer rows.Close()
	for rows.Next() {
		var kv [2]any
		if err := rows.Scan(&kv[0], &kv[1]); err != nil {
			return def, err
		}
		def.config = append(def.config, kv)
	}
	return def, rows.Err()
}

// create creates the table with its settings through db.
func (def searchTableDef) create(ctx context.Context, db execer) error {
	if _, err := db.ExecContext(ctx, def.sql); err != nil {
		return err
	}
	for _, kv := range def.config {
		if _, err := db.ExecContext(ctx, "INSERT OR REPLACE INTO "+def.name+"_config(k, v) VALUES (?, ?)", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// searchEmailFunc is searchEmail as an SQL function, for migrations that
// rebuild the search index from the tables.
const searchEmailFunc = "kycdesk_search_email"

func init() {
	err := sqlite.RegisterDeterministicScalarFunction(searchEmailFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return searchEmail(v), nil
		case nil:
			return nil, nil
		default:
			return nil, fmt.Errorf("%s: want text, got %T", searchEmailFunc, v)
		}
	})
	if err != nil {
		panic("db: " + err.Error())
	}
}
