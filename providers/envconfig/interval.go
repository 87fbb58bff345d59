// Package envconfig reads the KYCDESK_* settings that are not secrets
// (those are providers/envsecret's): today, the intervals of the jobs and
// timeouts, which every part of the app spelled out again.
package envconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Interval describes one interval setting.
type Interval struct {
	Name     string        // the variable, for errors
	Default  time.Duration // when it is unset or blank
	Min, Max time.Duration // bounds; 0: none (an interval is always positive)
	Off      bool          // "off" and "0" turn the job off: Parse returns 0
	BareUnit time.Duration // a bare whole number counts in this unit; 0: not accepted
}

// Parse reads v, the variable's value: blank is the default, otherwise a Go
// duration (or a bare number, or off, where the setting takes them) within
// the bounds.
func (iv Interval) Parse(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return iv.Default, nil
	}
	if iv.Off && (strings.EqualFold(v, "off") || v == "0") {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil && iv.BareUnit > 0 {
		if n, nerr := strconv.ParseInt(v, 10, 64); nerr == nil && (iv.Max == 0 || n <= int64(iv.Max/iv.BareUnit)) {
			d, err = time.Duration(n)*iv.BareUnit, nil
		}
	}
	if err != nil || d <= 0 || d < iv.Min || (iv.Max > 0 && d > iv.Max) {
		return 0, fmt.Errorf("%s: want %s, got %q", iv.Name, iv.want(), v)
	}
	return d, nil
}

// want says what the setting takes, e.g. "a duration of at least 1m (like
// 1h or 30m) or off".
func (iv Interval) want() string {
	w := "a duration"
	if iv.Min > 0 {
		w += " of at least " + short(iv.Min)
	}
	if iv.Max > 0 {
		w += " and at most " + short(iv.Max)
	}
	w += " (like 1h or 30m)"
	switch iv.BareUnit {
	case 0:
	case time.Second:
		w += " or whole seconds"
	case time.Minute:
		w += " or whole minutes"
	default:
		w += " or a whole number of " + short(iv.BareUnit)
	}
	if iv.Off {
		w += " or off"
	}
	return w
}

// short is d as people write it: 1m, not 1m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
