package views

import (
	"html"
	"testing"
	"time"
)

func TestAppendTextEscapesLikeHTMLEscapeString(t *testing.T) {
	for _, s := range []string{"", "plain", `Chloé O'Brien`, `<script>alert("x")</script>`, "a&b&&c", "'\"<>&", "ünïcödé & <b>"} {
		if got, want := string(AppendText(nil, s)), html.EscapeString(s); got != want {
			t.Errorf("AppendText(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestTimesMatchTheirLayouts(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	for _, tm := range []time.Time{
		time.Date(2026, 11, 21, 23, 59, 59, 999, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 30, 0, 0, berlin), // the previous day in UTC
		time.Date(999, 12, 31, 9, 0, 0, 0, time.UTC),
		time.Date(12345, 6, 7, 8, 9, 10, 0, time.UTC),
	} {
		if got, want := ExactTime(tm), tm.UTC().Format("2006-01-02 15:04:05 UTC"); got != want {
			t.Errorf("ExactTime(%v) = %q, want %q", tm, got, want)
		}
		if got, want := string(AppendMachineTime(nil, tm)), tm.UTC().Format("2006-01-02T15:04:05Z"); got != want {
			t.Errorf("AppendMachineTime(%v) = %q, want %q", tm, got, want)
		}
	}
	if ExactTime(time.Time{}) != "" || len(AppendMachineTime(nil, time.Time{})) != 0 {
		t.Error("the zero time renders as something")
	}
}

func TestRelTime(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ago  time.Duration
		want string
	}{
		{30 * time.Second, "just now"},
		{-30 * time.Second, "just now"},
		{5 * time.Minute, "5 min ago"},
		{-5 * time.Minute, "in 5 min"},
		{47 * time.Hour, "47 h ago"},
		{72 * time.Hour, "3 days ago"},
		{-72 * time.Hour, "in 3 days"},
		{90 * 24 * time.Hour, "3 months ago"},
	} {
		if got := RelTime(now.Add(-c.ago), now); got != c.want {
			t.Errorf("RelTime(now-%v) = %q, want %q", c.ago, got, c.want)
		}
	}
	if RelTime(time.Time{}, now) != "—" {
		t.Error("the zero time is not a dash")
	}
}
