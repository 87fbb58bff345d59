-- 002: the inbox of inbound webhooks and callbacks, stored before any 2xx
-- is sent, deduplicated by the provider's delivery key; and the cursors of
-- background jobs.

CREATE TABLE inbox (
    id              INTEGER PRIMARY KEY,
    provider        TEXT    NOT NULL,
    endpoint        TEXT    NOT NULL,                -- which of our URLs received it, e.g. corepass/status
    event           TEXT    NOT NULL DEFAULT '',
    delivery_key    TEXT    NOT NULL,
    verified        INTEGER NOT NULL,                -- 0 only for providers without a signature scheme (IDfy): a trigger
    headers         TEXT    NOT NULL DEFAULT '{}',   -- the headers that matter, JSON; no credentials
    content_type    TEXT    NOT NULL DEFAULT '',
    body_digest     TEXT    NOT NULL,                -- SHA-256 of the raw body, hex
    body_ct         BLOB,                            -- the raw body, sealed; dropped once processed
    received_at     INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    processed_at    INTEGER,
    error           TEXT    NOT NULL DEFAULT '',
    applicant_id    INTEGER REFERENCES applicants(id),
    verification_id INTEGER REFERENCES verifications(id),
    duplicates      INTEGER NOT NULL DEFAULT 0,       -- retries of the same delivery seen
    UNIQUE (provider, delivery_key)
);
CREATE INDEX inbox_pending ON inbox(next_attempt_at) WHERE processed_at IS NULL;
CREATE INDEX inbox_received ON inbox(id DESC);

-- Cursors and last-run marks of background jobs (VerifyYou check_for_updates,
-- Blockpass sync, CorePass reconciliation, retention runs).
CREATE TABLE job_state (
    name       TEXT PRIMARY KEY,
    cursor     TEXT    NOT NULL DEFAULT '',
    last_run   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
