package envconfig

import (
	"strings"
	"testing"
	"time"
)

func TestIntervalParse(t *testing.T) {
	job := Interval{Name: "KYCDESK_X", Default: time.Hour, Min: time.Minute, Off: true, BareUnit: time.Minute}
	poll := Interval{Name: "KYCDESK_Y", Default: time.Minute, Min: 5 * time.Second, Max: 24 * time.Hour, BareUnit: time.Second}
	timeout := Interval{Name: "KYCDESK_Z", Default: 30 * time.Minute}
	for _, c := range []struct {
		iv      Interval
		in      string
		want    time.Duration
		wantErr bool
	}{
		{job, "", time.Hour, false},
		{job, "  ", time.Hour, false},
		{job, "2h", 2 * time.Hour, false},
		{job, " 45 ", 45 * time.Minute, false},
		{job, "off", 0, false},
		{job, "OFF", 0, false},
		{job, "0", 0, false},
		{job, "10s", 0, true},
		{job, "-5", 0, true},
		{job, "soon", 0, true},
		{poll, "120", 2 * time.Minute, false},
		{poll, "30s", 30 * time.Second, false},
		{poll, "0", 0, true},
		{poll, "off", 0, true},
		{poll, "48h", 0, true},
		{poll, "172800", 0, true},
		{poll, "-5m", 0, true},
		{timeout, "12h", 12 * time.Hour, false},
		{timeout, "0", 0, true},
		{timeout, "90", 0, true},
	} {
		got, err := c.iv.Parse(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("%s=%q: %v, %v; want %v (error %v)", c.iv.Name, c.in, got, err, c.want, c.wantErr)
		}
		if err != nil && !strings.HasPrefix(err.Error(), c.iv.Name+": want ") {
			t.Errorf("%s=%q: error %q does not name the variable", c.iv.Name, c.in, err)
		}
	}
	_, err := Interval{Name: "N", Min: time.Minute, Off: true}.Parse("1s")
	if err == nil || err.Error() != `N: want a duration of at least 1m (like 1h or 30m) or off, got "1s"` {
		t.Errorf("message: %v", err)
	}
}
