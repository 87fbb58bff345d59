package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/envconfig"
)

// Blockpass sync settings.
const (
	// EnvBlockpassSyncInterval sets how often the scheduled sync runs: a Go
	// duration ("15m", "1h"), a number of minutes ("30"), or "off" (only on
	// demand).
	EnvBlockpassSyncInterval = "KYCDESK_BLOCKPASS_SYNC_INTERVAL"
	// DefaultBlockpassSyncInterval is the scheduled sync's period.
	DefaultBlockpassSyncInterval = 15 * time.Minute
	// MinBlockpassSyncInterval keeps a misconfigured schedule from hammering
	// Blockpass's rate limit.
	MinBlockpassSyncInterval = time.Minute
	// DefaultBlockpassPoll is how often the job looks for requested runs and
	// for withdrawals to hand to the retention policy.
	DefaultBlockpassPoll = 2 * time.Second
	// CertWillArchiveAt names the certificate holding the date (RFC 3339)
	// after which Blockpass will have deleted its copy of the identity data.
	CertWillArchiveAt = "willArchiveAt"
	// blockpassJobName is the job_state row of the sync.
	blockpassJobName = "blockpass.sync"
	// blockpassHeartbeat is how often a running sync reports that it is
	// alive, also while it waits out a rate limit; a run silent for
	// blockpassStale is taken for dead.
	blockpassHeartbeat = 20 * time.Second
	blockpassStale     = 2 * time.Minute
	// blockpassMaxFailuresInARow aborts a sync that fails on every
	// candidate: the cause is not the candidates.
	blockpassMaxFailuresInARow = 20
)

// BlockpassClient returns the configured Blockpass client, if any.
func BlockpassClient(r *providers.Registry) (*blockpass.Client, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.Get(providers.Blockpass)
	if !ok {
		return nil, false
	}
	c, ok := a.Refresher.(*blockpass.Client)
	return c, ok
}

// BlockpassSyncOptions configure the Blockpass background job.
type BlockpassSyncOptions struct {
	// Interval is the scheduled sync's period; 0 means
	// DefaultBlockpassSyncInterval and a negative value no schedule (on
	// demand only).
	Interval time.Duration
	// Poll is how often requested runs and withdrawals are looked for
	// (DefaultBlockpassPoll).
	Poll time.Duration
	// PageSize is the listing's page size (blockpass.DefaultPageSize).
	PageSize int
}

// ParseBlockpassSyncInterval reads EnvBlockpassSyncInterval's value: empty
// is the default, "off" (or "0") turns the schedule off, a bare number is
// minutes, anything else a Go duration of at least
// MinBlockpassSyncInterval.
func ParseBlockpassSyncInterval(v string) (time.Duration, error) {
	d, err := envconfig.Interval{Name: EnvBlockpassSyncInterval, Default: DefaultBlockpassSyncInterval,
		Min: MinBlockpassSyncInterval, Off: true, BareUnit: time.Minute}.Parse(v)
	if err == nil && d == 0 {
		return -1, nil // off; 0 in the options means the default
	}
	return d, err
}

// BlockpassSyncOptionsFromEnv reads the job's options through getenv. An
// invalid interval is logged as an error and the default used, so that a
// typo does not silently switch the sync off.
func BlockpassSyncOptionsFromEnv(getenv func(string) string, logger *slog.Logger) BlockpassSyncOptions {
	d, err := ParseBlockpassSyncInterval(getenv(EnvBlockpassSyncInterval))
	if err != nil {
		logger.Error("blockpass sync: invalid interval; using the default", "err", err, "default", DefaultBlockpassSyncInterval)
		d = DefaultBlockpassSyncInterval
	}
	return BlockpassSyncOptions{Interval: d}
}

func (o BlockpassSyncOptions) withDefaults() BlockpassSyncOptions {
	if o.Interval == 0 {
		o.Interval = DefaultBlockpassSyncInterval
	}
	if o.Poll <= 0 {
		o.Poll = DefaultBlockpassPoll
	}
	if o.PageSize <= 0 {
		o.PageSize = blockpass.DefaultPageSize
	}
	return o
}

