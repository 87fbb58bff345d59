package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Applicant is one person KYC Desk holds verifications for.
type Applicant struct {
	ID         int64
	Ref        string
	Name       string // blank once archived
	Email      string // blank once archived
	Status     string
	AssigneeID int64
	Assignee   string
	CreatedBy  int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ArchivedAt time.Time
	LegalHold  bool
	Providers  []string // providers this applicant is linked with; read-only (list rows share them)
}

// Archived reports whether the applicant's personal data is gone.
func (a Applicant) Archived() bool { return !a.ArchivedAt.IsZero() }

// NewApplicant is what CreateApplicant needs.
type NewApplicant struct {
	Name      string
	Email     string
	CreatedBy int64
}

var refEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// newRef makes our public applicant reference: short, unambiguous and
// unguessable enough that it says nothing about volumes.
func newRef() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic("db: crypto/rand failed: " + err.Error())
	}
	return "KD-" + refEncoding.EncodeToString(b)
}

// CreateApplicant adds an applicant with a fresh data key and indexes it
// for search; audit describes who did it.
func (d *DB) CreateApplicant(ctx context.Context, n NewApplicant, audit AuditEntry) (Applicant, error) {
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = d.createApplicantTx(ctx, tx, n)
		if err != nil {
			return err
		}
		if err := reindexApplicant(ctx, tx, id); err != nil {
			return err
		}
		audit.Action, audit.Object = "applicant.create", fmt.Sprintf("applicant:%d", id)
		return d.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return Applicant{}, err
	}
	return d.Applicant(ctx, id)
}

// createApplicantTx adds an applicant with a fresh data key in tx. The
// caller indexes it for search (reindexApplicant) once its rows are in,
// its provider link among them, in the same transaction: indexed at
// creation and again with its link, its search row was deleted from the
// index once, which secure-delete makes dear (about half a Blockpass
// sync's time).
func (d *DB) createApplicantTx(ctx context.Context, tx *sql.Tx, n NewApplicant) (int64, error) {
	if d.kek == nil {
		return 0, fmt.Errorf("db: create applicant: no data key configured")
	}
	now := d.millis()
	res, err := tx.ExecContext(ctx, `INSERT INTO applicants(ref, display_name, email, status, created_by, created_at, updated_at)
		VALUES (?, ?, ?, 'invited', ?, ?, ?)`, newRef(), strings.TrimSpace(n.Name), strings.TrimSpace(n.Email), nullID(n.CreatedBy), now, now)
	if err != nil {
		return 0, fmt.Errorf("db: create applicant: %w", err)
	}
	id, _ := res.LastInsertId()
	wrapped, err := d.kek.Wrap(id, newDataKeyBytes())
	if err != nil {
		return 0, fmt.Errorf("db: create applicant: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO data_keys(applicant_id, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?)", id, d.kek.ID(), wrapped, now); err != nil {
		return 0, fmt.Errorf("db: create applicant: data key: %w", err)
	}
	return id, nil
}

// reindexApplicant brings the applicant's search rows up to its current
// name, email and provider references (or removes them once archived).
// A table whose row already holds them is left alone: with secure-delete
// a row's delete rewrites the index pages its words are on.
func reindexApplicant(ctx context.Context, tx *sql.Tx, id int64) error {
	var name, email, refs string
	var archived sql.NullInt64
	err := tx.QueryRowContext(ctx, "SELECT a.archived_at, "+searchRowColumns+" FROM applicants a WHERE a.id = ?", id).Scan(&archived, &name, &email, &refs)
	if err != nil {
		return fmt.Errorf("db: reindex applicant: %w", err)
	}
	doc := []any{id, name, searchEmail(email), refs}
	for _, t := range searchTables {
		row := t.row(doc)
		stored, found, err := t.stored(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("db: reindex applicant: %w", err)
		}
		if found && !archived.Valid && slices.Equal(stored, row[1:]) {
			continue
		}
		if found {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE rowid = ?", id); err != nil {
				return fmt.Errorf("db: reindex applicant: %w", err)
			}
		}
		if !archived.Valid {
			if _, err := tx.ExecContext(ctx, t.insertSQL(), row...); err != nil {
				return fmt.Errorf("db: reindex applicant: %w", err)
			}
		}
	}
	return nil
}

