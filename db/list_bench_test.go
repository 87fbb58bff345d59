package db

import (
	"context"
	"os"
	"testing"
)

// BenchmarkListApplicants times one list page (50 rows) per filter against
// a seeded database: point KYCDESK_BENCH_DB at one (for instance the file
// `go run ./cmd/bench -db FILE` leaves behind); skipped without it.
//
//	KYCDESK_BENCH_DB=/tmp/b1m.db go test ./db -run '^$' -bench ListApplicants
func BenchmarkListApplicants(b *testing.B) {
	path := os.Getenv("KYCDESK_BENCH_DB")
	if path == "" {
		b.Skip("KYCDESK_BENCH_DB is not set")
	}
	ctx := context.Background()
	d, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	for _, bc := range []struct {
		name  string
		f     ApplicantFilter
		pages int // next-page links followed first
	}{
		{"provider+status", ApplicantFilter{Provider: "corepass", Status: "approved"}, 0},
		{"provider+status/page201", ApplicantFilter{Provider: "corepass", Status: "approved"}, 200},
		{"status", ApplicantFilter{Status: "needs_review"}, 0},
		{"all", ApplicantFilter{}, 0},
		{"search", ApplicantFilter{Query: "Schmidt"}, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := bc.f
			f.Limit = 50
			for range bc.pages {
				page, err := d.ListApplicants(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				f.After = page.Next
			}
			for b.Loop() {
				page, err := d.ListApplicants(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Rows) != 50 {
					b.Fatalf("%d rows", len(page.Rows))
				}
			}
		})
	}
}
