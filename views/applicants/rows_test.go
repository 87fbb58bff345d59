package applicants

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/archive"
)

// TestRowsEscapeEveryValue renders list rows whose every text field is
// hostile and checks that the browser would read them back as text, with no
// element or attribute of theirs.
func TestRowsEscapeEveryValue(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	evil := db.Applicant{ID: 7, Ref: `KD-'"><img src=x onerror=alert(1)>`, Name: `<script>alert("n")</script> & Co`,
		Email: `"a&b"@example.com<svg onload=x>`, Assignee: `<b>boss</b>`, Status: `approved"><script>x</script>`,
		Providers: []string{"corepass"}, UpdatedAt: now.Add(-time.Hour)}
	nameless := db.Applicant{ID: 8, Ref: "KD-NONAME", Status: "invited", UpdatedAt: now}
	gone := db.Applicant{ID: 9, Ref: "KD-GONE", Name: "", Status: "approved", UpdatedAt: now, ArchivedAt: now}
	v := ListView{Now: now, CanArchive: true, Rows: []db.Applicant{evil, nameless, gone},
		Retention: map[int64]archive.Badge{7: {Kind: `kept"><x`, Text: `<i>kept</i>`, Title: `a "title" & <more>`}}}
	var buf bytes.Buffer
	if err := Results(v).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Find("script, img, svg, b, i, x").Length(); n != 0 {
		t.Fatalf("%d elements injected by values:\n%s", n, buf.String())
	}
	rows := doc.Find(`[data-testid="applicant-row"]`)
	if rows.Length() != 3 {
		t.Fatalf("%d rows, want 3", rows.Length())
	}
	first := rows.Eq(0)
	for what, want := range map[string]string{
		"name":      evil.Name,
		"email":     evil.Email,
		"ref":       evil.Ref,
		"assignee":  evil.Assignee,
		"retention": `<i>kept</i>`,
	} {
		if !strings.Contains(first.Text(), want) {
			t.Errorf("the row's text lacks the %s %q verbatim: %q", what, want, first.Text())
		}
	}
	if got, _ := first.Find(`[data-testid="retention-badge"]`).Attr("title"); got != `a "title" & <more>` {
		t.Errorf("retention title attribute = %q", got)
	}
	if got, _ := first.Find("[data-status]").Attr("data-status"); got != evil.Status {
		t.Errorf("data-status attribute = %q", got)
	}
	if got, _ := first.Find("a").Attr("href"); got != "/applicants/7" {
		t.Errorf("href = %q", got)
	}
	if got := strings.TrimSpace(rows.Eq(1).Find("a").Text()); got != "no name yet" {
		t.Errorf("a nameless row's link says %q", got)
	}
	if got := strings.TrimSpace(rows.Eq(2).Find("a").Text()); got != "archived" {
		t.Errorf("an archived row's link says %q", got)
	}
}