const applicantColumns = `a.id, a.ref, a.display_name, a.email, a.status, COALESCE(a.assignee_id, 0),
	COALESCE((SELECT email FROM users WHERE id = a.assignee_id), ''), COALESCE(a.created_by, 0),
	a.created_at, a.updated_at, a.archived_at, a.legal_hold, a.providers`

// scanApplicant reads applicantColumns, then any extra columns a query
// selects after them into extra.
func scanApplicant(row interface{ Scan(...any) error }, extra ...any) (Applicant, error) {
	var a Applicant
	var created, updated int64
	var archived sql.NullInt64
	var provs string
	err := row.Scan(append([]any{&a.ID, &a.Ref, &a.Name, &a.Email, &a.Status, &a.AssigneeID, &a.Assignee, &a.CreatedBy,
		&created, &updated, &archived, &a.LegalHold, &provs}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, err
	}
	a.CreatedAt, a.UpdatedAt, a.ArchivedAt = fromMillis(created), fromMillis(updated), nullMillis(archived)
	if provs != "" {
		a.Providers = strings.Split(provs, ",")
	}
	return a, nil
}

// listColumns are what a list row shows and its retention badge needs,
// from applicants a; updated is the update time the page is sorted by (a
// provider's list sorts by its link's copy). Fewer than applicantColumns
// on purpose: every column of every row is a few calls into SQLite, each
// under the connection's mutex, and the list reads fifty rows a page
// (measured at 1M applicants: 256 µs per page with applicantColumns, about
// 195 µs with these). A NULL costs one call, a value two or three: the
// assignee comes as its id, mostly NULL, and the few emails are read
// after (assigneeEmails); the legal hold as NULL unless it is on.
func listColumns(updated string) string {
	return `a.id, a.ref, a.display_name, a.email, a.status, a.assignee_id, ` + updated + `, a.archived_at, NULLIF(a.legal_hold, 0), a.providers`
}

// listRow reads listColumns row after row into the same variables, whose
// addresses Scan is given once per page instead of once per row (each
// row's own set escaped to the heap: a quarter of a page's allocations).
type listRow struct {
	a        Applicant
	assignee sql.NullInt64
	updated  int64
	archived sql.NullInt64
	hold     sql.NullBool
	provs    string
	dest     []any
}

func newListRow() *listRow {
	r := &listRow{}
	r.dest = []any{&r.a.ID, &r.a.Ref, &r.a.Name, &r.a.Email, &r.a.Status, &r.assignee, &r.updated, &r.archived, &r.hold, &r.provs}
	return r
}

func (r *listRow) scan(d *DB, rows *sql.Rows) (Applicant, error) {
	r.a = Applicant{}
	if err := rows.Scan(r.dest...); err != nil {
		return Applicant{}, err
	}
	a := r.a
	a.AssigneeID, a.LegalHold = r.assignee.Int64, r.hold.Bool
	a.UpdatedAt, a.ArchivedAt = fromMillis(r.updated), nullMillis(r.archived)
	a.Providers = d.providerList(r.provs)
	return a, nil
}

// providerList is provs split, shared between rows: there are only a few
// distinct lists (subsets of five names, in order; migrations 010, 013).
// The slices are read-only and clipped, so an append copies.
func (d *DB) providerList(provs string) []string {
	if provs == "" {
		return nil
	}
	if l, ok := d.providerLists.Load(provs); ok {
		return l.([]string)
	}
	l := slices.Clip(strings.Split(provs, ","))
	d.providerLists.Store(provs, l)
	return l
}

// Applicant returns one applicant.
func (d *DB) Applicant(ctx context.Context, id int64) (Applicant, error) {
	a, err := scanApplicant(d.read.QueryRowContext(ctx, "SELECT "+applicantColumns+" FROM applicants a WHERE a.id = ?", id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("db: applicant: %w", err)
	}
	return a, err
}

// Cursor is a keyset position in the applicants list: the last row's
// update time and id (search pages use the id alone).
type Cursor struct {
	UpdatedAt int64
	ID        int64
}

// IsZero reports whether the cursor points at the first page.
func (c Cursor) IsZero() bool { return c.ID == 0 }

// ApplicantFilter narrows ListApplicants. Zero values mean "any".
type ApplicantFilter struct {
	Provider  string
	Status    string
	Query     string // full-text search terms
	CreatedBy int64  // link creators see only their own applicants
	After     Cursor
	Limit     int
}

// ApplicantPage is one page of the list. Next is zero on the last page.
// The total is never counted: on a million rows that costs more than the
// page itself.
type ApplicantPage struct {
	Rows []Applicant
	Next Cursor
}

// MaxPageSize bounds a list page.
const MaxPageSize = 200

// ListApplicants pages through applicants by last update, newest first,
// using a keyset on an index for every filter combination; search results
// page by applicant id, newest first.
func (d *DB) ListApplicants(ctx context.Context, f ApplicantFilter) (ApplicantPage, error) {
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 50
	}
	var rows []Applicant
	var err error
	names := ftsQuery(f.Query)
	if names != "" {
		// Every word in the names and emails, or every word in the refs
		// (db/search.go): a page of each, merged.
		var byRef []Applicant
		if rows, err = d.listRows(ctx, f, searchShape(f, "applicant_search", names)); err == nil {
			byRef, err = d.listRows(ctx, f, searchShape(f, "applicant_ref_search", refFTSQuery(f.Query)))
		}
		rows = mergeNewestFirst(rows, byRef, f.Limit+1)
	} else {
		rows, err = d.listRows(ctx, f, listShape(f))
	}
	if err != nil {
		return ApplicantPage{}, err
	}
	if err := d.assigneeEmails(ctx, rows); err != nil {
		return ApplicantPage{}, err
	}
	page := ApplicantPage{Rows: rows}
	if len(page.Rows) > f.Limit {
		page.Rows = page.Rows[:f.Limit]
		last := page.Rows[f.Limit-1]
		page.Next = Cursor{UpdatedAt: last.UpdatedAt.UnixMilli(), ID: last.ID}
		if names != "" {
			page.Next.UpdatedAt = 0
		}
	}
	return page, nil
}

// listQueryShape is how a list query reads one index in page order: the
// table and its conditions, the status column, the keyset and the order.
type listQueryShape struct {
	search    bool // a search table's matches
	from      string
	args      []any
	statusCol string
	after     string
	afterArgs []any
	order     string
}

// listShape reads a provider's links by their update time, or the
// applicants by theirs.
func listShape(f ApplicantFilter) listQueryShape {
	if f.Provider != "" {
		return listQueryShape{
			from: listColumns("l.updated_at") + " FROM provider_links l JOIN applicants a ON a.id = l.applicant_id WHERE l.provider = ?",
			args: []any{f.Provider}, statusCol: "l.status",
			after: "(l.updated_at, l.applicant_id) < (?, ?)", afterArgs: []any{f.After.UpdatedAt, f.After.ID},
			order: "l.updated_at DESC, l.applicant_id DESC",
		}
	}
	return listQueryShape{
		from:      listColumns("a.updated_at") + " FROM applicants a WHERE 1=1",
		statusCol: "a.status",
		after:     "(a.updated_at, a.id) < (?, ?)", afterArgs: []any{f.After.UpdatedAt, f.After.ID},
		order: "a.updated_at DESC, a.id DESC",
	}
}

// searchShape reads the matches of a search table by rowid.
func searchShape(f ApplicantFilter, table, match string) listQueryShape {
	return listQueryShape{
		search: true,
		from:   listColumns("a.updated_at") + " FROM " + table + " s JOIN applicants a ON a.id = s.rowid WHERE " + table + " MATCH ?",
		args:   []any{match}, statusCol: "a.status",
		after: "s.rowid < ?", afterArgs: []any{f.After.ID},
		order: "s.rowid DESC",
	}
}

// listQuery is the query for up to f.Limit+1 rows of the list in sh's
// order, with f's filters.
func listQuery(f ApplicantFilter, sh listQueryShape) (string, []any) {
	var q strings.Builder
	q.WriteString("SELECT " + sh.from)
	args := sh.args // the shape's own, made for this query
	where := func(cond string, condArgs ...any) {
		q.WriteString(" AND " + cond)
		args = append(args, condArgs...)
	}
	if sh.search && f.Provider != "" {
		where("EXISTS (SELECT 1 FROM provider_links l WHERE l.applicant_id = a.id AND l.provider = ?)", f.Provider)
	}
	if f.Status != "" {
		where(sh.statusCol+" = ?", f.Status)
	}
	if f.CreatedBy != 0 {
		where("a.created_by = ?", f.CreatedBy)
	}
	if !f.After.IsZero() {
		where(sh.after, sh.afterArgs...)
	}
	q.WriteString(" ORDER BY " + sh.order + " LIMIT ?")
	return q.String(), append(args, f.Limit+1)
}

// listRows reads the rows listQuery selects.
func (d *DB) listRows(ctx context.Context, f ApplicantFilter, sh listQueryShape) ([]Applicant, error) {
	q, args := listQuery(f, sh)
	rows, err := d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list applicants: %w", err)
	}
	defer rows.Close()
	out := make([]Applicant, 0, f.Limit+1)
	row := newListRow()
	for rows.Next() {
		a, err := row.scan(d, rows)
		if err != nil {
			return nil, fmt.Errorf("db: list applicants: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list applicants: %w", err)
	}
	return out, nil
}

// mergeNewestFirst merges two lists of applicants in descending id order
// into one of at most n, each applicant once.
func mergeNewestFirst(a, b []Applicant, n int) []Applicant {
	if len(b) == 0 {
		return a[:min(len(a), n)]
	}
	out := make([]Applicant, 0, min(n, len(a)+len(b)))
	for len(out) < n && (len(a) > 0 || len(b) > 0) {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0].ID > b[0].ID):
			out, a = append(out, a[0]), a[1:]
		case len(a) == 0 || b[0].ID > a[0].ID:
			out, b = append(out, b[0]), b[1:]
		default: // found by both
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return out
}

