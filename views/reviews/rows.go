package reviews

import (
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
	"github.com/kycdesk/kycdesk/views/components"
)

// queueRows is the queue table's body, fifty rows a page: written as
// append functions, like the applicants list (views/appended.go).
func queueRows(v QueueView) templ.Component {
	return views.Appended(func(b []byte) []byte {
		for _, it := range v.Rows {
			b = appendQueueRow(b, it, v.CanBulk, v.Now)
		}
		return b
	})
}

func appendQueueRow(b []byte, it db.QueueItem, canBulk bool, now time.Time) []byte {
	b = append(b, `<tr class="list-row" data-row data-testid="queue-row" data-verification="`...)
	b = strconv.AppendInt(b, it.VerificationID, 10)
	b = append(b, `">`...)
	if canBulk {
		b = append(b, `<td><input type="checkbox" name="applicant" value="`...)
		b = strconv.AppendInt(b, it.ApplicantID, 10)
		b = append(b, `" form="bulk" id="pick-`...)
		b = strconv.AppendInt(b, it.VerificationID, 10)
		b = append(b, `" aria-label="Select `...)
		b = views.AppendText(b, it.Ref)
		b = append(b, `"></td>`...)
	}
	b = append(b, `<td><a href="/reviews/`...)
	b = strconv.AppendInt(b, it.VerificationID, 10)
	b = append(b, `" class="list-name">`...)
	if it.Archived {
		b = append(b, `<span class="italic text-slate-500">archived</span>`...)
	} else {
		b = views.AppendText(b, it.Name)
	}
	b = append(b, `</a> <div class="font-mono text-xs text-slate-500">`...)
	b = views.AppendText(b, it.Ref)
	b = append(b, `</div></td><td>`...)
	b = components.AppendProviderBadge(b, it.Provider)
	b = append(b, `</td><td class="font-mono text-xs">`...)
	b = views.AppendText(b, it.ProviderStatus)
	b = append(b, `</td><td class="whitespace-nowrap"><span title="in review since `...)
	b = views.AppendText(b, it.Since.UTC().Format("2006-01-02 15:04 UTC"))
	b = append(b, `">`...)
	b = views.AppendText(b, Age(it.Since, now))
	b = append(b, `</span></td><td class="text-xs">`...)
	b = views.AppendText(b, it.Assignee)
	b = append(b, `</td><td class="text-xs" data-testid="claim">`...)
	b = views.AppendText(b, claimText(it, now))
	return append(b, `</td></tr>`...)
}
