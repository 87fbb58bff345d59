package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Retention outcomes: what a provider link ended in, as a retention rule
// sees it. Abandoned is every link without a terminal outcome (invited, in
// progress, waiting for review, expired): its rule counts N days without
// any event.
const (
	OutcomeApproved           = "approved"
	OutcomeRejected           = "rejected"
	OutcomeWithdrawn          = "withdrawn"
	OutcomeAbandoned          = "abandoned"
	OutcomeProviderWithdrawal = "provider_withdrawal"
)

// RetentionOutcomes lists the outcomes a rule can name, in display order.
var RetentionOutcomes = []string{OutcomeApproved, OutcomeRejected, OutcomeWithdrawn, OutcomeAbandoned, OutcomeProviderWithdrawal}

// RetentionAny is the provider of the fallback rules.
const RetentionAny = "any"

// RetentionProviders lists the providers a rule can name, the fallback
// first.
var RetentionProviders = []string{RetentionAny, "blockpass", "corepass", "verifyyou", "selfkey", "idfy"}

// MaxRetentionDays bounds a rule (100 years).
const MaxRetentionDays = 36500

const day = 24 * time.Hour

// outcomeOf maps a normalised status to the outcome retention keys on.
func outcomeOf(status string) string {
	switch status {
	case "approved":
		return OutcomeApproved
	case "rejected", "blocked", "failed":
		return OutcomeRejected
	case "withdrawn":
		return OutcomeWithdrawn
	}
	return OutcomeAbandoned
}

// RetentionRule keeps personal data Days days after the last event of an
// applicant whose link with Provider ended in Outcome.
type RetentionRule struct {
	Provider  string
	Outcome   string
	Days      int
	UpdatedAt time.Time
	UpdatedBy string
}

func validRule(r RetentionRule) bool {
	okP, okO := false, false
	for _, p := range RetentionProviders {
		okP = okP || p == r.Provider
	}
	for _, o := range RetentionOutcomes {
		okO = okO || o == r.Outcome
	}
	return okP && okO && r.Days >= 0 && r.Days <= MaxRetentionDays
}

// RetentionRules returns the policy.
func (d *DB) RetentionRules(ctx context.Context) ([]RetentionRule, error) {
	return retentionRules(ctx, d.read)
}

