package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/audit"
	"github.com/kycdesk/kycdesk/web"
)

// auditHandler serves /audit, the audit log for admins and auditors.
type auditHandler struct{ *Handlers }

// auditPageSize is the audit page's size.
const auditPageSize = 50

// parseAuditTime reads a filter time as the form sends it (UTC).
func parseAuditTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequest("%q is not a time: use a date like 2026-11-20, or a date and time like 2026-11-20T14:30 (UTC).", s)
}

// parseAuditQuery validates the audit page's query string.
func parseAuditQuery(q url.Values, rawLen int) (audit.Filter, db.AuditFilter, error) {
	if rawLen > maxQueryLen {
		return audit.Filter{}, db.AuditFilter{}, badRequest("This address is too long to be an audit view. Start again from the audit page.")
	}
	f := audit.Filter{
		Actor:  strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")),
		Object: strings.TrimSpace(q.Get("object")),
		Since:  strings.TrimSpace(q.Get("since")),
		Until:  strings.TrimSpace(q.Get("until")),
	}
	df := db.AuditFilter{Actor: f.Actor, Action: f.Action, Object: f.Object, Limit: auditPageSize + 1}
	for _, v := range []string{f.Actor, f.Action, f.Object} {
		if len(v) > 254 {
			return audit.Filter{}, db.AuditFilter{}, badRequest("A filter is limited to 254 characters.")
		}
	}
	var err error
	if f.Since != "" {
		if df.Since, err = parseAuditTime(f.Since); err != nil {
			return audit.Filter{}, db.AuditFilter{}, err
		}
	}
	if f.Until != "" {
		if df.Until, err = parseAuditTime(f.Until); err != nil {
			return audit.Filter{}, db.AuditFilter{}, err
		}
		if len(f.Until) == len("2006-01-02") {
			df.Until = df.Until.AddDate(0, 0, 1) // a date means up to the end of that day
		}
	}
	if b := q.Get("before"); b != "" {
		if df.Before, err = strconv.ParseInt(b, 10, 64); err != nil || df.Before <= 0 {
			return audit.Filter{}, db.AuditFilter{}, badRequest("This page link is broken. Start again from the newest entries.")
		}
	}
	return f, df, nil
}

func auditURL(f audit.Filter, before int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "action": f.Action, "object": f.Object, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return "/audit"
	}
	return "/audit?" + q.Encode()
}

// list shows the audit log, filtered and paged by entry id (keyset). An
// htmx request gets only the results.
func (h *auditHandler) list(c echo.Context) error {
	f, df, err := parseAuditQuery(c.QueryParams(), len(c.Request().URL.RawQuery))
	if err != nil {
		return err
	}
	entries, err := h.deps.DB.ListAudit(c.Request().Context(), df)
	if err != nil {
		return err
	}
	v := audit.ListView{Filter: f, Entries: entries, Now: h.deps.Now(), Actions: audit.Actions()}
	if len(entries) > auditPageSize {
		v.Entries = entries[:auditPageSize]
		v.NextURL = auditURL(f, v.Entries[auditPageSize-1].ID)
	}
	if df.Before > 0 {
		v.FirstURL = auditURL(f, 0)
	}
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, audit.Results(v))
	}
	v.Page = h.page(c, "Audit log", "audit")
	return web.Render(c, http.StatusOK, audit.List(v))
}