// RunBlockpassSync is the Blockpass background job: until ctx ends it
// hands withdrawals (user.deleted) to the retention policy, queues the
// scheduled sync when it is due, and runs queued syncs (staff ask for one
// from the admin page). Without a Blockpass client it returns at once.
func (s *Service) RunBlockpassSync(ctx context.Context, opts BlockpassSyncOptions) {
	c, ok := BlockpassClient(s.Registry)
	if !ok {
		return
	}
	opts = opts.withDefaults()
	t := time.NewTicker(opts.Poll)
	defer t.Stop()
	for {
		s.blockpassTick(ctx, c, opts)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// blockpassTick is one round of the job.
func (s *Service) blockpassTick(ctx context.Context, c *blockpass.Client, opts BlockpassSyncOptions) {
	if _, err := s.ApplyBlockpassWithdrawals(ctx); err != nil && ctx.Err() == nil {
		s.Logger.Error("blockpass: withdrawals", "err", err)
	}
	if opts.Interval > 0 {
		last, err := s.DB.LastBlockpassSyncRequest(ctx)
		if err == nil && (last.IsZero() || !s.Now().Before(last.Add(opts.Interval))) {
			_, _, err = s.DB.RequestBlockpassSync(ctx, db.SyncSchedule, s.Now().Add(-blockpassStale), db.AuditEntry{})
		}
		if err != nil && ctx.Err() == nil {
			s.Logger.Error("blockpass: schedule sync", "err", err)
		}
	}
	if _, _, err := s.RunQueuedBlockpassSync(ctx, c, opts.PageSize); err != nil && ctx.Err() == nil {
		s.Logger.Error("blockpass: sync", "err", err)
	}
}

// RequestBlockpassSync queues a sync on behalf of a staff member (audited),
// unless one is already queued or running; it returns that run and whether
// it was queued now.
func (s *Service) RequestBlockpassSync(ctx context.Context, actor Actor) (db.BlockpassSyncRun, bool, error) {
	if _, ok := BlockpassClient(s.Registry); !ok {
		return db.BlockpassSyncRun{}, false, fmt.Errorf("flow: blockpass sync: %w", ErrUnknownProvider)
	}
	return s.DB.RequestBlockpassSync(ctx, db.SyncManual, s.Now().Add(-blockpassStale), actor.audit())
}

// RunQueuedBlockpassSync claims the queued sync, if there is one, runs it
// to the end and records the outcome. ran is false when nothing was queued.
// The error is the run's own (also stored with the run) or the store's.
func (s *Service) RunQueuedBlockpassSync(ctx context.Context, c *blockpass.Client, pageSize int) (run db.BlockpassSyncRun, ran bool, err error) {
	runs, err := s.DB.BlockpassSyncRuns(ctx, 1)
	if err != nil || len(runs) == 0 || !runs[0].Active() {
		// Nothing waits: no write transaction every poll.
		return db.BlockpassSyncRun{}, false, err
	}
	run, ok, err := s.DB.ClaimBlockpassSync(ctx, s.Now().Add(-blockpassStale))
	if err != nil || !ok {
		return run, false, err
	}
	counts, runErr := s.syncWithHeartbeat(ctx, c, run.ID, pageSize)
	if ctx.Err() != nil {
		// Shutting down: the run is left running and is taken for dead
		// (and failed) once its heartbeat is stale.
		return run, true, ctx.Err()
	}
	if err := s.DB.FinishBlockpassSync(ctx, run.ID, counts, runErr); err != nil {
		return run, true, err
	}
	cursor := fmt.Sprintf("run=%d seen=%d created=%d changed=%d", run.ID, counts.Seen, counts.Created, counts.Changed)
	if err := s.DB.SetJobState(ctx, blockpassJobName, cursor, runErr); err != nil {
		return run, true, err
	}
	run, err = s.DB.BlockpassSyncRun(ctx, run.ID)
	if err != nil {
		return run, true, err
	}
	if runErr != nil {
		return run, true, runErr
	}
	return run, true, nil
}

// syncWithHeartbeat runs SyncBlockpass, writing the counts to the run after
// every page and every blockpassHeartbeat, so that the admin page's
// progress bar moves and a long wait on a rate limit is not taken for a
// dead worker.
func (s *Service) syncWithHeartbeat(ctx context.Context, c *blockpass.Client, runID int64, pageSize int) (db.SyncCounts, error) {
	var mu sync.Mutex
	var latest db.SyncCounts
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(blockpassHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				mu.Lock()
				counts := latest
				mu.Unlock()
				if err := s.DB.ProgressBlockpassSync(ctx, runID, counts); err != nil && ctx.Err() == nil {
					s.Logger.Warn("blockpass: sync heartbeat", "err", err)
				}
			}
		}
	}()
	counts, err := s.SyncBlockpass(ctx, c, pageSize, func(counts db.SyncCounts) {
		mu.Lock()
		latest = counts
		mu.Unlock()
		if err := s.DB.ProgressBlockpassSync(ctx, runID, counts); err != nil && ctx.Err() == nil {
			s.Logger.Warn("blockpass: sync progress", "err", err)
		}
	})
	close(done)
	wg.Wait()
	return counts, err
}

