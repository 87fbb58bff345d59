-- 012: recognising a provider's late report about an archived applicant.
-- Archiving blanks the provider references that identify the person (the
-- CorePass transfer reference holds the Core ID; see scrubProviders in
-- db/archive.go). A CorePass callback names its verification only by that
-- reference, so one arriving after the archive matched nothing and stayed
-- in the inbox as a failure. The archive keeps instead a keyed MAC of the
-- reference (HMAC under a key derived from the KEK): it recognises the
-- reference when the provider sends it again, and reveals nothing without
-- the key.
CREATE TABLE archived_provider_refs (
    verification_id INTEGER PRIMARY KEY REFERENCES verifications(id),
    provider        TEXT    NOT NULL,
    ref_mac         TEXT    NOT NULL
);
CREATE INDEX archived_provider_refs_mac ON archived_provider_refs(provider, ref_mac);