// assigneeEmails fills in the assignees' emails of a page of list rows
// with one query for the distinct assignees, if there are any.
func (d *DB) assigneeEmails(ctx context.Context, page []Applicant) error {
	var ids []int64
	for _, a := range page {
		if a.AssigneeID != 0 && !slices.Contains(ids, a.AssigneeID) {
			ids = append(ids, a.AssigneeID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	list, _ := json.Marshal(ids)
	rows, err := d.read.QueryContext(ctx, "SELECT id, email FROM users WHERE id IN (SELECT value FROM json_each(?))", string(list))
	if err != nil {
		return fmt.Errorf("db: list applicants: assignees: %w", err)
	}
	defer rows.Close()
	emails := make(map[int64]string, len(ids))
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return fmt.Errorf("db: list applicants: assignees: %w", err)
		}
		emails[id] = email
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: list applicants: assignees: %w", err)
	}
	for i := range page {
		page[i].Assignee = emails[page[i].AssigneeID]
	}
	return nil
}

// prefixTerm is a prefix query for w. Prefixes of 2 to 8 characters
// are single terms of the search index (migration 009) and are read newest
// first without materialising every match. A longer word is a range of
// terms that is merged first: a few milliseconds for a common family name
// at 1M applicants ("fernández": 2.8 ms), 17–29 ms for a letters-and-one-
// digit word ("nakamura7", whose digit is such a prefix). A one-character word
// is a whole word instead ("o" of "O'Brien", an initial): the index has
// no one-character prefixes, and the prefix query had to merge every term
// starting with that character (refs and hex ids among them, when they
// shared the table) before the first row (measured at 1M applicants:
// 42 ms for "o'brien", 0.3 ms now). A one-character prefix index instead
// cost a 1M bulk seed 11 s more CPU in a trial.
func prefixTerm(w string) string {
	if wholeWord(w) {
		return `"` + w + `"`
	}
	return `"` + w + `"*`
}

// wholeWord reports whether the search matches w only as a whole word.
func wholeWord(w string) bool { return utf8.RuneCountInString(w) == 1 }

// OnlyWholeWords reports whether a search for q matches nothing by how it
// begins: it has words, and each is one character. The applicants list,
// which searches as one types, says so on the first keystroke.
func OnlyWholeWords(q string) bool {
	words := searchWords(q)
	for _, w := range words {
		if !wholeWord(w) {
			return false
		}
	}
	return len(words) > 0
}

// searchWords are the words of what a user typed that a search uses:
// runs of letters, digits, '-' and '_', lower-cased, at most 8 of them,
// from the first 200 bytes.
func searchWords(s string) []string {
	if len(s) > 200 {
		s = s[:200]
	}
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_')
	})
	return words[:min(len(words), 8)]
}