// SyncBlockpass takes every Blockpass candidate in, streaming the listing
// page by page (only one page is ever held): a candidate we do not know
// becomes an applicant, a changed one updates its verification (a timeline
// event with the verbatim status, and the identity data extracted again
// while Blockpass still has it), an unchanged one costs one lookup and
// writes nothing. progress, if not nil, gets the counts after every page.
//
// It stops at the first error that is not the candidate's own (Blockpass
// refusing or unreachable once the client's retries are spent, the context
// ending), and after blockpassMaxFailuresInARow candidate failures in a
// row. A sync is safe to repeat: what it took in is recorded per record.
func (s *Service) SyncBlockpass(ctx context.Context, c *blockpass.Client, pageSize int, progress func(db.SyncCounts)) (db.SyncCounts, error) {
	if pageSize <= 0 {
		pageSize = blockpass.DefaultPageSize
	}
	y := &blockpassSyncer{s: s, c: c}
	first, err := c.List(ctx, "", 0, 1)
	if err != nil {
		return y.counts, err
	}
	y.counts.Total = first.Total
	report := func() {
		if progress != nil {
			progress(y.counts)
		}
	}
	report()
	err = c.Each(ctx, "", pageSize, func(cand blockpass.Candidate) error {
		y.counts.Seen++
		out, add, err := s.syncCandidate(ctx, c, cand, true)
		if add != nil {
			y.batch = append(y.batch, pendingAdd{listed: cand, add: *add, archived: out.archived})
			y.batchBytes += addSize(*add)
		} else if err := y.tally(ctx, cand, out, err); err != nil {
			return err
		}
		if len(y.batch) >= blockpassBatch || y.batchBytes >= blockpassBatchBytes || y.counts.Seen%pageSize == 0 {
			if err := y.flush(ctx); err != nil {
				return err
			}
		}
		if y.counts.Seen%pageSize == 0 {
			report()
		}
		return nil
	})
	if ferr := y.flush(ctx); err == nil {
		err = ferr
	}
	report()
	return y.counts, err
}

// Batching of new candidates: one transaction takes in up to
// blockpassBatch of them, or fewer once their documents pass
// blockpassBatchBytes, so a batch never holds much in memory.
const (
	blockpassBatch      = 50
	blockpassBatchBytes = 16 << 20
)

// blockpassSyncer is one sync's running state.
type blockpassSyncer struct {
	s          *Service
	c          *blockpass.Client
	counts     db.SyncCounts
	inARow     int
	batch      []pendingAdd
	batchBytes int
}

// addSize is roughly what an add holds in memory: its documents.
func addSize(n db.NewBlockpassCandidate) int {
	size := 0
	for _, d := range n.Documents {
		size += len(d.Data)
	}
	return size
}

// pendingAdd is a new candidate waiting for its batch's transaction.
type pendingAdd struct {
	listed   blockpass.Candidate
	add      db.NewBlockpassCandidate
	archived bool
}

// tally counts one candidate's outcome; it returns the error that ends the
// sync, if this one does.
func (y *blockpassSyncer) tally(ctx context.Context, cand blockpass.Candidate, out syncOutcome, err error) error {
	switch {
	case err == nil:
		y.inARow = 0
	case ctx.Err() != nil:
		return ctx.Err()
	case systemic(err):
		return err
	default:
		y.counts.Failed++
		y.inARow++
		y.s.Logger.Warn("blockpass: sync: candidate not taken in", "record_id", cand.RecordID, "err", err)
		if y.inARow >= blockpassMaxFailuresInARow {
			return fmt.Errorf("blockpass sync: %d candidates in a row failed, the last: %w", y.inARow, err)
		}
		return nil
	}
	switch {
	case out.created:
		y.counts.Created++
	case out.changed:
		y.counts.Changed++
	default:
		y.counts.Unchanged++
	}
	if out.archived {
		y.counts.Archived++
	}
	return nil
}