func retentionRules(ctx context.Context, q querier) ([]RetentionRule, error) {
	rows, err := q.QueryContext(ctx, "SELECT provider, outcome, days, updated_at, updated_by FROM retention_rules ORDER BY provider, outcome")
	if err != nil {
		return nil, fmt.Errorf("db: retention rules: %w", err)
	}
	defer rows.Close()
	var out []RetentionRule
	for rows.Next() {
		var r RetentionRule
		var at int64
		if err := rows.Scan(&r.Provider, &r.Outcome, &r.Days, &at, &r.UpdatedBy); err != nil {
			return nil, fmt.Errorf("db: retention rules: %w", err)
		}
		r.UpdatedAt = fromMillis(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetRetentionRules replaces the whole policy with rules (a rule absent
// means "keep"), audited with what changed. ErrInvalid for a rule naming
// an unknown provider or outcome, or days outside 0..MaxRetentionDays.
func (d *DB) SetRetentionRules(ctx context.Context, rules []RetentionRule, audit AuditEntry) error {
	want := map[string]int{}
	for _, r := range rules {
		if !validRule(r) {
			return fmt.Errorf("db: retention rule %s/%s %d days: %w", r.Provider, r.Outcome, r.Days, ErrInvalid)
		}
		want[r.Provider+"/"+r.Outcome] = r.Days
	}
	// Whatever happens, the list's badges read the rules afresh.
	defer d.badgePolicy.drop()
	return d.inTx(ctx, func(tx *sql.Tx) error {
		old, err := retentionRules(ctx, tx)
		if err != nil {
			return err
		}
		have := map[string]int{}
		for _, r := range old {
			have[r.Provider+"/"+r.Outcome] = r.Days
		}
		var changes []string
		for k, v := range have {
			if w, ok := want[k]; !ok {
				changes = append(changes, fmt.Sprintf("%s %dd->keep", k, v))
			} else if w != v {
				changes = append(changes, fmt.Sprintf("%s %dd->%dd", k, v, w))
			}
		}
		for k, w := range want {
			if _, ok := have[k]; !ok {
				changes = append(changes, fmt.Sprintf("%s keep->%dd", k, w))
			}
		}
		if len(changes) == 0 {
			return nil
		}
		sort.Strings(changes)
		if _, err := tx.ExecContext(ctx, "DELETE FROM retention_rules"); err != nil {
			return fmt.Errorf("db: set retention rules: %w", err)
		}
		now := d.millis()
		for _, r := range rules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO retention_rules(provider, outcome, days, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT(provider, outcome) DO UPDATE SET days = excluded.days`, r.Provider, r.Outcome, r.Days, now, audit.Actor); err != nil {
				return fmt.Errorf("db: set retention rules: %w", err)
			}
		}
		audit.Action, audit.Object, audit.Detail = "retention.rules", "retention", strings.Join(changes, "; ")
		return d.appendAudit(ctx, tx, &audit)
	})
}

// SetLegalHold places or lifts a legal hold on an applicant: while on
// hold, nothing archives it (neither staff nor the retention job; the
// database refuses too). Audited with the reason. ErrArchived when the
// applicant is already archived.
func (d *DB) SetLegalHold(ctx context.Context, applicantID int64, on bool, reason string, audit AuditEntry) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var archived sql.NullInt64
		var hold bool
		err := tx.QueryRowContext(ctx, "SELECT archived_at, legal_hold FROM applicants WHERE id = ?", applicantID).Scan(&archived, &hold)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("db: legal hold: applicant %d: %w", applicantID, ErrNotFound)
		case err != nil:
			return fmt.Errorf("db: legal hold: %w", err)
		case archived.Valid:
			return fmt.Errorf("db: legal hold: applicant %d: %w", applicantID, ErrArchived)
		case hold == on:
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE applicants SET legal_hold = ? WHERE id = ?", on, applicantID); err != nil {
			return fmt.Errorf("db: legal hold: %w", err)
		}
		audit.Action, audit.Object = "applicant.legal_hold", fmt.Sprintf("applicant:%d", applicantID)
		audit.Detail = "lifted"
		if on {
			audit.Detail = "placed"
		}
		if reason = strings.TrimSpace(reason); reason != "" {
			audit.Detail += ": " + reason
		}
		return d.appendAudit(ctx, tx, &audit)
	})
}

// RetentionPlan is when an applicant's personal data is due for archiving
// under the policy.
type RetentionPlan struct {
	ApplicantID int64
	Ref         string
	LastEvent   time.Time
	Held        bool
	Archived    bool
	// DueAt is when the data is due; zero when no rule covers every
	// provider link of the applicant (Kept says which is missing).
	DueAt time.Time
	Rule  string // the rule that sets DueAt, e.g. retention:blockpass/approved/365d
	Kept  string
}

// Due reports whether the retention job archives the applicant at now.
func (p RetentionPlan) Due(now time.Time) bool {
	return !p.Archived && !p.Held && !p.DueAt.IsZero() && !p.DueAt.After(now)
}

// policy is the rules by provider/outcome, for planning.
type policy map[string]int

func (p policy) days(provider, outcome string) (int, string, bool) {
	if d, ok := p[provider+"/"+outcome]; ok {
		return d, provider, true
	}
	if d, ok := p[RetentionAny+"/"+outcome]; ok {
		return d, RetentionAny, true
	}
	return 0, "", false
}

func loadPolicy(ctx context.Context, q querier) (policy, error) {
	rules, err := retentionRules(ctx, q)
	if err != nil {
		return nil, err
	}
	p := policy{}
	for _, r := range rules {
		p[r.Provider+"/"+r.Outcome] = r.Days
	}
	return p, nil
}

// policyCache keeps the policy for RetentionPlans, which the list page
// calls on every load (a query each time was a twentieth of a list
// request). Rules change rarely and only through SetRetentionRules, which
// drops the copy; a copy is also never older than policyCacheTTL, in case
// another process changed the rules. The retention job, which archives,
// always reads the rules afresh.
type policyCache struct {
	mu sync.Mutex
	p  policy
	at time.Time // zero: nothing cached
}

const policyCacheTTL = 5 * time.Second

// get uses the wall clock, not the store's (tests pin that one): the TTL
// is about other processes, which live in real time.
func (c *policyCache) get(load func() (policy, error)) (policy, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < policyCacheTTL {
		return c.p, nil
	}
	p, err := load()
	if err != nil {
		return nil, err
	}
	c.p, c.at = p, time.Now()
	return p, nil
}

func (c *policyCache) drop() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

// planPart is one provider link of an applicant as planning sees it.
type planPart struct {
	provider, status string
	withdrawnAt      sql.NullInt64
}

// plan computes one applicant's deadline from its links.
//
// The deadline is the latest over its links (the data is kept while any
// rule still asks to keep it), each link counting its outcome's days from
// the applicant's last event. A provider-side withdrawal with a rule of
// its own overrides that: the earliest withdrawal deadline applies (the
// person withdrew; the withdrawal rule says how long we may keep the data
// after that). A link no rule covers keeps the applicant.
func (p policy) plan(pl *RetentionPlan, status string, parts []planPart) {
	if len(parts) == 0 {
		parts = []planPart{{provider: RetentionAny, status: status}}
	}
	var withdrawal time.Time
	for _, part := range parts {
		if !part.withdrawnAt.Valid {
			continue
		}
		days, from, ok := p.days(part.provider, OutcomeProviderWithdrawal)
		if !ok {
			continue
		}
		due := fromMillis(part.withdrawnAt.Int64).Add(time.Duration(days) * day)
		if withdrawal.IsZero() || due.Before(withdrawal) {
			withdrawal = due
			pl.Rule = fmt.Sprintf("withdrawal:%s/%dd", from, days)
			if from == RetentionAny {
				pl.Rule = fmt.Sprintf("withdrawal:%s(any)/%dd", part.provider, days)
			}
		}
	}
	if !withdrawal.IsZero() {
		pl.DueAt = withdrawal
		return
	}
	var latest time.Time
	for _, part := range parts {
		outcome := outcomeOf(part.status)
		days, from, ok := p.days(part.provider, outcome)
		if !ok {
			pl.DueAt, pl.Rule, pl.Kept = time.Time{}, "", "no rule for "+part.provider+" "+outcome
			return
		}
		due := pl.LastEvent.Add(time.Duration(days) * day)
		if latest.IsZero() || due.After(latest) {
			latest = due
			pl.Rule = fmt.Sprintf("retention:%s/%s/%dd", from, outcome, days)
		}
	}
	pl.DueAt = latest
}

// planApplicants streams the applicants the where clause selects (on alias
// a) with their links and withdrawals, and computes each one's plan.
func planApplicants(ctx context.Context, q querier, p policy, where string, args []any, each func(RetentionPlan) error) error {
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.ref, a.status, a.legal_hold, a.archived_at,
		COALESCE((SELECT max(e.at) FROM verification_events e WHERE e.applicant_id = a.id), a.created_at),
		COALESCE(l.provider, ''), COALESCE(l.status, ''), w.at
		FROM applicants a
		LEFT JOIN provider_links l ON l.applicant_id = a.id
		LEFT JOIN retention_withdrawals w ON w.applicant_id = a.id AND w.provider = l.provider
		WHERE `+where+` ORDER BY a.id`, args...)
	if err != nil {
		return fmt.Errorf("db: retention plan: %w", err)
	}
	defer rows.Close()
	var cur RetentionPlan
	var curStatus string
	var parts []planPart
	flush := func() error {
		if cur.ApplicantID == 0 {
			return nil
		}
		if !cur.Archived {
			p.plan(&cur, curStatus, parts)
		}
		return each(cur)
	}
	for rows.Next() {
		var id, last int64
		var ref, status, provider, linkStatus string
		var hold bool
		var archived, withdrawn sql.NullInt64
		if err := rows.Scan(&id, &ref, &status, &hold, &archived, &last, &provider, &linkStatus, &withdrawn); err != nil {
			return fmt.Errorf("db: retention plan: %w", err)
		}
		if id != cur.ApplicantID {
			if err := flush(); err != nil {
				return err
			}
			cur = RetentionPlan{ApplicantID: id, Ref: ref, LastEvent: fromMillis(last), Held: hold, Archived: archived.Valid}
			curStatus, parts = status, parts[:0]
		}
		if provider != "" {
			parts = append(parts, planPart{provider: provider, status: linkStatus, withdrawnAt: withdrawn})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: retention plan: %w", err)
	}
	return flush()
}

// idList renders ids for an IN clause (they are integers: no injection).
func idList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// RetentionPlans returns the plans of the given applicants (a page of the
// list, just read), keyed by id.
func (d *DB) RetentionPlans(ctx context.Context, applicants []Applicant) (map[int64]RetentionPlan, error) {
	out := make(map[int64]RetentionPlan, len(applicants))
	if len(applicants) == 0 {
		return out, nil
	}
	p, err := d.badgePolicy.get(func() (policy, error) { return loadPolicy(ctx, d.read) })
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		// No rule: nothing is ever due, and what a plan then says (held,
		// archived) is on the rows already; LastEvent stays zero, as
		// nothing counts from it. The list page asks on every
		// load; this spares it a second query.
		for _, a := range applicants {
			out[a.ID] = RetentionPlan{ApplicantID: a.ID, Ref: a.Ref, Held: a.LegalHold, Archived: a.Archived()}
		}
		return out, nil
	}
	ids := make([]int64, len(applicants))
	for i, a := range applicants {
		ids[i] = a.ID
	}
	// The ids go in as one JSON parameter, so the statement text is the
	// same for every page and its prepared form is reused.
	list, _ := json.Marshal(ids)
	err = planApplicants(ctx, d.read, p, "a.id IN (SELECT value FROM json_each(?))", []any{string(list)}, func(pl RetentionPlan) error {
		out[pl.ApplicantID] = pl
		return nil
	})
	return out, err
}

// RetentionDue lists the applicants the policy archives at now, oldest
// deadline first, at most limit (0 = all).
func (d *DB) RetentionDue(ctx context.Context, now time.Time, limit int) ([]RetentionPlan, error) {
	return retentionDue(ctx, d.read, now, limit)
}

func retentionDue(ctx context.Context, q querier, now time.Time, limit int) ([]RetentionPlan, error) {
	p, err := loadPolicy(ctx, q)
	if err != nil || len(p) == 0 {
		return nil, err
	}
	// Nothing is due before the shortest rule has run out since the last
	// event, unless a withdrawal counts from its own date.
	shortest := MaxRetentionDays
	for _, days := range p {
		shortest = min(shortest, days)
	}
	cutoff := now.Add(-time.Duration(shortest) * day).UnixMilli()
	var due []RetentionPlan
	err = planApplicants(ctx, q, p, `a.archived_at IS NULL AND a.legal_hold = 0
		AND (COALESCE((SELECT max(e.at) FROM verification_events e WHERE e.applicant_id = a.id), a.created_at) <= ?
			OR EXISTS (SELECT 1 FROM retention_withdrawals w2 WHERE w2.applicant_id = a.id))`, []any{cutoff},
		func(pl RetentionPlan) error {
			if pl.Due(now) {
				due = append(due, pl)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(due, func(i, j int) bool { return due[i].DueAt.Before(due[j].DueAt) })
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

// RetentionRun configures RunRetention.
type RetentionRun struct {
	Now    time.Time // the job's clock; zero = the store's clock
	DryRun bool      // list what is due, archive nothing
	Limit  int       // at most this many applicants per run (0 = all)
}

// RetentionReport is what one retention run did.
type RetentionReport struct {
	At         time.Time
	DryRun     bool
	Due        []RetentionPlan
	Archived   []Receipt
	Skipped    int // due when listed, no longer due inside the transaction
	Checkpoint CheckpointResult
}

// retentionLastRun is the settings key of the last run's summary.
const retentionLastRun = "retention.last_run"

// RunRetention archives every applicant the policy says is due at now,
// each re-checked inside its batch's transaction (a new event or a legal
// hold since the listing wins), then truncates the WAL. A dry run only
// lists.
func (d *DB) RunRetention(ctx context.Context, opt RetentionRun) (RetentionReport, error) {
	now := opt.Now
	if now.IsZero() {
		now = d.now()
	}
	rep := RetentionReport{At: now, DryRun: opt.DryRun}
	due, err := d.RetentionDue(ctx, now, opt.Limit)
	if err != nil {
		return rep, err
	}
	rep.Due = due
	if opt.DryRun {
		return rep, nil
	}
	items := make([]archiveItem, len(due))
	for i, pl := range due {
		items[i] = archiveItem{id: pl.ApplicantID, req: ArchiveRequest{Rule: pl.Rule, Reason: "retention policy", Audit: AuditEntry{Actor: "system"}}}
	}
	var res BulkArchive
	recheck := func(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]bool, error) {
		p, err := loadPolicy(ctx, tx)
		if err != nil {
			return nil, err
		}
		keep := map[int64]bool{}
		err = planApplicants(ctx, tx, p, "a.id IN ("+idList(ids)+")", nil, func(pl RetentionPlan) error {
			keep[pl.ApplicantID] = pl.Due(now)
			return nil
		})
		return keep, err
	}
	err = d.archiveItems(ctx, items, &res, recheck)
	if ferr := d.forgetArchivedRefs(ctx, now); ferr != nil && err == nil {
		err = ferr
	}
	rep.Archived = res.Receipts
	rep.Skipped = len(due) - len(res.Receipts)
	// The summary first: the checkpoint then leaves the WAL empty.
	summary, _ := json.Marshal(RetentionRunInfo{At: now, Due: len(due), Archived: len(res.Receipts), Error: errString(err)})
	_, _ = d.write.ExecContext(context.WithoutCancel(ctx), `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, retentionLastRun, string(summary))
	var pending int
	_ = d.read.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", checkpointPending).Scan(&pending)
	if len(res.Receipts) > 0 || pending > 0 {
		rep.Checkpoint = d.checkpointAfterArchive(ctx)
	}
	return rep, err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// RetentionRunInfo summarises the last retention run.
type RetentionRunInfo struct {
	At       time.Time `json:"at"`
	Due      int       `json:"due"`
	Archived int       `json:"archived"`
	Error    string    `json:"error,omitempty"`
}

// LastRetentionRun returns the last run's summary (zero At: never ran).
func (d *DB) LastRetentionRun(ctx context.Context) (RetentionRunInfo, error) {
	var v string
	err := d.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", retentionLastRun).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return RetentionRunInfo{}, nil
	}
	if err != nil {
		return RetentionRunInfo{}, fmt.Errorf("db: last retention run: %w", err)
	}
	var info RetentionRunInfo
	if err := json.Unmarshal([]byte(v), &info); err != nil {
		return RetentionRunInfo{}, fmt.Errorf("db: last retention run: %w", err)
	}
	return info, nil
}

// WithdrawalResult is what ApplyWithdrawal did.
type WithdrawalResult struct {
	Plan     RetentionPlan // the applicant's plan after the withdrawal
	Archived bool
	Receipt  Receipt // set when Archived
}

// ApplyWithdrawal records a provider-side withdrawal (VerifyYou
// connection_deleted, Blockpass user.deleted, ...) for an applicant and
// applies the withdrawal rule at once: if it makes the applicant due now
// (e.g. a 0-day rule), the applicant is archived in the same transaction;
// otherwise the retention job archives it when due. Only the first
// withdrawal per applicant and provider counts. A legal hold still wins.
// The provider flows call this after storing the event on the timeline.
func (d *DB) ApplyWithdrawal(ctx context.Context, applicantID int64, provider, event string, at time.Time) (WithdrawalResult, error) {
	var res WithdrawalResult
	if at.IsZero() {
		at = d.now()
	}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		res = WithdrawalResult{}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM applicants WHERE id = ?", applicantID).Scan(&n); err != nil {
			return fmt.Errorf("db: apply withdrawal: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("db: apply withdrawal: applicant %d: %w", applicantID, ErrNotFound)
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO retention_withdrawals(applicant_id, provider, event, at) VALUES (?, ?, ?, ?)
			ON CONFLICT(applicant_id, provider) DO NOTHING`, applicantID, provider, event, at.UnixMilli())
		if err != nil {
			return fmt.Errorf("db: apply withdrawal: %w", err)
		}
		if added, _ := r.RowsAffected(); added == 1 {
			audit := AuditEntry{Actor: "system", Action: "retention.withdrawal", Object: fmt.Sprintf("applicant:%d", applicantID),
				Detail: "provider=" + provider + " event=" + event}
			if err := d.appendAudit(ctx, tx, &audit); err != nil {
				return err
			}
		}
		p, err := loadPolicy(ctx, tx)
		if err != nil {
			return err
		}
		err = planApplicants(ctx, tx, p, "a.id = ?", []any{applicantID}, func(pl RetentionPlan) error {
			res.Plan = pl
			return nil
		})
		if err != nil || !res.Plan.Due(d.now()) {
			return err
		}
		sch, err := readArchiveSchema(ctx, tx)
		if err != nil {
			return err
		}
		defer sch.close()
		res.Receipt, err = d.archiveTx(ctx, tx, sch, applicantID, ArchiveRequest{Rule: res.Plan.Rule,
			Reason: "withdrawn at " + provider + " (" + event + ")", Audit: AuditEntry{Actor: "system"}})
		if err != nil {
			return err
		}
		res.Archived = true
		return sch.finish(ctx)
	})
	if err != nil {
		return WithdrawalResult{}, err
	}
	if res.Archived {
		res.Plan.Archived = true
		d.checkpointAfterArchive(ctx)
	}
	return res, nil
}

// ProviderCopy is what we know of the copy a provider keeps of one
// applicant's data, read from what the provider flows stored:
//   - certificates named willArchiveAt or willArchiveAtDate (Blockpass
//     "archive after extract"), purgeAt or purge_at (IDfy), as RFC 3339 or
//     YYYY-MM-DD: DeletesAt; isArchived = "true" (Blockpass): Deleted;
//   - blockpass_records.will_archive_at / is_archived / archived_seen_at,
//     when that table exists;
//   - a timeline event with provider status "purged" (IDfy): Deleted then;
//   - retention_withdrawals: the provider-side withdrawal.
type ProviderCopy struct {
	Provider       string
	DeletesAt      time.Time // the provider said it deletes its copy then
	Deleted        bool      // the provider reported its copy deleted
	DeletedAt      time.Time // when we learnt it (zero if unknown)
	Withdrawn      time.Time // a provider-side withdrawal, if any
	WithdrawnEvent string
}

// ProviderCopies returns one ProviderCopy per provider the applicant is
// linked with, by provider name.
func (d *DB) ProviderCopies(ctx context.Context, applicantID int64) ([]ProviderCopy, error) {
	links, err := d.ProviderLinks(ctx, applicantID)
	if err != nil {
		return nil, err
	}
	byProvider := map[string]*ProviderCopy{}
	out := make([]ProviderCopy, len(links))
	for i, l := range links {
		out[i].Provider = l.Provider
		byProvider[l.Provider] = &out[i]
	}
	certs, err := d.Certificates(ctx, applicantID)
	if err != nil {
		return nil, err
	}
	for _, c := range certs {
		pc := byProvider[c.Provider]
		if pc == nil {
			continue
		}
		switch c.Name {
		case "willArchiveAt", "willArchiveAtDate", "purgeAt", "purge_at":
			if t, ok := parseProviderTime(c.Value); ok && (pc.DeletesAt.IsZero() || t.After(pc.DeletesAt)) {
				pc.DeletesAt = t
			}
		case "isArchived":
			if strings.EqualFold(strings.TrimSpace(c.Value), "true") {
				pc.Deleted = true
				if pc.DeletedAt.IsZero() || c.CreatedAt.Before(pc.DeletedAt) {
					pc.DeletedAt = c.CreatedAt
				}
			}
		}
	}
	if pc := byProvider["blockpass"]; pc != nil {
		var n int
		if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'blockpass_records'").Scan(&n); err != nil {
			return nil, fmt.Errorf("db: provider copies: %w", err)
		}
		if n > 0 {
			var will, seen sql.NullInt64
			var archived sql.NullBool
			err := d.read.QueryRowContext(ctx, `SELECT max(will_archive_at), max(is_archived), min(archived_seen_at)
				FROM blockpass_records WHERE applicant_id = ?`, applicantID).Scan(&will, &archived, &seen)
			if err != nil {
				return nil, fmt.Errorf("db: provider copies: %w", err)
			}
			if will.Valid && fromMillis(will.Int64).After(pc.DeletesAt) {
				pc.DeletesAt = fromMillis(will.Int64)
			}
			if archived.Bool {
				pc.Deleted = true
				if seen.Valid {
					pc.DeletedAt = fromMillis(seen.Int64)
				}
			}
		}
	}
	rows, err := d.read.QueryContext(ctx, `SELECT provider, min(at) FROM verification_events
		WHERE applicant_id = ? AND provider = 'idfy' AND provider_status = 'purged' GROUP BY provider`, applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: provider copies: %w", err)
	}
	for rows.Next() {
		var p string
		var at int64
		if err := rows.Scan(&p, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("db: provider copies: %w", err)
		}
		if pc := byProvider[p]; pc != nil {
			pc.Deleted, pc.DeletedAt = true, fromMillis(at)
		}
	}
	rows.Close()
	rows, err = d.read.QueryContext(ctx, "SELECT provider, event, at FROM retention_withdrawals WHERE applicant_id = ?", applicantID)
	if err != nil {
		return nil, fmt.Errorf("db: provider copies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p, event string
		var at int64
		if err := rows.Scan(&p, &event, &at); err != nil {
			return nil, fmt.Errorf("db: provider copies: %w", err)
		}
		if pc := byProvider[p]; pc != nil {
			pc.Withdrawn, pc.WithdrawnEvent = fromMillis(at), event
		}
	}
	return out, rows.Err()
}

func parseProviderTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
		if ms < 1e12 { // seconds
			ms *= 1000
		}
		return fromMillis(ms), true
	}
	return time.Time{}, false
}

// retentionScheduleKey is the settings key of the job's interval.
const retentionScheduleKey = "retention.interval"

// SetRetentionSchedule records how often the retention job runs (0: it
// does not), for the admin page to say.
func (d *DB) SetRetentionSchedule(ctx context.Context, every time.Duration) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, retentionScheduleKey, every.String())
	if err != nil {
		return fmt.Errorf("db: retention schedule: %w", err)
	}
	return nil
}

// RetentionSchedule returns the interval the job last started with, and
// false if no job has started.
func (d *DB) RetentionSchedule(ctx context.Context) (time.Duration, bool, error) {
	var v string
	err := d.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", retentionScheduleKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("db: retention schedule: %w", err)
	}
	every, err := time.ParseDuration(v)
	if err != nil {
		return 0, false, fmt.Errorf("db: retention schedule: %w", err)
	}
	return every, true, nil
}
