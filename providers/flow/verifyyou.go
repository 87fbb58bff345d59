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
// the URL VerifyYou appended it to; the webhook says what happened, and a
// check_connection_status call fetches the data it made available.
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
			u.Attributes = append(u.Attributes, cur.Attributes...)
		}
		return []providers.Update{u}, nil
	}
}
