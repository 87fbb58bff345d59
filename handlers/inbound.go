package handlers

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/providers/verifyyou"
	"github.com/kycdesk/kycdesk/web"
)

// inboundHandler receives provider webhooks and callbacks: authenticate
// from the raw body, store durably, answer 200; processing happens after
// the answer (flow's inbox processor).
type inboundHandler struct{ *Handlers }

// Body limits: webhooks are small; a CorePass data callback carries
// document images.
const (
	maxWebhookBytes      = 1 << 20
	maxDataCallbackBytes = 32 << 20
)

// remoteChecker is implemented by verifiers that also restrict callers by
// address (the IDfy IP allow-list).
type remoteChecker interface {
	AllowsRemote(remote string) bool
}

// receive is the shared path of every inbound endpoint.
func (h *inboundHandler) receive(c echo.Context, p providers.Name, endpoint string, limit int64) error {
	log := h.deps.Logger.With("provider", p, "endpoint", endpoint, "request_id", web.RequestID(c))
	a, ok := h.deps.Registry.Get(p)
	if !ok || a.Verifier == nil {
		return c.JSON(http.StatusNotFound, apiError("not_configured", string(p)+" is not configured here"))
	}
	if rc, ok := a.Verifier.(remoteChecker); ok && !rc.AllowsRemote(c.RealIP()) {
		log.Warn("inbound refused: caller not on the allow-list")
		return c.JSON(http.StatusForbidden, apiError("forbidden", "caller address not allowed"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, limit))
	if err != nil {
		log.Warn("inbound refused: body too large or unreadable")
		return c.JSON(http.StatusRequestEntityTooLarge, apiError("too_large", "body too large or unreadable"))
	}
	d, err := a.Verifier.VerifyInbound(c.Request().Header, body, h.deps.Now())
	if err != nil {
		code, kind := http.StatusBadRequest, "malformed"
		switch {
		case errors.Is(err, providers.ErrBadSignature):
			code, kind = http.StatusUnauthorized, "bad_signature"
		case errors.Is(err, providers.ErrExpired):
			code, kind = http.StatusUnauthorized, "expired"
		}
		log.Warn("inbound refused", "reason", kind, "err", err)
		return c.JSON(code, apiError(kind, inboundRefusal(kind)))
	}
	if d.Ping {
		return c.JSON(http.StatusOK, map[string]string{"status": "pong"})
	}
	if d.Provider == "" {
		d.Provider = p
	}
	id, fresh, err := h.deps.Flow.Accept(c.Request().Context(), flow.Inbound{
		Provider:    p,
		Endpoint:    endpoint,
		Delivery:    d,
		Header:      c.Request().Header,
		ContentType: c.Request().Header.Get("Content-Type"),
		Body:        body,
	})
	if err != nil {
		// Not stored: say so with a 5xx so the provider retries.
		log.Error("inbound not stored", "err", err)
		return c.JSON(http.StatusServiceUnavailable, apiError("unavailable", "not stored; retry later"))
	}
	status := "stored"
	if !fresh {
		status = "duplicate"
	}
	log.Info("inbound stored", "inbox_id", id, "duplicate", !fresh)
	return c.JSON(http.StatusOK, map[string]any{"status": status, "id": id})
}

func inboundRefusal(kind string) string {
	switch kind {
	case "bad_signature":
		return "signature missing or invalid"
	case "expired":
		return "deadline passed"
	}
	return "body not understood"
}

func apiError(code, msg string) map[string]string {
	return map[string]string{"code": code, "message": msg}
}

func (h *inboundHandler) corepassStatus(c echo.Context) error {
	return h.receive(c, providers.CorePass, "callbacks/corepass/status", maxWebhookBytes)
}

func (h *inboundHandler) corepassData(c echo.Context) error {
	return h.receive(c, providers.CorePass, "callbacks/corepass/data", maxDataCallbackBytes)
}

// verifyYouEvents are the events VerifyYou appends to our webhook URL.
var verifyYouEvents = map[string]bool{
	verifyyou.EventConnectionVerified: true, verifyyou.EventConnectionDeleted: true, verifyyou.EventDeverification: true,
}

func (h *inboundHandler) verifyYou(c echo.Context) error {
	event := c.Param("event")
	if !verifyYouEvents[event] {
		return c.JSON(http.StatusNotFound, apiError("unknown_event", "unknown VerifyYou event "+strings.ToValidUTF8(event, "")))
	}
	return h.receive(c, providers.VerifyYou, "webhooks/verifyyou/"+event, maxWebhookBytes)
}

func (h *inboundHandler) idfy(c echo.Context) error {
	return h.receive(c, providers.IDfy, "webhooks/idfy", maxWebhookBytes)
}

func (h *inboundHandler) blockpass(c echo.Context) error {
	return h.receive(c, providers.Blockpass, "webhooks/blockpass", maxWebhookBytes)
}
