-- 004: review under four eyes (the queue, maker proposals, checker
-- decisions), append-only notes, and the small aggregate tables the overview
-- reads instead of counting a million rows per page load.
--
-- Triggers keep the queue and the aggregates in step with every writer: the
-- provider flows, the seeder and our own review code all change statuses, and
-- a trigger runs inside the very transaction that made the change, so no
-- caller can forget it and a rollback undoes both.

-- Reasons a maker chooses from; admins edit the list (rows are deactivated,
-- never deleted, so old proposals keep their reason).
CREATE TABLE review_reasons (
    id            INTEGER PRIMARY KEY,
    decision      TEXT    NOT NULL CHECK (decision IN ('approve','reject','request_more')),
    label         TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    requires_note INTEGER NOT NULL DEFAULT 0,      -- "Other": the maker must explain
    active        INTEGER NOT NULL DEFAULT 1,
    position      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    UNIQUE (decision, label)
);
INSERT INTO review_reasons(decision, label, requires_note, position, created_at) VALUES
    ('approve', 'Identity verified: documents and data consistent', 0, 10, 0),
    ('approve', 'Provider verification sufficient for our risk level', 0, 20, 0),
    ('approve', 'Discrepancy explained and resolved', 1, 30, 0),
    ('approve', 'Other (explain in the comment)', 1, 90, 0),
    ('reject', 'Document forged, altered or not genuine', 0, 10, 0),
    ('reject', 'Person does not match the document', 0, 20, 0),
    ('reject', 'Document expired', 0, 30, 0),
    ('reject', 'Sanctions or watch-list match confirmed', 0, 40, 0),
    ('reject', 'Duplicate or fraudulent application', 0, 50, 0),
    ('reject', 'Other (explain in the comment)', 1, 90, 0),
    ('request_more', 'Document unreadable or cropped', 0, 10, 0),
    ('request_more', 'Proof of address missing', 0, 20, 0),
    ('request_more', 'Data differs between sources', 1, 30, 0),
    ('request_more', 'Liveness or selfie check needed', 0, 40, 0),
    ('request_more', 'Other (explain in the comment)', 1, 90, 0);

