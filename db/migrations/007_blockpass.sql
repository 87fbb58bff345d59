-- 007: Blockpass KYC Connect sync. What we last saw of each candidate (so a
-- sync can tell new and changed candidates from unchanged ones without
-- touching the timeline), the sync runs with their progress (a run is
-- claimed in the database, so two instances never sync at once), an index
-- to find a verification by the provider's own id, and one
-- rule for Blockpass certificates: a certificate Blockpass sends again is
-- the same metadata, stored once.

-- One row per Blockpass record (recordId) we have taken in. Metadata only:
-- statuses, ids and dates, never identity data. Dates are Unix ms, NULL when
-- Blockpass sent none.
CREATE TABLE blockpass_records (
    record_id        TEXT    PRIMARY KEY,
    applicant_id     INTEGER NOT NULL REFERENCES applicants(id),
    verification_id  INTEGER NOT NULL REFERENCES verifications(id),
    ref_id           TEXT    NOT NULL DEFAULT '',
    block_pass_id    TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL,             -- verbatim
    submit_count     INTEGER NOT NULL DEFAULT 0,
    waiting_at       INTEGER,
    inreview_at      INTEGER,
    approved_at      INTEGER,
    will_archive_at  INTEGER,                      -- Blockpass deletes its copy after this
    is_archived      INTEGER NOT NULL DEFAULT 0,   -- Blockpass's copy of the identity data is gone
    archived_seen_at INTEGER,                      -- when we first saw isArchived
    first_seen_at    INTEGER NOT NULL,
    changed_at       INTEGER NOT NULL,             -- when we last saw a change
    synced_at        INTEGER NOT NULL,             -- when we last saw the record at all
    extracted_at     INTEGER,                      -- when identity data was last taken in
    attributes       INTEGER NOT NULL DEFAULT 0,   -- how many attributes and documents that extract held
    documents        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX blockpass_records_applicant ON blockpass_records(applicant_id);

-- Sync runs: requested by staff (manual) or by the schedule, claimed by one
-- worker, with the progress the admin page polls.
CREATE TABLE blockpass_sync_runs (
    id            INTEGER PRIMARY KEY,
    trigger       TEXT    NOT NULL CHECK (trigger IN ('manual','schedule')),
    requested_by  INTEGER REFERENCES users(id),
    state         TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','done','failed')),
    requested_at  INTEGER NOT NULL,
    started_at    INTEGER,
    heartbeat_at  INTEGER,
    finished_at   INTEGER,
    total         INTEGER NOT NULL DEFAULT 0,      -- Blockpass's total when the run began (0: unknown)
    seen          INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL DEFAULT 0,
    changed       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    archived      INTEGER NOT NULL DEFAULT 0,      -- newly seen as archived at Blockpass
    failed        INTEGER NOT NULL DEFAULT 0,
    error         TEXT    NOT NULL DEFAULT ''      -- never secrets or personal data
);
CREATE INDEX blockpass_sync_runs_state ON blockpass_sync_runs(state, id);
-- At most one run waits or runs at a time.
CREATE UNIQUE INDEX blockpass_sync_runs_one_active ON blockpass_sync_runs((1)) WHERE state IN ('queued','running');

-- Finding a verification by the provider's own id (a Blockpass recordId,
-- on every webhook and every new candidate) must not scan the table.
CREATE INDEX verifications_provider_own_ref ON verifications(provider, provider_ref);

CREATE TRIGGER certificates_blockpass_once BEFORE INSERT ON certificates
WHEN NEW.provider = 'blockpass' AND EXISTS (SELECT 1 FROM certificates
    WHERE applicant_id = NEW.applicant_id AND provider = 'blockpass' AND name = NEW.name AND value = NEW.value)
BEGIN SELECT RAISE(IGNORE); END;
