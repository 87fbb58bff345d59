-- 005: archive and retention. Deletion receipts (append-only, chained into
-- the audit log), the retention policy, provider-side withdrawals, and the
-- database-level rules that keep an archived applicant archived.

-- One receipt per archived applicant: what was deleted (counts by kind,
-- JSON), by whom, when, under which rule, and the digest of all that, which
-- the audit entry of the archive carries; audit_hash is that entry's hash.
CREATE TABLE deletion_receipts (
    id           INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL UNIQUE REFERENCES applicants(id),
    at           INTEGER NOT NULL,
    actor_id     INTEGER REFERENCES users(id),
    actor        TEXT    NOT NULL,
    rule         TEXT    NOT NULL,                 -- manual, retention:<provider>/<outcome>/<days>d, withdrawal:<provider>/<days>d, restore
    reason       TEXT    NOT NULL DEFAULT '',      -- staff's words; never personal data
    deleted      TEXT    NOT NULL,                 -- counts by kind, JSON
    digest       TEXT    NOT NULL,                 -- SHA-256 of the receipt's content, hex
    audit_id     INTEGER NOT NULL,
    audit_hash   TEXT    NOT NULL
);
CREATE TRIGGER deletion_receipts_no_update BEFORE UPDATE ON deletion_receipts
BEGIN SELECT RAISE(ABORT, 'deletion receipts are append-only'); END;
CREATE TRIGGER deletion_receipts_no_delete BEFORE DELETE ON deletion_receipts
BEGIN SELECT RAISE(ABORT, 'deletion receipts are append-only'); END;

-- The retention policy: keep personal data `days` after the last event,
-- per provider ('any' is the fallback) and outcome; no row = keep.
-- provider_withdrawal counts from a provider-side withdrawal event.
CREATE TABLE retention_rules (
    provider   TEXT    NOT NULL CHECK (provider IN ('any','blockpass','corepass','verifyyou','selfkey','idfy')),
    outcome    TEXT    NOT NULL CHECK (outcome IN ('approved','rejected','withdrawn','abandoned','provider_withdrawal')),
    days       INTEGER NOT NULL CHECK (days >= 0 AND days <= 36500),
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (provider, outcome)
) WITHOUT ROWID;

-- Provider-side withdrawals (VerifyYou connection_deleted, Blockpass
-- user.deleted), the first one per applicant and provider.
CREATE TABLE retention_withdrawals (
    applicant_id INTEGER NOT NULL REFERENCES applicants(id),
    provider     TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (applicant_id, provider)
) WITHOUT ROWID;

-- Archiving is final and total, in the database and not only in Go: an
-- archived applicant never gets personal data, a data key or a name back,
-- and an applicant on legal hold cannot be archived.
CREATE TRIGGER applicants_archive_final BEFORE UPDATE OF archived_at ON applicants
WHEN OLD.archived_at IS NOT NULL AND (NEW.archived_at IS NULL OR NEW.archived_at != OLD.archived_at)
BEGIN SELECT RAISE(ABORT, 'archiving is final'); END;
CREATE TRIGGER applicants_archive_hold BEFORE UPDATE OF archived_at ON applicants
WHEN OLD.archived_at IS NULL AND NEW.archived_at IS NOT NULL AND NEW.legal_hold != 0
BEGIN SELECT RAISE(ABORT, 'applicant is on legal hold'); END;
CREATE TRIGGER applicants_archived_no_pii BEFORE UPDATE OF display_name, email ON applicants
WHEN NEW.archived_at IS NOT NULL AND (NEW.display_name != '' OR NEW.email != '')
BEGIN SELECT RAISE(ABORT, 'applicant is archived'); END;
CREATE TRIGGER attributes_not_archived BEFORE INSERT ON attributes
WHEN (SELECT archived_at FROM applicants WHERE id = NEW.applicant_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'applicant is archived'); END;
CREATE TRIGGER documents_not_archived BEFORE INSERT ON documents
WHEN (SELECT archived_at FROM applicants WHERE id = NEW.applicant_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'applicant is archived'); END;
CREATE TRIGGER data_keys_not_archived BEFORE INSERT ON data_keys
WHEN (SELECT archived_at FROM applicants WHERE id = NEW.applicant_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'applicant is archived'); END;
