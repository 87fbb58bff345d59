package flow

import (
	"context"
	"net/http"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
)

// BlockpassInbound handles stored Blockpass webhooks: an event is a
// trigger to re-fetch the record with our API key (its body carries no
// identity data). user.deleted means the user withdrew: there is nothing
// left to fetch.
func BlockpassInbound(c *blockpass.Client) InboundHandler {
	return func(ctx context.Context, item db.InboxItem, header http.Header, body []byte) ([]providers.Update, error) {
		e, err := blockpass.ParseWebhook(body)
		if err != nil {
			return nil, err
		}
		u := e.Update()
		if u.Status == providers.StatusWithdrawn {
			return []providers.Update{u}, nil
		}
		fetched, err := c.Refresh(ctx, e.RefID, e.RecordID)
		if err != nil {
			return nil, err
		}
		fetched.Event = e.Name
		if fetched.Reference == "" {
			fetched.Reference = e.RefID
		}
		return []providers.Update{fetched}, nil
	}
}
