-- 014: the review queue keeps its verification's provider status, so the
-- queue page reads the queue and the applicant per row, not the
-- verification too (measured at 1M applicants: a 50-row page 365 -> 265
-- µs). The two triggers that queue a verification (004) are recreated to
-- copy it, unchanged otherwise; a third keeps the copy exact while the
-- verification waits.
ALTER TABLE review_queue ADD COLUMN provider_status TEXT NOT NULL DEFAULT '';
UPDATE review_queue SET provider_status = COALESCE((SELECT provider_status FROM verifications WHERE id = review_queue.verification_id), '');

DROP TRIGGER verification_insert_stats;
DROP TRIGGER verification_status_stats;
CREATE TRIGGER verification_insert_stats AFTER INSERT ON verifications
BEGIN
    INSERT INTO stats_verification_status(provider, status, n) VALUES (new.provider, new.status, 1)
        ON CONFLICT(provider, status) DO UPDATE SET n = n + 1;
    INSERT INTO review_queue(verification_id, applicant_id, provider, since, assignee_id, provider_status)
        SELECT new.id, new.applicant_id, new.provider, new.updated_at, assignee_id, new.provider_status FROM applicants
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
    INSERT OR IGNORE INTO review_queue(verification_id, applicant_id, provider, since, assignee_id, provider_status)
        SELECT new.id, new.applicant_id, new.provider, new.updated_at, assignee_id, new.provider_status FROM applicants
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
CREATE TRIGGER review_queue_provider_status AFTER UPDATE OF provider_status ON verifications
WHEN old.provider_status IS NOT new.provider_status
BEGIN
    UPDATE review_queue SET provider_status = new.provider_status WHERE verification_id = new.id;
END;
