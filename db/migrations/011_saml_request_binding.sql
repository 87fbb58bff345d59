-- 011: each outstanding AuthnRequest is bound to the browser that started
-- it (login CSRF). The browser holds a random secret in a cookie; only its
-- SHA-256, as 64 hex digits, is kept here. Requests outstanding when this
-- runs get '' (unbound), which the ACS refuses: their browsers hold no
-- secret, and at worst a sign-in in progress during the upgrade is started
-- again.
ALTER TABLE saml_requests ADD COLUMN binding_hash TEXT NOT NULL DEFAULT ''
    CHECK (binding_hash = '' OR (length(binding_hash) = 64 AND binding_hash NOT GLOB '*[^0-9a-f]*'));
