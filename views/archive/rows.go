package archive

import (
	"strconv"

	"github.com/a-h/templ"

	"github.com/kycdesk/kycdesk/views"
)

// RetentionBadge shows an applicant's retention state; the text says it
// all, the colour only helps. Nothing for a zero badge.
func RetentionBadge(b Badge) templ.Component {
	return views.Appended(func(buf []byte) []byte { return AppendRetentionBadge(buf, b) })
}

// AppendRetentionBadge appends the markup of RetentionBadge (written as an
// append function: the list shows one per row, see views/appended.go).
func AppendRetentionBadge(buf []byte, b Badge) []byte {
	if b.Text == "" {
		return buf
	}
	buf = append(buf, `<span class="`...)
	buf = append(buf, retentionBadgeClass(b.Kind)...)
	buf = append(buf, `" title="`...)
	buf = views.AppendText(buf, b.Title)
	buf = append(buf, `" data-testid="retention-badge" data-kind="`...)
	buf = views.AppendText(buf, b.Kind)
	buf = append(buf, `">`...)
	buf = views.AppendText(buf, b.Text)
	return append(buf, `</span>`...)
}

// RowSelect is a list row's checkbox for the bulk archive form.
func RowSelect(id int64, ref string) templ.Component {
	return views.Appended(func(buf []byte) []byte { return AppendRowSelect(buf, id, ref) })
}

// AppendRowSelect appends the markup of RowSelect.
func AppendRowSelect(buf []byte, id int64, ref string) []byte {
	buf = append(buf, `<label for="sel-`...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, `" class="sr-only">Select `...)
	buf = views.AppendText(buf, ref)
	buf = append(buf, `</label> <input id="sel-`...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, `" type="checkbox" name="applicant" value="`...)
	buf = strconv.AppendInt(buf, id, 10)
	return append(buf, `" form="bulk-archive" class="mr-2 align-middle" data-testid="row-select">`...)
}
