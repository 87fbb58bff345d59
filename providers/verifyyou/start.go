package verifyyou

import (
	"context"

	"github.com/kycdesk/kycdesk/providers"
)

// Start registers req.Reference with VerifyYou and returns its invite URL
// as the link (the app renders the QR code). Re-starting an already
// registered reference returns the same invite and the current state.
// StartRequest.Params are not used; the seed API takes no return URL or
// expiry, so a ReturnURL or TTL is reported in Notes rather than honoured.
func (c *Client) Start(ctx context.Context, req providers.StartRequest) (providers.Started, error) {
	reg, err := c.Register(ctx, req.Reference)
	if err != nil {
		return providers.Started{}, err // already names the provider and call
	}
	ps := StatusRegistered
	if reg.ConnectionVerified {
		ps = EventConnectionVerified
	}
	st, _ := MapStatus(ps)
	started := providers.Started{ProviderRef: reg.UniqueID, Link: reg.InviteURL, ProviderStatus: ps, Status: st}
	if req.ReturnURL != "" {
		started.Notes = append(started.Notes, "VerifyYou does not send the user back to a return URL; the user returns by hand.")
	}
	if req.TTL != 0 {
		started.Notes = append(started.Notes, "VerifyYou invites do not expire on a set date; the requested validity was not applied.")
	}
	return started, nil
}

// Refresh reads the user's current state with check_connection_status, by
// reference or, when that is empty, by providerRef (the unique_id). A
// connection with a data request response is approved; a connection
// without one yet is in progress; no connection is invited. VerifyYou does
// not distinguish "never connected" from "connection deleted" here: the
// caller must not let a refresh move a withdrawn or blocked verification
// back to invited. The data request response, if any, comes back as the
// attribute "verifyyou_data_request_response".
func (c *Client) Refresh(ctx context.Context, reference, providerRef string) (providers.Update, error) {
	cs, err := c.CheckConnectionStatus(ctx, reference, providerRef)
	if err != nil {
		return providers.Update{}, err // already names the provider and call
	}
	ps := StatusNotConnected
	switch {
	case cs.HasConnection && cs.DataRequestResponse != "":
		ps = EventConnectionVerified
	case cs.HasConnection:
		ps = StatusConnected
	}
	st, _ := MapStatus(ps)
	u := providers.Update{
		Reference:      reference,
		ProviderRef:    firstNonEmpty(cs.UniqueID, providerRef),
		Event:          callCheckStatus,
		ProviderStatus: ps,
		Status:         st,
		At:             c.now(),
	}
	if cs.DataRequestResponse != "" {
		u.Attributes = []providers.Attribute{{Meaning: AttrDataRequestResponse, Name: "data_request_response", Value: cs.DataRequestResponse}}
	}
	return u, nil
}

// AttrDataRequestResponse is the attribute meaning under which Refresh
// returns the data request response.
const AttrDataRequestResponse = "verifyyou_data_request_response"
