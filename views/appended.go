package views

import (
	"context"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
)

// The list pages repeat a few small pieces (status badges, times, a row)
// fifty times per page, and templ's generated code formats every { value }
// through fmt.Sprint: at a million applicants rendering was a quarter of a
// list request's CPU. Those pieces are written here as append functions
// instead, one definition each, used by the rows directly and wrapped as
// templ components (Appended) everywhere else.

// AppendText appends s with the five characters html.EscapeString
// escapes (&, <, >, ", ') escaped the same way, for text and for quoted
// attribute values, without allocating.
func AppendText(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		default:
			continue
		}
		b = append(append(b, s[last:i]...), esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// AppendRelTime appends t relative to now ("3 min ago", "in 2 days").
func AppendRelTime(b []byte, t, now time.Time) []byte {
	if t.IsZero() {
		return append(b, "—"...)
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	if d < time.Minute {
		return append(b, "just now"...)
	}
	var n int64
	var unit string
	switch {
	case d < time.Hour:
		n, unit = int64(d/time.Minute), " min"
	case d < 48*time.Hour:
		n, unit = int64(d/time.Hour), " h"
	case d < 60*24*time.Hour:
		n, unit = int64(d/(24*time.Hour)), " days"
	default:
		n, unit = int64(d/(30*24*time.Hour)), " months"
	}
	if future {
		b = append(b, "in "...)
	}
	b = append(strconv.AppendInt(b, n, 10), unit...)
	if !future {
		b = append(b, " ago"...)
	}
	return b
}

// RelTime renders t relative to now ("3 min ago").
func RelTime(t, now time.Time) string { return string(AppendRelTime(nil, t, now)) }

// AppendExactTime appends t in UTC as staff read it ("2006-01-02 15:04:05
// UTC"); nothing for the zero time.
func AppendExactTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return append(appendDateTime(b, t, ' '), " UTC"...)
}

// ExactTime renders t for a tooltip and machine-readable attributes.
func ExactTime(t time.Time) string { return string(AppendExactTime(nil, t)) }

// AppendMachineTime appends t as a valid HTML datetime value (RFC 3339 in
// UTC, to the second).
func AppendMachineTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return append(appendDateTime(b, t, 'T'), 'Z')
}

// appendDateTime appends t in UTC as "2006-01-02", sep, "15:04:05": what
// time.AppendFormat does with that layout, at a fraction of its cost (two
// per list row).
func appendDateTime(b []byte, t time.Time, sep byte) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	b = appendPadded(b, year, 4)
	b = appendPadded(append(b, '-'), int(month), 2)
	b = appendPadded(append(b, '-'), day, 2)
	b = appendPadded(append(b, sep), hour, 2)
	b = appendPadded(append(b, ':'), minute, 2)
	return appendPadded(append(b, ':'), second, 2)
}

// appendPadded appends n with leading zeros to at least width digits.
func appendPadded(b []byte, n, width int) []byte {
	if width == 2 && 0 <= n && n < 100 { // months, days, hours…: most calls
		return append(b, byte('0'+n/10), byte('0'+n%10))
	}
	if n < 0 {
		b, n = append(b, '-'), -n
	}
	for d := 10; width > 1; width, d = width-1, d*10 {
		if n < d {
			b = append(b, '0')
		}
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// appendBuffers hold the bytes an Appended component builds before one
// write.
var appendBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Appended is the templ component that writes what appendTo appends.
func Appended(appendTo func([]byte) []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		bp := appendBuffers.Get().(*[]byte)
		b := appendTo((*bp)[:0])
		_, err := w.Write(b)
		if cap(b) <= 1<<20 {
			*bp = b
			appendBuffers.Put(bp)
		}
		return err
	})
}
