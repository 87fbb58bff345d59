-- 006: the endpoints SelfKey wallets call. The challenges and user tokens
-- already spent (single use, shared by every instance), the wallets that
-- proved their key, documents uploaded ahead of the request that uses them
-- (always sealed), the KYC templates admins edit, and the applications.

-- A challenge (or user token) id is inserted once, when it is answered; a
-- second answer finds the row and is refused. Rows are kept past the
-- token's own expiry, then purged.
CREATE TABLE selfkey_spent (
    key        TEXT    PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX selfkey_spent_expires ON selfkey_spent(expires_at);

-- A wallet that signed one of our challenges: its subject (did:eth DID,
-- did:selfkey DID, or the legacy 0x+128-hex public key) and the applicant
-- it created. The subject identifies the person: the row leaves with the
-- applicant's personal data (trigger below). The wallet's User-Agent
-- (SelfKeyIDW/<version>) and Origin as last seen.
CREATE TABLE selfkey_wallets (
    subject       TEXT    PRIMARY KEY CHECK (length(subject) BETWEEN 1 AND 200),
    applicant_id  INTEGER REFERENCES applicants(id),
    user_agent    TEXT    NOT NULL DEFAULT '' CHECK (length(user_agent) <= 200),
    origin        TEXT    NOT NULL DEFAULT '' CHECK (length(origin) <= 300),
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX selfkey_wallets_applicant ON selfkey_wallets(applicant_id);

-- Documents uploaded by POST /files or /users/file, waiting for the
-- request that names them. Never plaintext: sealed with the applicant's
-- data key when the wallet already has one (applicant_id set), otherwise
-- with the key-encryption key under a label naming the file. Once a request
-- uses a file it becomes a document (sealed with the data key) and the row
-- is deleted; unused rows are purged after expires_at.
CREATE TABLE selfkey_files (
    id           INTEGER PRIMARY KEY,
    file_id      TEXT    NOT NULL UNIQUE CHECK (length(file_id) BETWEEN 16 AND 64),
    subject      TEXT    NOT NULL REFERENCES selfkey_wallets(subject) ON DELETE CASCADE,
    applicant_id INTEGER REFERENCES applicants(id),
    content_type TEXT    NOT NULL CHECK (content_type IN ('image/jpeg','image/png','application/pdf')),
    size         INTEGER NOT NULL CHECK (size > 0),
    -- AES-GCM adds a version byte, a 12-byte nonce and a 16-byte tag: a
    -- value no longer than the plaintext was not sealed.
    data_ct      BLOB    NOT NULL CHECK (length(data_ct) >= size + 29),
    user_agent   TEXT    NOT NULL DEFAULT '' CHECK (length(user_agent) <= 200),
    origin       TEXT    NOT NULL DEFAULT '' CHECK (length(origin) <= 300),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX selfkey_files_subject ON selfkey_files(subject);
CREATE INDEX selfkey_files_applicant ON selfkey_files(applicant_id);
CREATE INDEX selfkey_files_expires ON selfkey_files(expires_at);
CREATE TRIGGER selfkey_files_not_archived BEFORE INSERT ON selfkey_files
WHEN NEW.applicant_id IS NOT NULL AND (SELECT archived_at FROM applicants WHERE id = NEW.applicant_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'applicant is archived'); END;

-- KYC templates: which SelfKey attribute schemas a wallet submits, and
-- which are required. attributes is a JSON array of
-- {"id","label","schemaId","required"}. Inactive templates are not offered
-- to wallets; templates are never deleted, so an application keeps naming
-- a template that exists.
CREATE TABLE selfkey_templates (
    id          TEXT    PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    attributes  TEXT    NOT NULL CHECK (json_valid(attributes) AND json_type(attributes) = 'array'
                                        AND json_array_length(attributes) BETWEEN 1 AND 100),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- One row per application a wallet submitted: the verification it is (in
-- the review queue), the template it answered, counts of what it carried
-- (the values themselves are attributes and documents), and the wallet's
-- headers. No personal data: it survives archiving with the verification.
CREATE TABLE selfkey_applications (
    id              TEXT    PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 64),
    verification_id INTEGER NOT NULL UNIQUE REFERENCES verifications(id),
    template_id     TEXT    NOT NULL REFERENCES selfkey_templates(id),
    template_name   TEXT    NOT NULL DEFAULT '',
    attributes      INTEGER NOT NULL DEFAULT 0,
    documents       INTEGER NOT NULL DEFAULT 0,
    user_agent      TEXT    NOT NULL DEFAULT '' CHECK (length(user_agent) <= 200),
    origin          TEXT    NOT NULL DEFAULT '' CHECK (length(origin) <= 300),
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;

-- Archiving takes the wallet with the rest of the personal data, in the
-- archive's own transaction: the subject identifies the person, and a
-- pending upload is personal data (its key is destroyed too, but the bytes
-- must go). The wallet's files cascade with it.
CREATE TRIGGER selfkey_archive AFTER UPDATE OF archived_at ON applicants
WHEN OLD.archived_at IS NULL AND NEW.archived_at IS NOT NULL
BEGIN
    DELETE FROM selfkey_files WHERE applicant_id = NEW.id;
    DELETE FROM selfkey_wallets WHERE applicant_id = NEW.id;
END;
