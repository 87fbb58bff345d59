-- 003: staff identity. SAML sign-in state kept on the server (outstanding
-- AuthnRequests, seen assertion IDs), the link from an IdP identity to a
-- user, the admin-edited rules that map the IdP's role attribute to a role,
-- and a cap on a session's lifetime set by the IdP.

-- AuthnRequests we sent and not yet seen answered. The IdP's POST to the
-- ACS is cross-site, so a SameSite=Lax cookie does not come with it: the
-- request ID is kept here and taken (deleted) once.
CREATE TABLE saml_requests (
    id          TEXT    PRIMARY KEY,
    relay_state TEXT    NOT NULL DEFAULT '' CHECK (length(relay_state) <= 1024),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX saml_requests_expires ON saml_requests(expires_at);

-- Assertion IDs accepted once, kept until the assertion could no longer be
-- accepted anyway, so a replay is refused.
CREATE TABLE saml_assertions (
    id         TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX saml_assertions_expires ON saml_assertions(expires_at);

-- Which IdP identity a user is. A NameID is unique only together with the
-- IdP that issued it. One identity per user.
CREATE TABLE user_identities (
    issuer     TEXT    NOT NULL,
    name_id    TEXT    NOT NULL,
    user_id    INTEGER NOT NULL UNIQUE REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_login INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (issuer, name_id)
) WITHOUT ROWID;

-- Admin-edited rules: a user whose role attribute has `value` gets `role`;
-- the first rule by position that matches wins. KYCDESK_SAML_ROLE_MAP seeds
-- them (settings key saml.role_map_seeded remembers what was seeded).
CREATE TABLE saml_role_rules (
    id         INTEGER PRIMARY KEY,
    position   INTEGER NOT NULL,
    value      TEXT    NOT NULL UNIQUE CHECK (length(value) BETWEEN 1 AND 512),
    role       TEXT    NOT NULL CHECK (role IN ('admin','checker','maker','link_creator','auditor')),
    created_at INTEGER NOT NULL
);

-- An IdP may end a session earlier than our absolute lifetime
-- (SessionNotOnOrAfter); 0 means no cap beyond ours.
ALTER TABLE sessions ADD COLUMN not_after INTEGER NOT NULL DEFAULT 0;

-- At least one enabled admin must remain: the application checks it inside
-- its transactions with a friendly message; these triggers make it hold for
-- every writer.
CREATE TRIGGER users_keep_an_admin_on_update AFTER UPDATE OF role, disabled ON users
WHEN OLD.role = 'admin' AND OLD.disabled = 0 AND (NEW.role <> 'admin' OR NEW.disabled <> 0)
    AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0)
BEGIN SELECT RAISE(ABORT, 'the last enabled admin cannot be demoted or disabled'); END;
CREATE TRIGGER users_keep_an_admin_on_delete AFTER DELETE ON users
WHEN OLD.role = 'admin' AND OLD.disabled = 0
    AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0)
BEGIN SELECT RAISE(ABORT, 'the last enabled admin cannot be removed'); END;
