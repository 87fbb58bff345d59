-- 013: an archived provider reference's MAC (012) is kept only while a
-- late report can still come (the retention job deletes it after
-- archivedRefWindow, db/archive.go) and is matched only under the key that
-- made it: a key rotation ends the matching (the reference itself is gone,
-- so it cannot be MAC'd again). The providers list (010) is ordered by the
-- aggregate itself, which SQLite guarantees, not by a subquery's ORDER BY,
-- which it does not.
ALTER TABLE archived_provider_refs ADD COLUMN archived_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archived_provider_refs ADD COLUMN kek_id TEXT NOT NULL DEFAULT '';
CREATE INDEX archived_provider_refs_archived ON archived_provider_refs(archived_at);

DROP TRIGGER applicant_providers_link_insert;
DROP TRIGGER applicant_providers_link_delete;
DROP TRIGGER applicant_providers_link_update;
CREATE TRIGGER applicant_providers_link_insert AFTER INSERT ON provider_links
BEGIN
    UPDATE applicants SET providers = COALESCE((SELECT group_concat(provider, ',' ORDER BY provider)
        FROM provider_links WHERE applicant_id = new.applicant_id), '')
        WHERE id = new.applicant_id;
END;
CREATE TRIGGER applicant_providers_link_delete AFTER DELETE ON provider_links
BEGIN
    UPDATE applicants SET providers = COALESCE((SELECT group_concat(provider, ',' ORDER BY provider)
        FROM provider_links WHERE applicant_id = old.applicant_id), '')
        WHERE id = old.applicant_id;
END;
CREATE TRIGGER applicant_providers_link_update AFTER UPDATE OF applicant_id, provider ON provider_links
BEGIN
    UPDATE applicants SET providers = COALESCE((SELECT group_concat(provider, ',' ORDER BY provider)
        FROM provider_links WHERE applicant_id = applicants.id), '')
        WHERE id IN (old.applicant_id, new.applicant_id);
END;
