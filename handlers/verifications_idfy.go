package handlers

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/providers/idfy"
	"github.com/kycdesk/kycdesk/views/verifications"
)

// idfyFieldsFrom reads IDfy's optional text resources from the start form.
func idfyFieldsFrom(c echo.Context) verifications.IDfyFields {
	return verifications.IDfyFields{
		FirstName: strings.TrimSpace(c.FormValue("idfy_first_name")),
		LastName:  strings.TrimSpace(c.FormValue("idfy_last_name")),
		DOB:       strings.TrimSpace(c.FormValue("idfy_dob")),
		Address:   strings.TrimSpace(c.FormValue("idfy_address")),
	}
}

// addIDfyResources turns the filled fields into the adapter's text.<attr>
// start parameters: name as IDfy's {"first_name", "last_name"} object, dob
// as YYYY-MM-DD, address as text. It returns what to tell staff when a
// field is not acceptable.
func addIDfyResources(params map[string]string, f verifications.IDfyFields, now time.Time) string {
	if len(f.FirstName) > 100 || len(f.LastName) > 100 || len(f.Address) > 300 {
		return "A detail for IDfy is too long (names up to 100 characters, the address up to 300)."
	}
	if f.FirstName != "" || f.LastName != "" {
		name := map[string]string{}
		if f.FirstName != "" {
			name["first_name"] = f.FirstName
		}
		if f.LastName != "" {
			name["last_name"] = f.LastName
		}
		b, _ := json.Marshal(name)
		params[idfy.ParamTextPrefix+"name"] = string(b)
	}
	if f.DOB != "" {
		dob, err := time.Parse(time.DateOnly, f.DOB)
		if err != nil || !dob.Before(now) || dob.Year() < 1900 {
			return "Enter the date of birth as a past date (YYYY-MM-DD)."
		}
		params[idfy.ParamTextPrefix+"dob"] = dob.Format(time.DateOnly)
	}
	if f.Address != "" {
		params[idfy.ParamTextPrefix+"address"] = f.Address
	}
	return ""
}

// startRefusal is a provider's refusal to start as staff should read it.
// An IDfy capture link that would break one of IDfy's rules for
// redirect_uri and exit_url names the rule and what to change.
func startRefusal(err error) string {
	var le *idfy.LinkError
	if !errors.As(err, &le) {
		return err.Error()
	}
	msg := "IDfy's capture link was refused: the " + le.Field + " breaks the rule \u201c" + string(le.Rule) + "\u201d"
	if le.Detail != "" {
		msg += " (" + le.Detail + ")"
	}
	msg += "."
	switch {
	case le.Field == "redirect_uri" || le.Field == "exit_url":
		msg += " The user returns to this verification's end-user page, so KYCDESK_BASE_URL must be the https address applicants reach KYC Desk at."
	case le.Field == "capture_link":
		msg += " The link IDfy returned cannot be used; nothing was sent to the user. Contact IDfy with the verification's time."
	}
	return msg
}