-- The queue: one row per verification whose status is needs_review (the
-- provider asks for review, a CorePass data transfer finished, a SelfKey
-- application arrived). Triggers on verifications add and remove rows; the
-- review code moves state and claims. A claim is free when claimed_by is NULL
-- or claim_expires_at has passed.
CREATE TABLE review_queue (
    verification_id  INTEGER PRIMARY KEY REFERENCES verifications(id) ON DELETE CASCADE,
    applicant_id     INTEGER NOT NULL REFERENCES applicants(id),
    provider         TEXT    NOT NULL,
    since            INTEGER NOT NULL,             -- when it entered review: the queue's order
    state            TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open','proposed')),
    assignee_id      INTEGER REFERENCES users(id), -- copy of applicants.assignee_id, for the filter's index
    claimed_by       INTEGER REFERENCES users(id),
    claim_expires_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX review_queue_order ON review_queue(state, since, verification_id);
CREATE INDEX review_queue_provider ON review_queue(state, provider, since, verification_id);
CREATE INDEX review_queue_assignee ON review_queue(state, assignee_id, since, verification_id);
CREATE INDEX review_queue_applicant ON review_queue(applicant_id);
-- A reviewer's own live claim ("Next case" returns it first): few rows.
CREATE INDEX review_queue_claims ON review_queue(claimed_by, since) WHERE claimed_by IS NOT NULL;

INSERT INTO review_queue(verification_id, applicant_id, provider, since, assignee_id)
    SELECT v.id, v.applicant_id, v.provider, v.updated_at, a.assignee_id
    FROM verifications v JOIN applicants a ON a.id = v.applicant_id WHERE v.status = 'needs_review';

-- Maker proposals. The evidence digest pins what the proposal was made on;
-- a checker's decision is refused when it no longer matches.
CREATE TABLE review_proposals (
    id               INTEGER PRIMARY KEY,
    verification_id  INTEGER NOT NULL REFERENCES verifications(id),
    applicant_id     INTEGER NOT NULL REFERENCES applicants(id),
    decision         TEXT    NOT NULL CHECK (decision IN ('approve','reject','request_more')),
    reason_id        INTEGER NOT NULL REFERENCES review_reasons(id),
    reason           TEXT    NOT NULL,             -- the label as the maker saw it
    comment          TEXT    NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    evidence_digest  TEXT    NOT NULL,
    evidence_summary TEXT    NOT NULL DEFAULT '{}',-- counts behind the digest, to say what changed
    proposed_by      INTEGER NOT NULL REFERENCES users(id),
    proposed_at      INTEGER NOT NULL,
    -- pending: waiting for a checker; decided: a checker confirmed it;
    -- returned: a checker sent it back (or the evidence changed);
    -- superseded: the verification left review before a decision.
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','decided','returned','superseded')),
    closed_by        INTEGER REFERENCES users(id),
    closed_at        INTEGER,
    close_note       TEXT    NOT NULL DEFAULT '',
    -- Four eyes, second line: whoever closes a proposal as decided or
    -- returned is somebody else than its maker.
    CONSTRAINT four_eyes_close CHECK (state IN ('pending','superseded') OR (closed_by IS NOT NULL AND closed_by != proposed_by))
);
CREATE UNIQUE INDEX review_proposals_one_pending ON review_proposals(verification_id) WHERE state = 'pending';
CREATE INDEX review_proposals_applicant ON review_proposals(applicant_id, id DESC);

-- A proposal is a record: only its closing fields change, once.
CREATE TRIGGER review_proposals_frozen BEFORE UPDATE ON review_proposals
WHEN old.state != 'pending'
  OR new.verification_id IS NOT old.verification_id OR new.applicant_id IS NOT old.applicant_id
  OR new.decision IS NOT old.decision OR new.reason_id IS NOT old.reason_id OR new.reason IS NOT old.reason
  OR new.comment IS NOT old.comment OR new.evidence_digest IS NOT old.evidence_digest
  OR new.evidence_summary IS NOT old.evidence_summary
  OR new.proposed_by IS NOT old.proposed_by OR new.proposed_at IS NOT old.proposed_at
BEGIN SELECT RAISE(ABORT, 'review_proposals: a proposal is closed once and never edited'); END;
CREATE TRIGGER review_proposals_no_delete BEFORE DELETE ON review_proposals
BEGIN SELECT RAISE(ABORT, 'review_proposals is append-only'); END;

-- Checker decisions: every checker action on a proposal (confirm or return).
-- The proposer can never be the decider: the CHECK refuses it on the row
-- itself, and the trigger refuses a row whose proposed_by is not the
-- proposal's real maker, so a hand-written INSERT cannot get round it.
CREATE TABLE review_decisions (
    id              INTEGER PRIMARY KEY,
    proposal_id     INTEGER NOT NULL UNIQUE REFERENCES review_proposals(id),
    verification_id INTEGER NOT NULL REFERENCES verifications(id),
    applicant_id    INTEGER NOT NULL REFERENCES applicants(id),
    outcome         TEXT    NOT NULL CHECK (outcome IN ('approve','reject','request_more','returned')),
    proposed_by     INTEGER NOT NULL REFERENCES users(id),
    decided_by      INTEGER NOT NULL REFERENCES users(id),
    evidence_digest TEXT    NOT NULL,              -- the evidence at decision time
    note            TEXT    NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    decided_at      INTEGER NOT NULL,
    CONSTRAINT four_eyes CHECK (decided_by != proposed_by)
);
CREATE INDEX review_decisions_applicant ON review_decisions(applicant_id, id DESC);
CREATE TRIGGER review_decisions_four_eyes BEFORE INSERT ON review_decisions
WHEN new.proposed_by IS NOT (SELECT proposed_by FROM review_proposals WHERE id = new.proposal_id)
  OR new.decided_by = (SELECT proposed_by FROM review_proposals WHERE id = new.proposal_id)
BEGIN SELECT RAISE(ABORT, 'four_eyes: the maker of a proposal cannot decide it'); END;
CREATE TRIGGER review_decisions_no_update BEFORE UPDATE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'review_decisions is append-only'); END;
CREATE TRIGGER review_decisions_no_delete BEFORE DELETE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'review_decisions is append-only'); END;

-- Notes on an applicant: append-only. They may only leave together with the
-- rest of the personal data, once the applicant is archived.
CREATE TABLE notes (
    id           INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants(id),
    author_id    INTEGER NOT NULL REFERENCES users(id),
    body         TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at   INTEGER NOT NULL
);
CREATE INDEX notes_applicant ON notes(applicant_id, created_at DESC, id DESC);
CREATE TRIGGER notes_no_update BEFORE UPDATE ON notes
BEGIN SELECT RAISE(ABORT, 'notes are append-only'); END;
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
WHEN (SELECT archived_at FROM applicants WHERE id = old.applicant_id) IS NULL
BEGIN SELECT RAISE(ABORT, 'notes are append-only (they leave only when the applicant is archived)'); END;