// flush takes the batch of new candidates in, in one transaction. If the
// transaction fails, they are taken in one at a time, so that one bad
// candidate costs only itself; one that a webhook took in meanwhile is
// synced as a known one.
func (y *blockpassSyncer) flush(ctx context.Context) error {
	if len(y.batch) == 0 {
		return nil
	}
	batch := y.batch
	y.batch, y.batchBytes = nil, 0
	adds := make([]db.NewBlockpassCandidate, len(batch))
	for i, p := range batch {
		adds[i] = p.add
	}
	res, err := y.s.DB.AddBlockpassCandidates(ctx, adds)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	for i, p := range batch {
		var conflict bool
		var addErr error
		if err == nil {
			conflict = res[i].Conflict
		} else {
			_, addErr = y.s.DB.AddBlockpassCandidate(ctx, p.add)
			conflict = errors.Is(addErr, db.ErrConflict)
		}
		out := syncOutcome{created: true, archived: p.archived}
		switch {
		case conflict:
			out, _, addErr = y.s.syncCandidate(ctx, y.c, p.listed, false)
		case addErr != nil:
			out = syncOutcome{}
		}
		if err := y.tally(ctx, p.listed, out, addErr); err != nil {
			return err
		}
	}
	return nil
}

// systemic reports whether err is about Blockpass or our reach of it rather
// than one candidate: every further call would fail the same way.
func systemic(err error) bool {
	var apiErr *providers.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatus != 404 && apiErr.HTTPStatus != 400
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// syncOutcome is what taking one candidate in did.
type syncOutcome struct {
	created  bool // a new applicant
	changed  bool // a recorded change (status, dates, archive date)
	archived bool // first seen archived at Blockpass
}

// syncCandidate takes one listed candidate in (see SyncBlockpass). A
// candidate we hold nothing of is returned as an add for the caller's
// batch when batch is set, else taken in at once.
func (s *Service) syncCandidate(ctx context.Context, c *blockpass.Client, listed blockpass.Candidate, batch bool) (syncOutcome, *db.NewBlockpassCandidate, error) {
	out, err := s.takeIn(ctx, c, listed, batch)
	return out.syncOutcome, out.add, err
}

// candidateResult is a syncOutcome, or an add still to make.
type candidateResult struct {
	syncOutcome
	add *db.NewBlockpassCandidate
}

// takeIn compares the listed candidate with what we last saw of it and,
// if anything changed, records the change (see SyncBlockpass).
func (s *Service) takeIn(ctx context.Context, c *blockpass.Client, listed blockpass.Candidate, batch bool) (candidateResult, error) {
	var out candidateResult
	if listed.RecordID == "" {
		return out, errors.New("listed candidate has no recordId")
	}
	prev, err := s.DB.BlockpassRecord(ctx, listed.RecordID)
	seen := err == nil
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return out, err
	}
	if seen && sameCandidate(prev, listed) {
		return out, nil
	}
	statusChanged := !seen || statusDiffers(prev, listed)

	// What we already hold: a verification (ours, or made by an earlier
	// sync), whether our copy is archived, and whether a webhook recorded
	// this very state before the sync got to it.
	exists, ourArchived, recorded := false, false, false
	if v, err := s.DB.VerificationByReference(ctx, string(providers.Blockpass), listed.RefID, listed.RecordID); err == nil {
		exists = true
		a, err := s.DB.Applicant(ctx, v.ApplicantID)
		if err != nil {
			return out, err
		}
		ourArchived = a.Archived()
		if recorded, err = s.alreadyRecorded(ctx, v, listed); err != nil {
			return out, err
		}
	} else if !errors.Is(err, db.ErrNotFound) {
		return out, err
	}

	// Identity data is fetched only when something changed, Blockpass still
	// has it, and we may still hold it.
	cand := listed
	fetched := false
	if statusChanged && !recorded && !listed.IsArchived && !ourArchived {
		full, err := c.ByRecordID(ctx, listed.RecordID)
		if blockpass.IsNotFound(err) {
			return out, nil // deleted since the listing; user.deleted says so
		}
		if err != nil {
			return out, err
		}
		cand, fetched = full, true
	}
	out.archived = cand.IsArchived && (!seen || !prev.IsArchived)

	u := blockpass.Extract(cand)
	var notes []string
	u.Documents, notes = gateDocuments(u.Documents)
	if at := cand.ArchiveAt(); !at.IsZero() {
		u.Certificates = append(u.Certificates, providers.Certificate{Name: CertWillArchiveAt, Value: at.UTC().Format(time.RFC3339)})
	}
	rec := recordOf(cand)
	if seen {
		rec.ArchivedSeenAt = prev.ArchivedSeenAt
	}
	if fetched && len(cand.Identities) > 0 {
		rec.ExtractedAt, rec.Attributes, rec.Documents = s.Now(), len(u.Attributes), len(u.Documents)
	}

	if !exists {
		// New to us: everything in one transaction (the caller's batch's).
		add := newCandidate(cand, u, syncDetail(true, cand, out.archived, notes), rec)
		if batch {
			out.add = &add
			return out, nil
		}
		_, err := s.DB.AddBlockpassCandidate(ctx, add)
		if err == nil {
			out.created = true
			return out, nil
		}
		if !errors.Is(err, db.ErrConflict) {
			return out, err
		}
		// A webhook made the verification meanwhile: update it below.
	}

	name, email := candidateContact(cand)
	ens, err := s.DB.EnsureBlockpassVerification(ctx, db.BlockpassCandidate{RefID: cand.RefID, RecordID: cand.RecordID, Name: name, Email: email})
	if err != nil {
		return out, err
	}
	out.created = ens.Created
	if ourArchived || ens.ApplicantArchived {
		u.Attributes, u.Documents = nil, nil
		rec.ExtractedAt, rec.Attributes, rec.Documents = time.Time{}, 0, 0
	}
	switch {
	case statusChanged && !recorded || ens.Created:
		u.Reason = syncDetail(ens.Created, cand, out.archived, notes)
		if _, err := s.ApplyUpdate(ctx, providers.Blockpass, "poll", u, "blockpass-sync"); err != nil {
			return out, err
		}
	case out.archived:
		// Only Blockpass's copy went: a line in the timeline, no new data.
		meta := providers.Update{Reference: cand.RefID, ProviderRef: cand.RecordID, ProviderStatus: cand.Status,
			Status: blockpass.MapStatus(cand.Status), Reason: "Blockpass archived its copy of the identity data",
			Certificates: u.Certificates}
		if _, err := s.ApplyUpdate(ctx, providers.Blockpass, "poll", meta, "blockpass-sync"); err != nil {
			return out, err
		}
	default:
		// Dates only (the archive date appeared, a webhook already told us
		// the status): metadata, no timeline line.
		for _, cert := range u.Certificates {
			if err := s.DB.PutCertificate(ctx, ens.ApplicantID, db.CertificateInput{Provider: string(providers.Blockpass), Name: cert.Name, Value: cert.Value}); err != nil {
				return out, err
			}
		}
	}
	out.changed = !out.created
	rec.ApplicantID, rec.VerificationID = ens.ApplicantID, ens.ID
	return out, s.DB.SaveBlockpassRecord(ctx, rec)
}

