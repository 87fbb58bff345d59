package flow

import (
	"context"
	"net/http"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/idfy"
)

// IDfyInbound handles stored IDfy webhooks. IDfy publishes no signature
// scheme, so a webhook is only a trigger: the profile is fetched with our
// credentials and only that is trusted. Its resources (images, report) are
// downloaded now, while their signed URLs are valid, and stored encrypted
// with the update. In encrypted mode the body may carry encrypted_data:
// it is read the way VerifyInbound read it on receipt.
func IDfyInbound(c *idfy.Client) InboundHandler {
	return func(ctx context.Context, item db.InboxItem, header http.Header, body []byte) ([]providers.Update, error) {
		w, err := c.ParseWebhook(body)
		if err != nil {
			return nil, err
		}
		u, err := c.Refresh(ctx, w.ReferenceID, w.ProfileID)
		if err != nil {
			return nil, err
		}
		u.Event = w.Event
		return []providers.Update{u}, nil
	}
}
