package applicants

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
	"github.com/kycdesk/kycdesk/views/archive"
)

// listFixture is a full page of list rows as the handler passes them.
func listFixture() ListView {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	v := ListView{Now: now, Retention: map[int64]archive.Badge{}, CanArchive: true, NextURL: "/applicants?after=1-2&provider=corepass&status=approved"}
	for i := range 50 {
		id := int64(1000 + i)
		v.Rows = append(v.Rows, db.Applicant{ID: id, Ref: fmt.Sprintf("KD-%08X", id), Name: "Chloé O'Brien", Email: fmt.Sprintf("chloe.obrien%d@example.com", i),
			Status: "approved", Providers: []string{"corepass"}, UpdatedAt: now.Add(-time.Duration(i) * time.Hour)})
		v.Retention[id] = archive.BadgeFor(db.RetentionPlan{ApplicantID: id}, now)
	}
	return v
}

// BenchmarkResults renders the list's results partial (50 rows), the part
// of every list page and htmx swap that grows with the page.
func BenchmarkResults(b *testing.B) {
	v := listFixture()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Results(v).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}

// BenchmarkList renders the whole list page (layout, filters and 50 rows).
func BenchmarkList(b *testing.B) {
	v := listFixture()
	v.Page = views.Page{Title: "Applicants", Nav: "applicants", CSRF: "csrf-token", User: &views.Viewer{Email: "checker@example.com", Role: "admin"}}
	v.Providers = []string{"blockpass", "corepass", "verifyyou", "selfkey", "idfy"}
	v.Statuses = []string{"invited", "in_progress", "needs_review", "approved", "rejected", "blocked", "expired", "failed", "withdrawn"}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := List(v).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}
