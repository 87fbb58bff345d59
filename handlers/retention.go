package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views/archive"
	"github.com/kycdesk/kycdesk/web"
)

// retentionHandler is the admin page of the retention policy.
type retentionHandler struct{ *Handlers }

// dueShown is how many due applicants the page lists by name.
const dueShown = 20

// runLimit bounds one "run now" from the page; the scheduled job takes
// the rest.
const runLimit = 1000

// show renders the policy.
func (h *retentionHandler) show(c echo.Context) error {
	rules, err := h.deps.DB.RetentionRules(c.Request().Context())
	if err != nil {
		return err
	}
	days := map[string]string{}
	for _, r := range rules {
		days[archive.RuleKey(r.Provider, r.Outcome)] = strconv.Itoa(r.Days)
	}
	return h.render(c, http.StatusOK, days, nil, "")
}

func (h *retentionHandler) render(c echo.Context, code int, days, errs map[string]string, formErr string) error {
	ctx := c.Request().Context()
	now := h.deps.Now()
	v := archive.RetentionView{Providers: db.RetentionProviders, Outcomes: db.RetentionOutcomes, Days: days, Errors: errs,
		FormError: formErr, Now: now, Interval: "on no schedule (the server has not started the job)"}
	var err error
	if v.LastRun, err = h.deps.DB.LastRetentionRun(ctx); err != nil {
		return err
	}
	due, err := h.deps.DB.RetentionDue(ctx, now, 0)
	if err != nil {
		return err
	}
	v.DueCount = len(due)
	v.Due = due[:min(len(due), dueShown)]
	if every, ok, err := h.deps.DB.RetentionSchedule(ctx); err != nil {
		return err
	} else if ok && every > 0 {
		v.Interval = "every " + every.String()
	} else if ok {
		v.Interval = "only when started by hand (the schedule is off)"
	}
	v.Page = h.page(c, "Retention policy", "admin")
	return web.Render(c, code, archive.Retention(v))
}

// save replaces the policy with the form's rules. An invalid field
// re-renders the form with what was typed and says what is wrong.
func (h *retentionHandler) save(c echo.Context) error {
	days := map[string]string{}
	errs := map[string]string{}
	var rules []db.RetentionRule
	for _, p := range db.RetentionProviders {
		for _, o := range db.RetentionOutcomes {
			key := archive.RuleKey(p, o)
			raw := strings.TrimSpace(c.FormValue("days." + p + "." + o))
			days[key] = raw
			if raw == "" {
				continue
			}
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 || n > db.MaxRetentionDays {
				errs[key] = fmt.Sprintf("A whole number of days, 0 to %d.", db.MaxRetentionDays)
				continue
			}
			rules = append(rules, db.RetentionRule{Provider: p, Outcome: o, Days: n})
		}
	}
	if len(errs) > 0 {
		return h.render(c, http.StatusOK, days, errs, "Some fields are not valid; nothing was saved.")
	}
	if err := h.deps.DB.SetRetentionRules(c.Request().Context(), rules, h.auditEntry(c)); err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, fmt.Sprintf("Retention policy saved: %d rules.", len(rules)))
	return web.Redirect(c, "/admin/retention")
}

// run applies the policy now, up to runLimit applicants.
func (h *retentionHandler) run(c echo.Context) error {
	rep, err := h.deps.DB.RunRetention(c.Request().Context(), db.RetentionRun{Now: h.deps.Now(), Limit: runLimit})
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Retention run: %d applicants archived.", len(rep.Archived))
	if rep.Skipped > 0 {
		msg += fmt.Sprintf(" %d were no longer due when their turn came.", rep.Skipped)
	}
	if len(rep.Due) == runLimit {
		msg += " More may be due: the scheduled job continues."
	}
	if err := h.audit(c, "retention.run", "retention", fmt.Sprintf("archived=%d due=%d", len(rep.Archived), len(rep.Due))); err != nil {
		return err
	}
	h.deps.Web.Sessions.Flash(c, msg)
	return web.Redirect(c, "/admin/retention")
}
