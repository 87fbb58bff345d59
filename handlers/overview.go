package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/views/overview"
	"github.com/kycdesk/kycdesk/web"
)

// overviewHandler is the start page. It reads only the aggregate tables
// db keeps in step with every status change (see db/overview.go), so it
// stays fast at a million applicants.
type overviewHandler struct{ *Handlers }

// overviewPeriods are the decision-statistics windows offered, in days.
func overviewPeriods() []int { return []int{7, 30, 90} }

// show draws the overview for ?period=7|30|90 (30 by default).
func (h *overviewHandler) show(c echo.Context) error {
	days := 30
	if p := c.QueryParam("period"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || (n != 7 && n != 30 && n != 90) {
			return badRequest("Choose a period of 7, 30 or 90 days.")
		}
		days = n
	}
	data, err := h.deps.DB.Overview(c.Request().Context(), days)
	if err != nil {
		return err
	}
	v := overview.View{
		Page:      h.page(c, "Overview", "overview"),
		Data:      data,
		Periods:   overviewPeriods(),
		Providers: providerNames(),
		Statuses:  statusNames(),
		Now:       h.deps.Now(),
	}
	return web.Render(c, http.StatusOK, overview.Overview(v))
}
