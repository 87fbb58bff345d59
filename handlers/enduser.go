package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/views/enduser"
	"github.com/kycdesk/kycdesk/web"
)

// endUserHandler serves the applicant's own page /v/{token}: the provider
// step (button or QR), plain instructions and the live status. The token
// is the only credential; the page never shows personal data.
type endUserHandler struct{ *Handlers }

func (h *endUserHandler) load(c echo.Context) (db.Verification, bool, error) {
	tok := c.Param("token")
	if len(tok) < 20 || len(tok) > 100 {
		return db.Verification{}, false, nil
	}
	v, err := h.deps.DB.VerificationByToken(c.Request().Context(), tok)
	if errors.Is(err, db.ErrNotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if v.TokenExpiresAt.Before(h.deps.Now()) {
		return v, false, nil
	}
	return v, true, nil
}

func (h *endUserHandler) view(v db.Verification) enduser.PageView {
	st := providers.Status(v.Status)
	pv := enduser.PageView{
		Token:        v.Token,
		Provider:     v.Provider,
		Link:         v.Link,
		HasQR:        v.Link != "" || len(v.QRPNG) > 0,
		Status:       v.Status,
		StatusText:   endUserStatusText(st),
		Sandbox:      h.deps.Sandbox,
		Instructions: endUserInstructions(providers.Name(v.Provider)),
	}
	if !v.ExpiresAt.IsZero() && v.ExpiresAt.Before(h.deps.Now()) && !st.Terminal() && st == providers.StatusInvited {
		pv.Expired = true
	}
	// Once the provider has what it needs, the step is done: no button
	// back into it (the IDfy capture, a used CorePass QR).
	if st.Terminal() || st == providers.StatusNeedsReview {
		pv.Link, pv.HasQR = "", false
	}
	return pv
}

// page is the full end-user page.
func (h *endUserHandler) page(c echo.Context) error {
	v, ok, err := h.load(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	if !ok {
		return web.Render(c, http.StatusNotFound, enduser.NotFound(h.deps.Sandbox))
	}
	return web.Render(c, http.StatusOK, enduser.Page(h.view(v)))
}

// status is the polled status fragment.
func (h *endUserHandler) status(c echo.Context) error {
	v, ok, err := h.load(c)
	if err != nil {
		return err
	}
	if !ok {
		return web.Render(c, http.StatusNotFound, enduser.NotFound(h.deps.Sandbox))
	}
	return web.Render(c, http.StatusOK, enduser.Status(h.view(v)))
}

// qr is the QR image: the provider's own when it made one, else ours of
// the provider link.
func (h *endUserHandler) qr(c echo.Context) error {
	v, ok, err := h.load(c)
	if err != nil {
		return err
	}
	if !ok {
		return echo.ErrNotFound
	}
	return writeQR(c, v)
}

func writeQR(c echo.Context, v db.Verification) error {
	if len(v.QRPNG) > 0 {
		return c.Blob(http.StatusOK, "image/png", v.QRPNG)
	}
	if v.Link == "" {
		return echo.ErrNotFound
	}
	png, err := qrcode.Encode(v.Link, qrcode.Medium, 384)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/png", png)
}

func endUserInstructions(p providers.Name) string {
	switch p {
	case providers.CorePass:
		return "Open the CorePass app and scan the code, or tap the button on your phone. CorePass will ask you to confirm which verified details to share."
	case providers.VerifyYou:
		return "Tap the button to connect your VerifyYou identity, or scan the code with your phone's camera."
	case providers.Blockpass:
		return "Tap the button to share your Blockpass identity, or scan the code with your phone's camera."
	case providers.IDfy:
		return "Tap the button to start a short video verification with IDfy. Have your identity document ready."
	case providers.SelfKey:
		return "Open the SelfKey Identity Wallet and scan the code to share your identity."
	}
	return "Follow the provider's steps to verify your identity."
}

func endUserStatusText(s providers.Status) string {
	switch s {
	case providers.StatusInvited:
		return "Waiting for you to start."
	case providers.StatusInProgress:
		return "In progress — your details are on their way."
	case providers.StatusNeedsReview:
		return "Received. A reviewer is checking your details; you can close this page."
	case providers.StatusApproved:
		return "Done. Your identity is verified; you can close this page."
	case providers.StatusRejected, providers.StatusBlocked:
		return "The verification was not successful. The company will contact you about next steps."
	case providers.StatusExpired:
		return "This verification expired. Ask for a new link."
	case providers.StatusFailed:
		return "Something went wrong with the transfer. Ask for a new link."
	case providers.StatusWithdrawn:
		return "You withdrew this verification."
	}
	return "Waiting."
}
