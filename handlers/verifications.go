package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/views/components"
	"github.com/kycdesk/kycdesk/views/verifications"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// verificationsHandler starts verifications and shows their QR and links.
type verificationsHandler struct{ *Handlers }

func (h *verificationsHandler) newView(c echo.Context, provider string) verifications.NewView {
	v := verifications.NewView{Provider: provider}
	for _, a := range h.deps.Registry.All() {
		if a.Starter == nil {
			continue
		}
		if v.Provider == "" {
			v.Provider = string(a.Name)
		}
		v.Providers = append(v.Providers, verifications.Choice{Value: string(a.Name), Label: a.Name.Title()})
	}
	chosen := map[string]bool{}
	for _, m := range corepass.DefaultMeanings() {
		chosen[m] = true
	}
	for _, m := range corepass.Meanings() {
		v.Meanings = append(v.Meanings, verifications.Choice{Value: m, Label: components.MeaningLabel(m), Checked: chosen[m]})
	}
	v.Note = startNote(providers.Name(v.Provider))
	return v
}

func startNote(p providers.Name) string {
	switch p {
	case providers.VerifyYou:
		return "VerifyYou needs nothing but our reference: the user connects from the invite link."
	case providers.Blockpass:
		return "The user completes KYC Connect from the link; the record arrives by webhook and sync."
	case providers.IDfy:
		return "The user is sent to IDfy's capture page and back to the end-user page."
	}
	return ""
}

// optionalApplicant reads ?applicant= / the form's applicant and applies
// the object rule.
func (h *verificationsHandler) optionalApplicant(c echo.Context, raw string) (*db.Applicant, error) {
	if raw == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, badRequest("Unknown applicant.")
	}
	a, err := h.deps.DB.Applicant(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, echo.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, _ := web.StaffFrom(c)
	if authz.OwnOnly(st.Role) && a.CreatedBy != st.ID {
		return nil, echo.ErrNotFound
	}
	if a.Archived() {
		return nil, web.Errorf(http.StatusConflict, "This applicant is archived; start a verification for a new applicant instead.")
	}
	return &a, nil
}

// form shows the start page; with htmx, only the chosen provider's fields.
func (h *verificationsHandler) form(c echo.Context) error {
	p := c.QueryParam("provider")
	if p != "" && !providers.Name(p).Valid() {
		return badRequest("Unknown provider %q.", p)
	}
	v := h.newView(c, p)
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, verifications.Fields(v))
	}
	a, err := h.optionalApplicant(c, c.QueryParam("applicant"))
	if err != nil {
		return err
	}
	v.Applicant = a
	v.Page = h.page(c, "Start a verification", "verifications")
	return web.Render(c, http.StatusOK, verifications.New(v))
}

// create asks the provider to start and shows the result. A provider's
// refusal re-renders the form with its message (200: htmx swaps it).
func (h *verificationsHandler) create(c echo.Context) error {
	st, _ := web.StaffFrom(c)
	p := providers.Name(c.FormValue("provider"))
	if !p.Valid() {
		return badRequest("Choose a provider.")
	}
	a, err := h.optionalApplicant(c, c.FormValue("applicant"))
	if err != nil {
		return err
	}
	v := h.newView(c, string(p))
	v.Applicant = a
	v.Name, v.Email = strings.TrimSpace(c.FormValue("name")), strings.TrimSpace(c.FormValue("email"))
	v.CoreID, v.Partial = strings.TrimSpace(c.FormValue("core_id")), c.FormValue("allow_partial") == "true"
	form, _ := c.FormParams()
	picked := map[string]bool{}
	for _, m := range form["meaning"] {
		picked[m] = true
	}
	for i := range v.Meanings {
		v.Meanings[i].Checked = picked[v.Meanings[i].Value]
	}
	fail := func(msg string) error {
		v.Error = msg
		v.Page = h.page(c, "Start a verification", "verifications")
		return web.Render(c, http.StatusOK, verifications.New(v))
	}
	in := flow.StartInput{Provider: p, Actor: flow.Actor{ID: st.ID, Email: st.Email, IP: web.ClientIP(c)}, Params: map[string]string{}}
	if a != nil {
		in.ApplicantID = a.ID
	} else {
		if v.Name == "" || len(v.Name) > 200 || len(v.Email) > 254 {
			return fail("Enter the applicant's name (up to 200 characters).")
		}
		in.New = &db.NewApplicant{Name: v.Name, Email: v.Email}
	}
	if p == providers.CorePass {
		if err := corepass.ValidateCoreID(v.CoreID); err != nil {
			return fail("That Core ID is not valid: " + err.Error())
		}
		if len(form["meaning"]) == 0 {
			return fail("Choose at least one item to request.")
		}
		in.Params[corepass.ParamCoreID] = v.CoreID
		in.Params[corepass.ParamMeanings] = strings.Join(form["meaning"], ",")
		if v.Partial {
			in.Params[corepass.ParamAllowPartial] = "true"
		}
	}
	if p == providers.IDfy {
		v.IDfy = idfyFieldsFrom(c)
		if msg := addIDfyResources(in.Params, v.IDfy, h.deps.Now()); msg != "" {
			return fail(msg)
		}
	}
	ver, started, err := h.deps.Flow.Start(c.Request().Context(), in)
	var perr *flow.ProviderError
	if errors.As(err, &perr) {
		h.deps.Logger.Warn("start verification refused by provider", "provider", p, "err", err)
		return fail(startRefusal(err))
	}
	if errors.Is(err, flow.ErrNotStartable) || errors.Is(err, flow.ErrUnknownProvider) {
		return fail(err.Error())
	}
	if err != nil {
		return err
	}
	msg := "Verification started."
	if len(started.Notes) > 0 {
		msg += " " + strings.Join(started.Notes, " ")
	}
	h.deps.Web.Sessions.Flash(c, msg)
	return web.Redirect(c, fmt.Sprintf("/verifications/%d", ver.ID))
}

func (h *verificationsHandler) load(c echo.Context) (db.Verification, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Verification{}, echo.ErrNotFound
	}
	v, err := h.deps.DB.Verification(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return v, echo.ErrNotFound
	}
	if err != nil {
		return v, err
	}
	st, _ := web.StaffFrom(c)
	if authz.OwnOnly(st.Role) && v.CreatedBy != st.ID {
		h.OnDenied(c, st, fmt.Sprintf("not the creator of verification %d", v.ID))
		return v, echo.ErrNotFound
	}
	return v, nil
}

// show is the QR / link page of one verification.
func (h *verificationsHandler) show(c echo.Context) error {
	v, err := h.load(c)
	if err != nil {
		return err
	}
	a, err := h.deps.DB.Applicant(c.Request().Context(), v.ApplicantID)
	if err != nil {
		return err
	}
	view := verifications.ShowView{Verification: v, Applicant: a, EndUserURL: h.deps.Flow.EndUserURL(v.Token), Now: h.deps.Now()}
	view.Page = h.page(c, "Verification", "verifications")
	return web.Render(c, http.StatusOK, verifications.Show(view))
}

// qr is the verification's QR image for the staff page.
func (h *verificationsHandler) qr(c echo.Context) error {
	v, err := h.load(c)
	if err != nil {
		return err
	}
	return writeQR(c, v)
}