// newCandidate is what db.AddBlockpassCandidate stores of a candidate we
// hold nothing of.
func newCandidate(c blockpass.Candidate, u providers.Update, detail string, rec db.BlockpassRecord) db.NewBlockpassCandidate {
	name, email := candidateContact(c)
	n := db.NewBlockpassCandidate{
		BlockpassCandidate: db.BlockpassCandidate{RefID: c.RefID, RecordID: c.RecordID, Name: name, Email: email},
		Status:             string(u.Status), ProviderStatus: u.ProviderStatus, Detail: detail, At: u.At, Record: rec,
	}
	p := string(providers.Blockpass)
	for _, a := range u.Attributes {
		n.Attributes = append(n.Attributes, db.AttributeInput{Provider: p, Meaning: a.Meaning, Name: a.Name, Value: a.Value})
	}
	for _, d := range u.Documents {
		n.Documents = append(n.Documents, db.DocumentInput{Provider: p, Name: d.Name, ContentType: d.ContentType, Data: d.Data})
	}
	for _, cert := range u.Certificates {
		n.Certificates = append(n.Certificates, db.CertificateInput{Provider: p, Name: cert.Name, Value: cert.Value})
	}
	return n
}

// alreadyRecorded reports whether the verification's newest provider event
// already says what the listing says (a webhook got there first).
func (s *Service) alreadyRecorded(ctx context.Context, v db.Verification, listed blockpass.Candidate) (bool, error) {
	status, at, ok, err := s.DB.LastProviderEvent(ctx, v.ApplicantID, v.ID)
	if err != nil || !ok || status != listed.Status {
		return false, err
	}
	last := listed.LastChange()
	return last.IsZero() || at.Equal(last.Truncate(time.Millisecond)), nil
}

