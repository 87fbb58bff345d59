package reviews

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kycdesk/kycdesk/db"
)

// TestQueueRowsEscapeEveryValue renders queue rows whose text fields are
// hostile and checks they come back as text, with no element of theirs.
func TestQueueRowsEscapeEveryValue(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	it := db.QueueItem{VerificationID: 41, ApplicantID: 7, Ref: `KD-"><img src=x>`, Name: `<script>n()</script> & Co`,
		Provider: "idfy", ProviderStatus: `completed<svg>`, Since: now.Add(-3 * time.Hour), Assignee: `<b>a</b>`,
		ClaimedBy: 3, Claimer: `<i>c</i>@example.com`, ClaimExpiresAt: now.Add(10 * time.Minute)}
	var buf bytes.Buffer
	if err := queueRows(QueueView{Now: now, CanBulk: true, Rows: []db.QueueItem{it}}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + buf.String() + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Find("script, img, svg, b, i").Length(); n != 0 {
		t.Fatalf("%d elements injected by values:\n%s", n, buf.String())
	}
	row := doc.Find(`[data-testid="queue-row"]`)
	for _, want := range []string{it.Name, it.Ref, it.ProviderStatus, it.Assignee, it.Claimer, "3 h"} {
		if !strings.Contains(row.Text(), want) {
			t.Errorf("the row's text lacks %q: %q", want, row.Text())
		}
	}
	if got, _ := row.Attr("data-verification"); got != "41" {
		t.Errorf("data-verification = %q", got)
	}
	if got, _ := row.Find("input").Attr("aria-label"); got != "Select "+it.Ref {
		t.Errorf("checkbox label = %q", got)
	}
	if got, _ := row.Find("a").Attr("href"); got != "/reviews/41" {
		t.Errorf("href = %q", got)
	}
}
