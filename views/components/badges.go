package components

import (
	"time"

	"github.com/a-h/templ"

	"github.com/kycdesk/kycdesk/views"
)

// StatusBadge shows a normalised status: one colour per status everywhere,
// and always the status in words (colour is never the only signal).
func StatusBadge(status string) templ.Component {
	return views.Appended(func(b []byte) []byte { return AppendStatusBadge(b, status) })
}

// AppendStatusBadge appends the markup of StatusBadge.
func AppendStatusBadge(b []byte, status string) []byte {
	b = append(b, `<span class="`...)
	b = append(b, badgeClass(status)...)
	b = append(b, `" data-status="`...)
	b = views.AppendText(b, status)
	b = append(b, `">`...)
	b = appendWords(b, status)
	return append(b, `</span>`...)
}

// ProviderBadge names a provider compactly.
func ProviderBadge(provider string) templ.Component {
	return views.Appended(func(b []byte) []byte { return AppendProviderBadge(b, provider) })
}

// AppendProviderBadge appends the markup of ProviderBadge.
func AppendProviderBadge(b []byte, provider string) []byte {
	b = append(b, `<span class="provider-badge">`...)
	b = views.AppendText(b, ProviderTitle(provider))
	return append(b, `</span>`...)
}

// Time shows a relative time with the exact time on hover.
func Time(t, now time.Time) templ.Component {
	return views.Appended(func(b []byte) []byte { return AppendTime(b, t, now) })
}

// AppendTime appends the markup of Time.
func AppendTime(b []byte, t, now time.Time) []byte {
	b = append(b, `<time datetime="`...)
	b = views.AppendMachineTime(b, t)
	b = append(b, `" title="`...)
	b = views.AppendExactTime(b, t)
	b = append(b, `">`...)
	b = views.AppendRelTime(b, t, now)
	return append(b, `</time>`...)
}

// appendWords appends Words(s), escaped.
func appendWords(b []byte, s string) []byte {
	if s == "" {
		return append(b, "—"...)
	}
	start := len(b)
	b = views.AppendText(b, s)
	if c := b[start]; 'a' <= c && c <= 'z' {
		b[start] = c - 'a' + 'A'
	}
	for i := start; i < len(b); i++ {
		if b[i] == '_' {
			b[i] = ' '
		}
	}
	return b
}