// RefPrefixMin is how many characters of a ref or provider id a search
// needs to match it by how it begins; shorter words match a whole word
// ("did", "eth"). The refs table has no prefix indexes (db/search.go), so
// a prefix is a range of index terms merged before the first row, and
// nearly every ref is a term: at 1M applicants "kd-b" would be 31,000 of
// them and "kd-b32" about 30. Ids that share a long prefix (hex ids with
// leading zeros) would cost more, as a long name prefix does
// (prefixTerm).
const RefPrefixMin = 6

// refWholeWord reports whether the refs table matches w only as a whole
// word: it is shorter than RefPrefixMin.
func refWholeWord(w string) bool { return utf8.RuneCountInString(w) < RefPrefixMin }

// RefTooShort reports whether a search for q has a word that could begin
// a ref or provider id but is too short to find one by its beginning
// (one character is a whole word everywhere: OnlyWholeWords).
func RefTooShort(q string) bool {
	return slices.ContainsFunc(searchWords(q), func(w string) bool { return !wholeWord(w) && refWholeWord(w) })
}

// refFTSQuery is ftsQuery for the refs table: each word a quoted term,
// a prefix from RefPrefixMin characters on, all terms required.
func refFTSQuery(s string) string {
	var terms []string
	for _, w := range searchWords(s) {
		if refWholeWord(w) {
			terms = append(terms, `"`+w+`"`)
		} else {
			terms = append(terms, `"`+w+`"*`)
		}
	}
	return strings.Join(terms, " AND ")
}

// ftsQuery turns what a user typed into a safe FTS5 query: each word
// (searchWords) becomes a quoted prefix term, all terms required.
// Operators and quotes a user types are never passed through.
func ftsQuery(s string) string {
	var terms []string
	for _, w := range searchWords(s) {
		// Emails are indexed with letters and digits apart (searchEmail):
		// "schmidt96" also matches as the word "schmidt" then "96…".
		if letters, digits, ok := splitLettersDigits(w); ok {
			// The digits stay a prefix even when one ("schmidt9" finds
			// schmidt96, as typed so far), at the cost of the merge above.
			terms = append(terms, `(`+prefixTerm(w)+` OR ("`+letters+`" "`+digits+`"*))`)
			continue
		}
		terms = append(terms, prefixTerm(w))
	}
	// Explicit ANDs: FTS5 does not take an implicit AND after a group.
	return strings.Join(terms, " AND ")
}
