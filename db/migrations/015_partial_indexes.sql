-- 015: three indexes cover only the rows that have what they index.
-- Most applicants and verifications come from providers, not from a staff
-- member (created_by is NULL), and a provider ref of the provider's own is
-- set only by some flows (Blockpass, SelfKey, CorePass) and cleared when
-- an applicant is archived (provider_ref ''): full indexes held an entry
-- for each of those rows that no query looks up, written on every insert
-- and sorted by every bulk seed (2.7 s of its index builds at a million
-- applicants). "created_by = ?" implies the first two's condition; the
-- provider-ref lookups say "provider_ref != ''" for the third (db.byOwnRef,
-- TestPartialIndexesAreUsed).
DROP INDEX applicants_created_by;
CREATE INDEX applicants_created_by ON applicants(created_by, updated_at DESC, id DESC) WHERE created_by IS NOT NULL;
DROP INDEX verifications_created_by;
CREATE INDEX verifications_created_by ON verifications(created_by) WHERE created_by IS NOT NULL;
DROP INDEX verifications_provider_own_ref;
CREATE INDEX verifications_provider_own_ref ON verifications(provider, provider_ref) WHERE provider_ref != '';
