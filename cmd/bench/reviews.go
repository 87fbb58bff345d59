package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// reviewScenarios are the review pages at scale: the queue's first page
// (oldest first, about 15% of seeded verifications wait for review), the
// queue filtered by provider, and the overview, which reads only the
// aggregate tables (db/overview.go).
func reviewScenarios(base, cookie string) []*scenario {
	return []*scenario{
		{key: "queue", name: "review queue, first page", url: base + "/reviews?state=open", cookie: cookie},
		{key: "queue-provider", name: "review queue provider=idfy", url: base + "/reviews?state=open&provider=idfy", cookie: cookie},
		{key: "overview", name: "overview / (30 days)", url: base + "/?period=30", cookie: cookie},
	}
}

// checkReviewPages fetches each review scenario once and says what it
// serves, so a figure is never read off an error page or an empty queue.
func checkReviewPages(ctx context.Context, base string, scenarios []*scenario, out io.Writer) error {
	c := newLoadClient(1)
	for _, s := range scenarios {
		start := time.Now()
		doc, status, err := getPage(ctx, c, s.url, s.cookie)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		what, n := "rows", doc.Find(`[data-testid="queue-row"]`).Length()
		if s.key == "overview" {
			what, n = "bars", doc.Find(`svg[role="img"] rect`).Length()
		}
		if status != 200 || n == 0 {
			return fmt.Errorf("%s: %s answered %d with %d %s; nothing to measure", s.name, strings.TrimPrefix(s.url, base), status, n, what)
		}
		fmt.Fprintf(out, "page: %-45s %2d %s, first fetch %s  %s\n", s.name, n, what, time.Since(start).Round(10*time.Microsecond), strings.TrimPrefix(s.url, base))
	}
	return nil
}

// reportReviews states the review pages against the list's targets.
func reportReviews(out io.Writer, scenarios []*scenario) {
	fmt.Fprintln(out, "review pages at 1M applicants (reported, not asserted; same targets as the list):")
	for _, s := range scenarios {
		fmt.Fprintf(out, "  %-30s >= 10%% of ceiling, p99 <= 50 ms: %.1f%%, p99 %s  %s\n", s.name+":",
			s.ofCeiling(), ms(s.result.p99), verdict(s.ratio >= 0.10 && s.result.p99 <= 50*time.Millisecond))
	}
}
