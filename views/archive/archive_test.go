package archive

import (
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
)

func TestBadgeFor(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		plan db.RetentionPlan
		kind string
		text string
	}{
		{db.RetentionPlan{Archived: true}, "archived", "archived"},
		{db.RetentionPlan{Held: true, DueAt: now.Add(-time.Hour)}, "hold", "legal hold"},
		{db.RetentionPlan{Kept: "no rule for idfy rejected"}, "kept", "kept"},
		{db.RetentionPlan{DueAt: now, Rule: "retention:any/approved/30d"}, "due", "archiving due"},
		{db.RetentionPlan{DueAt: now.Add(12 * 24 * time.Hour), Rule: "retention:idfy/approved/365d"}, "scheduled", "archives in 12 d"},
		{db.RetentionPlan{DueAt: now.Add(11*24*time.Hour + time.Minute)}, "scheduled", "archives in 12 d"},
	}
	for _, tc := range cases {
		b := BadgeFor(tc.plan, now)
		if b.Kind != tc.kind || b.Text != tc.text || b.Title == "" {
			t.Errorf("%+v: badge %+v, want %s %q", tc.plan, b, tc.kind, tc.text)
		}
	}
	if got := BadgeFor(db.RetentionPlan{DueAt: now.Add(time.Hour), Rule: "retention:idfy/approved/365d"}, now).Title; !strings.Contains(got, "IDfy, approved, 365 days after the last event") {
		t.Errorf("title = %q", got)
	}
}

func TestStatements(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	got := Statements([]db.ProviderCopy{
		{Provider: "blockpass", DeletesAt: now.Add(48 * time.Hour)},
		{Provider: "blockpass", Deleted: true, DeletedAt: now.Add(-time.Hour)},
		{Provider: "blockpass"},
		{Provider: "idfy"},
		{Provider: "idfy", Deleted: true, DeletedAt: now},
		{Provider: "corepass"},
		{Provider: "verifyyou", Withdrawn: now, WithdrawnEvent: "connection_deleted"},
		{Provider: "selfkey"},
	}, now)
	want := []struct {
		text     string
		onlyOurs bool
	}{
		{"Blockpass deletes its copy on 2026-11-22", false},
		{"Blockpass deleted its copy (reported 2026-11-20 11:00", false},
		{"no archive-after-extract date was reported", false},
		{"purge policy", false},
		{"IDfy deleted its copy", false},
		{"Ours is the only copy outside the person's CorePass app", true},
		{"withdrew at VerifyYou (connection_deleted", true},
		{"Ours is the only copy outside that wallet", true},
	}
	if len(got) != len(want) {
		t.Fatalf("%d statements", len(got))
	}
	for i, w := range want {
		if !strings.Contains(got[i].Text, w.text) || got[i].OnlyOurs != w.onlyOurs {
			t.Errorf("statement %d = %+v, want %q (only ours %v)", i, got[i], w.text, w.onlyOurs)
		}
	}
}
