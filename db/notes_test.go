package db

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNotesAreAppendOnlyAndInTheTimeline(t *testing.T) {
	f := newReviewFixture(t)
	ctx := context.Background()
	v := f.inReview("Noted Person", "blockpass")
	n, err := f.d.AddNote(ctx, v.ApplicantID, f.maker.ID, "  Called the applicant; passport renewal under way.  ", AuditEntry{Actor: f.maker.Email})
	if err != nil {
		t.Fatal(err)
	}
	if n.Body != "Called the applicant; passport renewal under way." || n.Author != "maker@example.com" {
		t.Fatalf("note = %+v", n)
	}
	for _, q := range []string{"UPDATE notes SET body = 'rewritten' WHERE id = ?", "DELETE FROM notes WHERE id = ?"} {
		if _, err := f.d.write.ExecContext(ctx, q, n.ID); err == nil {
			t.Fatalf("%s: the database accepted it", q)
		}
	}
	for _, body := range []string{"", "   ", strings.Repeat("x", MaxNoteLen+1)} {
		if _, err := f.d.AddNote(ctx, v.ApplicantID, f.maker.ID, body, AuditEntry{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("note of %d characters: err %v", len(body), err)
		}
	}
	f.advance(time.Minute)
	tl, err := f.d.TimelineWithNotes(ctx, v.ApplicantID, 50)
	if err != nil {
		t.Fatal(err)
	}
	if tl[0].Source != "note" || tl[0].Actor != "maker@example.com" || tl[0].Detail != n.Body || !tl[0].At.Equal(n.CreatedAt) {
		t.Fatalf("timeline top = %+v", tl[0])
	}
	plain, _ := f.d.Timeline(ctx, v.ApplicantID, 50)
	if len(tl) != len(plain)+1 {
		t.Fatalf("timeline with notes has %d entries, plain %d", len(tl), len(plain))
	}
	if a, _ := f.d.ListAudit(ctx, AuditFilter{Action: "note.add"}); len(a) != 1 || strings.Contains(a[0].Detail, "passport") {
		t.Fatalf("note audit = %+v", a)
	}
	// Once archived, the note may leave with the rest of the personal data.
	if _, err := f.d.write.ExecContext(ctx, "UPDATE applicants SET archived_at = 1 WHERE id = ?", v.ApplicantID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.write.ExecContext(ctx, "DELETE FROM notes WHERE id = ?", n.ID); err != nil {
		t.Fatalf("deleting the note of an archived applicant: %v", err)
	}
	if _, err := f.d.AddNote(ctx, v.ApplicantID, f.maker.ID, "too late", AuditEntry{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("note on an archived applicant: err %v", err)
	}
}
