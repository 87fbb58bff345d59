package flow

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/verifyyou"
)

// VerifyYouInbound handles stored VerifyYou webhooks. The event comes from
// the URL VerifyYou appended it to (the signed body's own event name wins);
// the webhook says what happened, and for connection_verified a
// check_connection_status call fetches the data it made available.
// Webhooks are retried and may arrive out of order: a connection_verified
// processed after the connection is already gone is kept on the timeline
// but does not approve (the connection_deleted webhook or the poll says
// what happened).
func VerifyYouInbound(c *verifyyou.Client) InboundHandler {
	return func(ctx context.Context, item db.InboxItem, header http.Header, body []byte) ([]providers.Update, error) {
		event := strings.TrimPrefix(item.Endpoint, "webhooks/verifyyou/")
		u, err := verifyyou.ParseWebhook(event, body)
		if err != nil {
			return nil, err
		}
		if u.Status == providers.StatusApproved {
			cur, err := c.Refresh(ctx, u.Reference, u.ProviderRef)
			if err != nil {
				return nil, fmt.Errorf("verifyyou: fetch data after %s: %w", event, err)
			}
			if cur.ProviderStatus != verifyyou.EventConnectionVerified && cur.ProviderStatus != verifyyou.StatusConnected {
				// Recorded on the timeline only: neither status moves.
				u.Status, u.ProviderStatus = "", ""
				u.Reason = u.Event + " arrived after the connection was gone (check_connection_status): not approved"
				return []providers.Update{u}, nil
			}
			u.Attributes = append(u.Attributes, cur.Attributes...)
		}
		return []providers.Update{u}, nil
	}
}
