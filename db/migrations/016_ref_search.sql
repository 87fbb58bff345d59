-- 016: the search index in two tables. Refs and provider ids move to
-- applicant_ref_search, which has no prefix indexes; names and emails
-- stay in applicant_search, which keeps them (db/search.go says why).
-- Emails go in as the app indexes them, letters and digits apart
-- (kycdesk_search_email is db.searchEmail). Archived applicants have no
-- rows, as before.
DROP TABLE applicant_search;
CREATE VIRTUAL TABLE applicant_search USING fts5(
    name, email, columnsize=0,
    tokenize="unicode61 remove_diacritics 2 tokenchars '-_'",
    prefix='2 3 4 5 6 7 8'
);
INSERT INTO applicant_search(applicant_search, rank) VALUES('secure-delete', 1);
CREATE VIRTUAL TABLE applicant_ref_search USING fts5(
    refs, columnsize=0,
    tokenize="unicode61 remove_diacritics 2 tokenchars '-_'"
);
INSERT INTO applicant_ref_search(applicant_ref_search, rank) VALUES('secure-delete', 1);
INSERT INTO applicant_search(rowid, name, email)
    SELECT id, display_name, kycdesk_search_email(email) FROM applicants WHERE archived_at IS NULL;
INSERT INTO applicant_ref_search(rowid, refs)
    SELECT a.id, a.ref || ' ' || COALESCE((SELECT group_concat(reference || ' ' || external_id, ' ') FROM provider_links WHERE applicant_id = a.id), '')
    FROM applicants a WHERE a.archived_at IS NULL;
