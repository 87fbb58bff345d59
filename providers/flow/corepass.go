package flow

import (
	"context"
	"net/http"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
)

// CorePassInbound handles stored CorePass status and data callbacks. The
// signature and deadline were checked on receipt; they are checked again
// here against the time of receipt (not now), so a retry days later still
// processes what was valid when it arrived.
func CorePassInbound(c *corepass.Client) InboundHandler {
	return func(ctx context.Context, item db.InboxItem, header http.Header, body []byte) ([]providers.Update, error) {
		_, u, err := c.ParseInbound(header, body, item.ReceivedAt)
		if err != nil {
			return nil, err
		}
		return []providers.Update{u}, nil
	}
}