-- Aggregates for the overview. Each is a handful of rows; triggers move
-- them in the same transaction as the status change.
CREATE TABLE stats_applicant_status (
    status TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE stats_provider_status (            -- provider_links: one per applicant and provider
    provider TEXT NOT NULL,
    status   TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (provider, status)
) WITHOUT ROWID;
CREATE TABLE stats_verification_status (        -- verifications: the queue's size per provider
    provider TEXT NOT NULL,
    status   TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (provider, status)
) WITHOUT ROWID;
-- The queue's size per provider and state, whoever adds or removes rows
-- (the verification triggers, the review code, archiving).
CREATE TABLE stats_queue (
    provider TEXT NOT NULL,
    state    TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (provider, state)
) WITHOUT ROWID;
-- Decisions (a verification reaching approved or rejected, by a provider or
-- by our reviewers) per day, provider and time-to-decision bucket. Buckets
-- (upper bounds) match decisionBuckets in db/overview.go: 1 min, 5 min,
-- 15 min, 1 h, 4 h, 12 h, 1 d, 2 d, 4 d, 7 d, 14 d, 30 d, 60 d, 120 d, more.
CREATE TABLE stats_decisions (
    day      INTEGER NOT NULL,                    -- Unix day (UTC)
    provider TEXT    NOT NULL,
    bucket   INTEGER NOT NULL,
    approved INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider, bucket)
) WITHOUT ROWID;

INSERT INTO stats_applicant_status(status, n) SELECT status, count(*) FROM applicants GROUP BY status;
INSERT INTO stats_provider_status(provider, status, n) SELECT provider, status, count(*) FROM provider_links GROUP BY provider, status;
INSERT INTO stats_verification_status(provider, status, n) SELECT provider, status, count(*) FROM verifications GROUP BY provider, status;
INSERT INTO stats_queue(provider, state, n) SELECT provider, state, count(*) FROM review_queue GROUP BY provider, state;
INSERT INTO stats_decisions(day, provider, bucket, approved, rejected)
    SELECT updated_at / 86400000, provider,
        CASE WHEN d < 60000 THEN 0 WHEN d < 300000 THEN 1 WHEN d < 900000 THEN 2 WHEN d < 3600000 THEN 3
             WHEN d < 14400000 THEN 4 WHEN d < 43200000 THEN 5 WHEN d < 86400000 THEN 6 WHEN d < 172800000 THEN 7
             WHEN d < 345600000 THEN 8 WHEN d < 604800000 THEN 9 WHEN d < 1209600000 THEN 10 WHEN d < 2592000000 THEN 11
             WHEN d < 5184000000 THEN 12 WHEN d < 10368000000 THEN 13 ELSE 14 END AS b,
        sum(status = 'approved'), sum(status = 'rejected')
    FROM (SELECT provider, status, updated_at, max(0, updated_at - created_at) AS d FROM verifications WHERE status IN ('approved','rejected'))
    GROUP BY 1, 2, 3;

