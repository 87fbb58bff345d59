package idfy

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

func TestCaptureLink(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	later := now.Add(30 * time.Minute)
	const base = "https://capture.idfy.com?t=test123"
	const redirect = "https://desk.example.com/v/Zk3p9QxL?step=done"
	const exit = "https://desk.example.com/v/Zk3p9QxL?step=cancel"
	tests := []struct {
		name                 string
		base, redirect, exit string
		expires              time.Time
		want                 string
		wantField            string
		wantRule             LinkRule
	}{
		{name: "both params encoded, base query kept", base: base, redirect: redirect, exit: exit, expires: later,
			want: "https://capture.idfy.com?t=test123&redirect_uri=https%3A%2F%2Fdesk.example.com%2Fv%2FZk3p9QxL%3Fstep%3Ddone&exit_url=https%3A%2F%2Fdesk.example.com%2Fv%2FZk3p9QxL%3Fstep%3Dcancel"},
		{name: "base without query, no exit_url", base: "https://capture.idfy.com/c/abc", redirect: "https://desk.example.com/v/Zk3p9QxL", expires: later,
			want: "https://capture.idfy.com/c/abc?redirect_uri=https%3A%2F%2Fdesk.example.com%2Fv%2FZk3p9QxL"},
		{name: "sandbox: http on loopback", base: "http://127.0.0.1:8080/sandbox/idfy/_sim/idfy/capture/p1?t=x", redirect: "http://localhost:8080/v/tok", exit: "http://[::1]:8080/v/tok?x=1", expires: later,
			want: "http://127.0.0.1:8080/sandbox/idfy/_sim/idfy/capture/p1?t=x&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fv%2Ftok&exit_url=http%3A%2F%2F%5B%3A%3A1%5D%3A8080%2Fv%2Ftok%3Fx%3D1"},
		{name: "fragment in redirect", base: base, redirect: "https://desk.example.com/v/tok#done", expires: later, wantField: "redirect_uri", wantRule: RuleNoFragment},
		{name: "fragment in exit", base: base, redirect: redirect, exit: "https://desk.example.com/#/exit", expires: later, wantField: "exit_url", wantRule: RuleNoFragment},
		{name: "fragment in base", base: "https://capture.idfy.com?t=1#x", redirect: redirect, expires: later, wantField: "capture_link", wantRule: RuleNoFragment},
		{name: "http redirect", base: base, redirect: "http://desk.example.com/v/tok", expires: later, wantField: "redirect_uri", wantRule: RuleHTTPS},
		{name: "http base not loopback", base: "http://capture.idfy.com?t=1", redirect: redirect, expires: later, wantField: "capture_link", wantRule: RuleHTTPS},
		{name: "http on a LAN address", base: base, redirect: "http://192.168.1.20/v/tok", expires: later, wantField: "redirect_uri", wantRule: RuleHTTPS},
		{name: "javascript scheme", base: base, redirect: "javascript:alert(1)", expires: later, wantField: "redirect_uri", wantRule: RuleAbsolute},
		{name: "relative redirect", base: base, redirect: "/v/tok", expires: later, wantField: "redirect_uri", wantRule: RuleAbsolute},
		{name: "empty redirect", base: base, redirect: "", expires: later, wantField: "redirect_uri", wantRule: RuleAbsolute},
		{name: "bare site root", base: base, redirect: "https://desk.example.com/", expires: later, wantField: "redirect_uri", wantRule: RuleSessionSpecific},
		{name: "email in query", base: base, redirect: "https://desk.example.com/v/tok?u=asha@example.com", expires: later, wantField: "redirect_uri", wantRule: RuleNoPII},
		{name: "email in path", base: base, redirect: "https://desk.example.com/u/asha%40example.com", expires: later, wantField: "redirect_uri", wantRule: RuleNoPII},
		{name: "PII parameter", base: base, redirect: "https://desk.example.com/v/tok?first_name=Asha", expires: later, wantField: "redirect_uri", wantRule: RuleNoPII},
		{name: "phone parameter in exit", base: base, redirect: redirect, exit: "https://desk.example.com/v/tok?Mobile=98", expires: later, wantField: "exit_url", wantRule: RuleNoPII},
		{name: "session id parameter", base: base, redirect: "https://desk.example.com/v/tok?session_id=abc", expires: later, wantField: "redirect_uri", wantRule: RuleNoSessionAccess},
		{name: "access token parameter", base: base, redirect: "https://desk.example.com/cb?access_token=abc", expires: later, wantField: "redirect_uri", wantRule: RuleNoSessionAccess},
		{name: "credentials in URL", base: base, redirect: "https://user:pw@desk.example.com/v/tok", expires: later, wantField: "redirect_uri", wantRule: RuleNoSessionAccess},
		{name: "no expiry", base: base, redirect: redirect, wantField: "expires", wantRule: RuleExpiry},
		{name: "expired", base: base, redirect: redirect, expires: now, wantField: "expires", wantRule: RuleExpiry},
		{name: "base already has redirect_uri", base: base + "&redirect_uri=x", redirect: redirect, expires: later, wantField: "capture_link", wantRule: RuleOwnParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CaptureLink(tt.base, tt.redirect, tt.exit, tt.expires, now)
			if tt.wantRule != "" {
				var le *LinkError
				if !errors.As(err, &le) {
					t.Fatalf("err = %v, want a *LinkError", err)
				}
				if le.Field != tt.wantField || le.Rule != tt.wantRule {
					t.Fatalf("broke %s/%q, want %s/%q", le.Field, le.Rule, tt.wantField, tt.wantRule)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("link\n got %s\nwant %s", got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if r := u.Query().Get("redirect_uri"); r != tt.redirect {
				t.Errorf("redirect_uri round trip %q, want %q", r, tt.redirect)
			}
			if e := u.Query().Get("exit_url"); e != tt.exit {
				t.Errorf("exit_url round trip %q, want %q", e, tt.exit)
			}
		})
	}
}

func TestLinkErrorNamesRuleNotURL(t *testing.T) {
	_, err := CaptureLink("https://capture.idfy.com?t=1", "https://desk.example.com/v/tok?email=asha.rao%40example.com", "", time.Now().Add(time.Hour), time.Now())
	if err == nil {
		t.Fatal("want an error")
	}
	if msg := err.Error(); !contains(msg, string(RuleNoPII)) || contains(msg, "asha") {
		t.Errorf("error %q: want the rule, not the URL", msg)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST.": true, "app.localhost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true, "[::1]": true,
		"10.0.0.1": false, "example.com": false, "localhost.example.com": false, "": false, "0.0.0.0": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
