package applicants

import (
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
	"github.com/kycdesk/kycdesk/views/archive"
	"github.com/kycdesk/kycdesk/views/components"
)

// rows is the table body of the list: one row per applicant, with what
// other features add to a row (the bulk-archive checkbox, the retention
// badge). It is the hot path of every list page, fifty rows each, so it is
// written as append functions rather than templ (see views/appended.go).
func rows(v ListView) templ.Component {
	return views.Appended(func(b []byte) []byte {
		for _, a := range v.Rows {
			b = appendRow(b, a, v.Now, archive.RowExtras{Select: v.CanArchive, Retention: v.Retention[a.ID]})
		}
		return b
	})
}

func appendRow(b []byte, a db.Applicant, now time.Time, x archive.RowExtras) []byte {
	b = append(b, `<tr class="list-row" data-row data-testid="applicant-row"><td>`...)
	if x.Select {
		b = archive.AppendRowSelect(b, a.ID, a.Ref)
	}
	b = append(b, `<a href="/applicants/`...)
	b = strconv.AppendInt(b, a.ID, 10)
	b = append(b, `" class="list-name">`...)
	switch {
	case a.Archived():
		b = append(b, `<span class="italic text-slate-500">archived</span>`...)
	case a.Name == "":
		// No name yet (a Blockpass candidate before its profile, a wallet
		// before its application): the link still needs words.
		b = append(b, `<span class="italic text-slate-500">no name yet</span>`...)
	default:
		b = views.AppendText(b, a.Name)
	}
	b = append(b, `</a>`...)
	if !a.Archived() && a.Email != "" {
		b = append(b, ` <div class="list-sub">`...)
		b = views.AppendText(b, a.Email)
		b = append(b, `</div>`...)
	}
	b = append(b, `</td><td class="font-mono text-xs">`...)
	b = views.AppendText(b, a.Ref)
	b = append(b, `</td><td class="space-x-1">`...)
	for _, p := range a.Providers {
		b = components.AppendProviderBadge(b, p)
	}
	b = append(b, `</td><td>`...)
	b = components.AppendStatusBadge(b, a.Status)
	b = append(b, `</td><td class="whitespace-nowrap">`...)
	b = components.AppendTime(b, a.UpdatedAt, now)
	b = append(b, `</td><td class="text-xs">`...)
	b = views.AppendText(b, a.Assignee)
	b = append(b, `</td><td>`...)
	b = archive.AppendRetentionBadge(b, x.Retention)
	return append(b, `</td></tr>`...)
}