// syncDetail is the timeline line of a sync event: never personal data.
func syncDetail(created bool, c blockpass.Candidate, archived bool, notes []string) string {
	parts := []string{"Blockpass sync"}
	if created {
		parts[0] = "Found by the Blockpass sync"
	}
	if c.IsArchived {
		if archived {
			parts = append(parts, "Blockpass archived its copy of the identity data")
		} else {
			parts = append(parts, "no identity data: archived at Blockpass")
		}
	}
	parts = append(parts, notes...)
	return strings.Join(parts, "; ")
}

// gateDocuments keeps the documents our store accepts (JPEG, PNG, PDF,
// within limits) and says how many it left out. The raw certificate JSON
// the adapter also returns is among those: the certificate itself is kept,
// redacted, as metadata.
func gateDocuments(docs []providers.Document) ([]providers.Document, []string) {
	var kept []providers.Document
	skipped := 0
	for _, d := range docs {
		safe, err := safeDocument(d)
		if err != nil {
			skipped++
			continue
		}
		kept = append(kept, safe)
	}
	if skipped == 0 {
		return kept, nil
	}
	return kept, []string{fmt.Sprintf("%d file(s) not stored: not a JPEG, PNG or PDF within the limits", skipped)}
}

// candidateContact is the name and email a new applicant is listed under.
func candidateContact(c blockpass.Candidate) (name, email string) {
	if c.IsArchived {
		return "", ""
	}
	id := func(k string) string {
		if v, ok := c.Identities[k]; ok && v.Type != blockpass.IdentityBase64 {
			return strings.TrimSpace(string(v.Value))
		}
		return ""
	}
	return strings.TrimSpace(id("given_name") + " " + id("family_name")), id("email")
}

// recordOf is the metadata we keep of a candidate.
func recordOf(c blockpass.Candidate) db.BlockpassRecord {
	return db.BlockpassRecord{
		RecordID: c.RecordID, RefID: c.RefID, BlockPassID: c.BlockPassID,
		Status: c.Status, SubmitCount: c.SubmitCount, WaitingAt: ms(c.WaitingDate.Time), InreviewAt: ms(c.InreviewDate.Time),
		ApprovedAt: ms(c.ApprovedDate.Time), WillArchiveAt: ms(c.ArchiveAt()), IsArchived: c.IsArchived,
	}
}

// sameCandidate reports whether the listing says nothing new.
func sameCandidate(prev db.BlockpassRecord, c blockpass.Candidate) bool {
	return !statusDiffers(prev, c) && prev.IsArchived == c.IsArchived && prev.WillArchiveAt.Equal(ms(c.ArchiveAt())) &&
		prev.BlockPassID == c.BlockPassID
}

// statusDiffers reports whether the status, the submission count or a
// review date changed.
func statusDiffers(prev db.BlockpassRecord, c blockpass.Candidate) bool {
	return prev.Status != c.Status || prev.SubmitCount != c.SubmitCount || prev.RefID != c.RefID ||
		!prev.WaitingAt.Equal(ms(c.WaitingDate.Time)) || !prev.InreviewAt.Equal(ms(c.InreviewDate.Time)) ||
		!prev.ApprovedAt.Equal(ms(c.ApprovedDate.Time))
}

// ms truncates t to the millisecond the store keeps (zero stays zero).
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Millisecond).UTC()
}

// ApplyBlockpassWithdrawals hands every Blockpass withdrawal (user.deleted,
// recorded on the timeline by the inbox) to the retention policy, which
// archives at once when its withdrawal rule says so. It returns how many it
// handed over. Running it again is harmless: only the first withdrawal per
// applicant counts.
func (s *Service) ApplyBlockpassWithdrawals(ctx context.Context) (int, error) {
	pending, err := s.DB.PendingBlockpassWithdrawals(ctx, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pending {
		if _, err := s.DB.ApplyWithdrawal(ctx, p.ApplicantID, string(providers.Blockpass), blockpass.EventUserDeleted, p.At); err != nil {
			return n, fmt.Errorf("blockpass: withdrawal of applicant %d: %w", p.ApplicantID, err)
		}
		n++
	}
	return n, nil
}
