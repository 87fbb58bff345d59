package flow

import (
	"context"
	"net/http"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
)

// BlockpassInbound handles stored Blockpass webhooks: an event is a
// trigger to re-fetch the record with our API key (its body carries no
// identity data), by recordId, else by refId. The fetched record's status
// goes on the timeline verbatim with the event's name, its identity data
// into the store (unless Blockpass archived it), and its archive date
// becomes the willArchiveAt certificate.
//
// user.deleted means the user withdrew: there is nothing left to fetch. It
// is recorded as withdrawn at the time we received it; the Blockpass job
// (ApplyBlockpassWithdrawals) then hands it to the retention policy.
func BlockpassInbound(c *blockpass.Client) InboundHandler {
	return func(ctx context.Context, item db.InboxItem, header http.Header, body []byte) ([]providers.Update, error) {
		e, err := blockpass.ParseWebhook(body)
		if err != nil {
			return nil, err
		}
		u := e.Update()
		if u.Status == providers.StatusWithdrawn {
			u.At = item.ReceivedAt
			u.Reason = blockpass.EventUserDeleted + ": the candidate was deleted at Blockpass"
			return []providers.Update{u}, nil
		}
		var cand blockpass.Candidate
		if e.RecordID != "" {
			cand, err = c.ByRecordID(ctx, e.RecordID)
		} else {
			cand, err = c.ByRefID(ctx, e.RefID)
		}
		if blockpass.IsNotFound(err) {
			// Gone since the event was sent: record what the event said.
			u.Reason = e.Name + ": the record is no longer at Blockpass"
			return []providers.Update{u}, nil
		}
		if err != nil {
			return nil, err
		}
		fetched := blockpass.Extract(cand)
		fetched.Event = e.Name
		fetched.Reason = e.Name
		if fetched.Reference == "" {
			fetched.Reference = e.RefID
		}
		var notes []string
		fetched.Documents, notes = gateDocuments(fetched.Documents)
		for _, n := range notes {
			fetched.Reason += "; " + n
		}
		if at := cand.ArchiveAt(); !at.IsZero() {
			fetched.Certificates = append(fetched.Certificates, providers.Certificate{Name: CertWillArchiveAt, Value: at.UTC().Format(time.RFC3339)})
		}
		return []providers.Update{fetched}, nil
	}
}