-- applicants -> stats_applicant_status, and the assignee copy in the queue.
CREATE TRIGGER stats_applicant_insert AFTER INSERT ON applicants
BEGIN
    INSERT INTO stats_applicant_status(status, n) VALUES (new.status, 1) ON CONFLICT(status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER stats_applicant_update AFTER UPDATE OF status ON applicants
WHEN old.status IS NOT new.status
BEGIN
    UPDATE stats_applicant_status SET n = n - 1 WHERE status = old.status;
    INSERT INTO stats_applicant_status(status, n) VALUES (new.status, 1) ON CONFLICT(status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER stats_applicant_delete AFTER DELETE ON applicants
BEGIN
    UPDATE stats_applicant_status SET n = n - 1 WHERE status = old.status;
END;
CREATE TRIGGER review_queue_assignee AFTER UPDATE OF assignee_id ON applicants
WHEN old.assignee_id IS NOT new.assignee_id
BEGIN
    UPDATE review_queue SET assignee_id = new.assignee_id WHERE applicant_id = new.id;
END;

-- review_queue -> stats_queue.
CREATE TRIGGER stats_queue_insert AFTER INSERT ON review_queue
BEGIN
    INSERT INTO stats_queue(provider, state, n) VALUES (new.provider, new.state, 1)
        ON CONFLICT(provider, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER stats_queue_update AFTER UPDATE OF state ON review_queue
WHEN old.state IS NOT new.state
BEGIN
    UPDATE stats_queue SET n = n - 1 WHERE provider = old.provider AND state = old.state;
    INSERT INTO stats_queue(provider, state, n) VALUES (new.provider, new.state, 1)
        ON CONFLICT(provider, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER stats_queue_delete AFTER DELETE ON review_queue
BEGIN
    UPDATE stats_queue SET n = n - 1 WHERE provider = old.provider AND state = old.state;
END;

-- provider_links -> stats_provider_status.
CREATE TRIGGER stats_link_insert AFTER INSERT ON provider_links
BEGIN
    INSERT INTO stats_provider_status(provider, status, n) VALUES (new.provider, new.status, 1)
        ON CONFLICT(provider, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER stats_link_update AFTER UPDATE OF provider, status ON provider_links
WHEN old.status IS NOT new.status OR old.provider IS NOT new.provider
BEGIN
    UPDATE stats_provider_status SET n = n - 1 WHERE provider = old.provider AND status = old.status;
    INSERT INTO stats_provider_status(provider, status, n) VALUES (new.provider, new.status, 1)
        ON CONFLICT(provider, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER stats_link_delete AFTER DELETE ON provider_links
BEGIN
    UPDATE stats_provider_status SET n = n - 1 WHERE provider = old.provider AND status = old.status;
END;

-- verifications -> stats_verification_status, stats_decisions, review_queue.
CREATE TRIGGER verification_insert_stats AFTER INSERT ON verifications
BEGIN
    INSERT INTO stats_verification_status(provider, status, n) VALUES (new.provider, new.status, 1)
        ON CONFLICT(provider, status) DO UPDATE SET n = n + 1;
    INSERT INTO review_queue(verification_id, applicant_id, provider, since, assignee_id)
        SELECT new.id, new.applicant_id, new.provider, new.updated_at, assignee_id FROM applicants
        WHERE id = new.applicant_id AND new.status = 'needs_review';
    INSERT INTO stats_decisions(day, provider, bucket, approved, rejected)
        SELECT new.updated_at / 86400000, new.provider,
            CASE WHEN d < 60000 THEN 0 WHEN d < 300000 THEN 1 WHEN d < 900000 THEN 2 WHEN d < 3600000 THEN 3
                 WHEN d < 14400000 THEN 4 WHEN d < 43200000 THEN 5 WHEN d < 86400000 THEN 6 WHEN d < 172800000 THEN 7
                 WHEN d < 345600000 THEN 8 WHEN d < 604800000 THEN 9 WHEN d < 1209600000 THEN 10 WHEN d < 2592000000 THEN 11
                 WHEN d < 5184000000 THEN 12 WHEN d < 10368000000 THEN 13 ELSE 14 END,
            new.status = 'approved', new.status = 'rejected'
        FROM (SELECT max(0, new.updated_at - new.created_at) AS d) WHERE new.status IN ('approved','rejected')
        ON CONFLICT(day, provider, bucket) DO UPDATE SET approved = approved + excluded.approved, rejected = rejected + excluded.rejected;
END;
CREATE TRIGGER verification_status_stats AFTER UPDATE OF status ON verifications
WHEN old.status IS NOT new.status
BEGIN
    UPDATE stats_verification_status SET n = n - 1 WHERE provider = old.provider AND status = old.status;
    INSERT INTO stats_verification_status(provider, status, n) VALUES (new.provider, new.status, 1)
        ON CONFLICT(provider, status) DO UPDATE SET n = n + 1;
    -- Into review: queue it. Out of review: unqueue it, and a proposal still
    -- waiting for a checker is superseded (the provider decided first).
    INSERT OR IGNORE INTO review_queue(verification_id, applicant_id, provider, since, assignee_id)
        SELECT new.id, new.applicant_id, new.provider, new.updated_at, assignee_id FROM applicants
        WHERE id = new.applicant_id AND new.status = 'needs_review';
    DELETE FROM review_queue WHERE verification_id = new.id AND new.status != 'needs_review';
    UPDATE review_proposals SET state = 'superseded', closed_at = new.updated_at,
        close_note = 'The verification left review (now ' || new.status || ') before a checker decided.'
        WHERE verification_id = new.id AND state = 'pending' AND new.status != 'needs_review';
    INSERT INTO stats_decisions(day, provider, bucket, approved, rejected)
        SELECT new.updated_at / 86400000, new.provider,
            CASE WHEN d < 60000 THEN 0 WHEN d < 300000 THEN 1 WHEN d < 900000 THEN 2 WHEN d < 3600000 THEN 3
                 WHEN d < 14400000 THEN 4 WHEN d < 43200000 THEN 5 WHEN d < 86400000 THEN 6 WHEN d < 172800000 THEN 7
                 WHEN d < 345600000 THEN 8 WHEN d < 604800000 THEN 9 WHEN d < 1209600000 THEN 10 WHEN d < 2592000000 THEN 11
                 WHEN d < 5184000000 THEN 12 WHEN d < 10368000000 THEN 13 ELSE 14 END,
            new.status = 'approved', new.status = 'rejected'
        FROM (SELECT max(0, new.updated_at - new.created_at) AS d) WHERE new.status IN ('approved','rejected')
        ON CONFLICT(day, provider, bucket) DO UPDATE SET approved = approved + excluded.approved, rejected = rejected + excluded.rejected;
END;
CREATE TRIGGER verification_delete_stats AFTER DELETE ON verifications
BEGIN
    UPDATE stats_verification_status SET n = n - 1 WHERE provider = old.provider AND status = old.status;
END;
