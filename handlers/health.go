package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type healthHandler struct{ *Handlers }

// check answers 200 when the database answers.
func (h *healthHandler) check(c echo.Context) error {
	if err := h.deps.DB.Ping(c.Request().Context()); err != nil {
		h.deps.Logger.Error("health check", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}
