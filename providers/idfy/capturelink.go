package idfy

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// LinkRule names the IDfy best practice (seed, "Best practices for
// redirect_uri") a capture link would break.
type LinkRule string

// The rules CaptureLink enforces. The seed's seventh practice (URI-encode the
// added parameters) is how CaptureLink builds the link, not a check.
const (
	RuleNoFragment      LinkRule = "no '#' (browsers strip it)"                             // practice 1
	RuleSessionSpecific LinkRule = "user- and session-specific"                             // practice 2
	RuleHTTPS           LinkRule = "https only"                                             // practice 3
	RuleNoSessionAccess LinkRule = "no direct session access"                               // practice 4
	RuleNoPII           LinkRule = "no PII in the URL"                                      // practice 5
	RuleExpiry          LinkRule = "an expiry in the future"                                // practice 6
	RuleAbsolute        LinkRule = "an absolute URL with a host"                            // needed to redirect at all
	RuleOwnParams       LinkRule = "the capture link must not already carry the parameters" // ours to add
)

// LinkError says which rule a capture link, redirect_uri or exit_url broke.
// It never carries the URL itself (it may hold PII, the reason to refuse).
type LinkError struct {
	Field  string // "capture_link", "redirect_uri", "exit_url" or "expires"
	Rule   LinkRule
	Detail string
}

// Error implements error: the field and the rule, never the URL.
func (e *LinkError) Error() string {
	msg := "idfy: capture link: " + e.Field + ": breaks rule " + string(e.Rule)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// isPIIParam reports whether a query parameter name (lower case, without
// '_', '-' and '.') names personal data.
func isPIIParam(key string) bool {
	switch key {
	case "name", "firstname", "lastname", "fullname", "middlename",
		"email", "mail", "emailaddress", "phone", "mobile", "msisdn", "phonenumber",
		"dob", "dateofbirth", "birthdate", "birthday",
		"pan", "aadhaar", "aadhar", "passport", "passportnumber", "ssn", "nationalid",
		"address", "street", "postcode", "zip":
		return true
	}
	return false
}

// isSessionParam reports whether a query parameter name hands out a session
// or a credential: opening such a URL in isolation would grant access.
func isSessionParam(key string) bool {
	switch key {
	case "session", "sessionid", "sid", "jsessionid", "phpsessid",
		"accesstoken", "idtoken", "refreshtoken", "auth", "authorization",
		"apikey", "password", "passwd", "secret", "bearer":
		return true
	}
	return false
}

// CaptureLink appends redirect_uri and exit_url (URI-encoded) to IDfy's
// capture link, and refuses, with a *LinkError naming the rule, a link that
// breaks the seed's best practices:
//   - base, redirect_uri and exit_url are absolute https URLs. Plain http is
//     allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1), which is
//     what sandbox mode runs on; no other exception.
//   - none contains '#'.
//   - redirect_uri and exit_url are session-specific (not a bare site root),
//     carry no userinfo and no session or credential parameter, and no PII
//     (no '@', no parameter named like personal data).
//   - expires is set and after now (the session the link leads back to
//     must expire).
//
// exitURL may be empty (the parameter is then left out); redirectURI may
// not. The base link's own query (IDfy's token) is kept as is.
func CaptureLink(base string, redirectURI, exitURL string, expires time.Time, now time.Time) (string, error) {
	bu, err := checkURL("capture_link", base)
	if err != nil {
		return "", err
	}
	q := bu.Query()
	if q.Has("redirect_uri") || q.Has("exit_url") {
		return "", &LinkError{Field: "capture_link", Rule: RuleOwnParams}
	}
	if err := checkReturn("redirect_uri", redirectURI); err != nil {
		return "", err
	}
	if exitURL != "" {
		if err := checkReturn("exit_url", exitURL); err != nil {
			return "", err
		}
	}
	switch {
	case expires.IsZero():
		return "", &LinkError{Field: "expires", Rule: RuleExpiry, Detail: "no expiry given"}
	case !expires.After(now):
		return "", &LinkError{Field: "expires", Rule: RuleExpiry, Detail: "already expired"}
	}
	link := base
	switch {
	case !strings.Contains(link, "?"):
		link += "?"
	case !strings.HasSuffix(link, "?") && !strings.HasSuffix(link, "&"):
		link += "&"
	}
	link += "redirect_uri=" + url.QueryEscape(redirectURI)
	if exitURL != "" {
		link += "&exit_url=" + url.QueryEscape(exitURL)
	}
	return link, nil
}

// checkURL applies the rules every URL of the link shares: absolute, https
// (or http on loopback), no '#'.
func checkURL(field, raw string) (*url.URL, error) {
	if strings.Contains(raw, "#") {
		return nil, &LinkError{Field: field, Rule: RuleNoFragment}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, &LinkError{Field: field, Rule: RuleAbsolute}
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, &LinkError{Field: field, Rule: RuleHTTPS, Detail: "http is allowed for loopback hosts only"}
		}
	default:
		return nil, &LinkError{Field: field, Rule: RuleHTTPS}
	}
	return u, nil
}

// checkReturn applies checkURL plus the rules for the URLs the end user
// returns to.
func checkReturn(field, raw string) error {
	u, err := checkURL(field, raw)
	if err != nil {
		return err
	}
	if u.User != nil {
		return &LinkError{Field: field, Rule: RuleNoSessionAccess, Detail: "credentials in the URL"}
	}
	if (u.Path == "" || u.Path == "/") && u.RawQuery == "" {
		return &LinkError{Field: field, Rule: RuleSessionSpecific, Detail: "a bare site root"}
	}
	path, _ := url.PathUnescape(u.EscapedPath())
	query, _ := url.QueryUnescape(u.RawQuery)
	if strings.Contains(path, "@") || strings.Contains(query, "@") {
		return &LinkError{Field: field, Rule: RuleNoPII, Detail: "looks like an email address"}
	}
	for name := range u.Query() {
		key := strings.NewReplacer("_", "", "-", "", ".", "").Replace(strings.ToLower(name))
		if isPIIParam(key) {
			return &LinkError{Field: field, Rule: RuleNoPII, Detail: "parameter " + name}
		}
		if isSessionParam(key) {
			return &LinkError{Field: field, Rule: RuleNoSessionAccess, Detail: "parameter " + name}
		}
	}
	return nil
}

// IsLoopback reports whether host (a name or an address, without port) is a
// loopback host: localhost, *.localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
