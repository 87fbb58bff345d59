-- 001: the first schema: staff, applicants and what we hold about them,
-- verifications with their timeline, and the hash-chained audit log.
-- Times are Unix milliseconds (UTC). Migrations are append-only.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT    NOT NULL CHECK (role IN ('admin','checker','maker','link_creator','auditor')),
    password_hash TEXT    NOT NULL DEFAULT '',
    saml_name_id  TEXT    UNIQUE,
    disabled      INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Server-side sessions: the cookie carries only the id, so logout and
-- disabling a user end sessions at once.
CREATE TABLE sessions (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE applicants (
    id           INTEGER PRIMARY KEY,
    ref          TEXT    NOT NULL UNIQUE,          -- our public reference, shown to staff
    display_name TEXT    NOT NULL DEFAULT '',      -- PII: blanked on archive
    email        TEXT    NOT NULL DEFAULT '',      -- PII: blanked on archive
    status       TEXT    NOT NULL DEFAULT 'invited',
    assignee_id  INTEGER REFERENCES users(id),
    created_by   INTEGER REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    archived_at  INTEGER,
    legal_hold   INTEGER NOT NULL DEFAULT 0
);
-- Keyset pagination: newest update first, id as the tie-breaker.
CREATE INDEX applicants_updated ON applicants(updated_at DESC, id DESC);
CREATE INDEX applicants_status_updated ON applicants(status, updated_at DESC, id DESC);
CREATE INDEX applicants_created_by ON applicants(created_by, updated_at DESC, id DESC);

-- Full-text search over name, email and provider references. Contentless,
-- so the text is held once (in applicants) and secure-delete, so an archived
-- applicant's tokens leave the index at once instead of at the next merge.
CREATE VIRTUAL TABLE applicant_search USING fts5(
    name, email, refs,
    content='', contentless_delete=1,
    tokenize="unicode61 remove_diacritics 2 tokenchars '-_'",
    prefix='2 3'
);
INSERT INTO applicant_search(applicant_search, rank) VALUES('secure-delete', 1);

-- One row per applicant and provider, carrying the provider's identifiers
-- and a copy of the applicant's updated_at so "provider = X" filters page by
-- keyset on one index.
CREATE TABLE provider_links (
    id           INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants(id),
    provider     TEXT    NOT NULL CHECK (provider IN ('blockpass','corepass','verifyyou','selfkey','idfy')),
    reference    TEXT    NOT NULL,                 -- the reference we send this provider (never our id)
    external_id  TEXT    NOT NULL DEFAULT '',      -- recordId / Core ID / unique_id / DID / profile_id
    external_ids TEXT    NOT NULL DEFAULT '{}',    -- every other identifier the provider gave, JSON
    status       TEXT    NOT NULL DEFAULT 'invited',
    updated_at   INTEGER NOT NULL,
    UNIQUE (applicant_id, provider),
    UNIQUE (provider, reference)
);
CREATE INDEX provider_links_updated ON provider_links(provider, updated_at DESC, applicant_id DESC);
CREATE INDEX provider_links_status_updated ON provider_links(provider, status, updated_at DESC, applicant_id DESC);
CREATE INDEX provider_links_external ON provider_links(provider, external_id);

CREATE TABLE verifications (
    id              INTEGER PRIMARY KEY,
    applicant_id    INTEGER NOT NULL REFERENCES applicants(id),
    provider        TEXT    NOT NULL,
    reference       TEXT    NOT NULL,
    provider_ref    TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL,
    provider_status TEXT    NOT NULL DEFAULT '',
    link            TEXT    NOT NULL DEFAULT '',
    qr_png          BLOB,
    expires_at      INTEGER,
    token           TEXT    NOT NULL UNIQUE,       -- end-user page /v/{token}
    token_expires_at INTEGER NOT NULL,
    created_by      INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX verifications_applicant ON verifications(applicant_id, created_at DESC);
CREATE INDEX verifications_provider_ref ON verifications(provider, reference);
CREATE INDEX verifications_open ON verifications(provider, status, updated_at);
CREATE INDEX verifications_created_by ON verifications(created_by);

-- The timeline. Unknown provider statuses are kept verbatim, never dropped.
CREATE TABLE verification_events (
    id              INTEGER PRIMARY KEY,
    applicant_id    INTEGER NOT NULL REFERENCES applicants(id),
    verification_id INTEGER REFERENCES verifications(id),
    provider        TEXT    NOT NULL DEFAULT '',
    source          TEXT    NOT NULL CHECK (source IN ('webhook','callback','poll','staff','system')),
    status          TEXT    NOT NULL DEFAULT '',
    provider_status TEXT    NOT NULL DEFAULT '',
    tx_hash         TEXT    NOT NULL DEFAULT '',
    detail          TEXT    NOT NULL DEFAULT '',
    payload_digest  TEXT    NOT NULL DEFAULT '',
    actor_id        INTEGER REFERENCES users(id),
    at              INTEGER NOT NULL
);
CREATE INDEX verification_events_applicant ON verification_events(applicant_id, at DESC, id DESC);

-- One random data key per applicant, wrapped by the KEK. Deleting the row
-- makes every ciphertext below unreadable.
CREATE TABLE data_keys (
    applicant_id INTEGER PRIMARY KEY REFERENCES applicants(id),
    kek_id       TEXT    NOT NULL,
    wrapped      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE attributes (
    id           INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants(id),
    provider     TEXT    NOT NULL,
    meaning      TEXT    NOT NULL,                 -- full_name, date_of_birth, ...
    name         TEXT    NOT NULL,                 -- the provider's item name, verbatim
    value_ct     BLOB    NOT NULL,                 -- sealed with the applicant's data key
    pepper_ct    BLOB,                             -- CorePass pepper, sealed too
    created_at   INTEGER NOT NULL
);
CREATE INDEX attributes_applicant ON attributes(applicant_id);

CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants(id),
    provider     TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    data_ct      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX documents_applicant ON documents(applicant_id);

-- Provider metadata that survives archiving (certificates, tx hashes).
CREATE TABLE certificates (
    id           INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants(id),
    provider     TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX certificates_applicant ON certificates(applicant_id);

-- Append-only and hash-chained: each row carries the hash of its content and
-- of the previous row; the triggers refuse any change after the fact.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_id   INTEGER,
    actor      TEXT    NOT NULL DEFAULT '',
    action     TEXT    NOT NULL,
    object     TEXT    NOT NULL DEFAULT '',
    ip         TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT '',
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log(actor, id DESC);
CREATE INDEX audit_log_action ON audit_log(action, id DESC);
CREATE INDEX audit_log_object ON audit_log(object, id DESC);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Small key/value settings the app keeps (demo seeded, cursors).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
