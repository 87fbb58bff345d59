package flow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
)

// Inbound is an authenticated delivery as the edge received it.
type Inbound struct {
	Provider    providers.Name
	Endpoint    string // e.g. "callbacks/corepass/status", "webhooks/verifyyou/connection_deleted"
	Delivery    providers.Delivery
	Header      http.Header
	ContentType string
	Body        []byte
}

// keptHeaders are the inbound headers worth keeping for the admin inbox
// and for processing: signatures, delivery ids and content type. Nothing
// that could be a credential.
var keptHeaders = []string{"Content-Type", "User-Agent", "X-Hub-Signature", "X-Hub-Signature-256", "X-Blockpass-Delivery",
	"X-Blockpass-Event", "X-Request-Id", "Origin"}

// Accept stores an authenticated delivery durably and wakes the processor.
// When it returns nil the delivery is on disk and the caller may answer
// 2xx; a retry of the same delivery is recognised and changes nothing. It
// returns the inbox id and whether the delivery was new.
func (s *Service) Accept(ctx context.Context, in Inbound) (int64, bool, error) {
	headers := map[string]string{}
	for _, h := range keptHeaders {
		if v := in.Header.Get(h); v != "" {
			headers[h] = v
		}
	}
	id, fresh, err := s.DB.ReceiveInbound(ctx, db.NewInboxItem{
		Provider:    string(in.Provider),
		Endpoint:    in.Endpoint,
		Event:       in.Delivery.Event,
		DeliveryKey: in.Delivery.DeliveryKey,
		Verified:    in.Delivery.Verified,
		Headers:     headers,
		ContentType: in.ContentType,
		Body:        in.Body,
	})
	if err != nil {
		return 0, false, err
	}
	if fresh {
		s.Nudge()
	}
	return id, fresh, nil
}

// Nudge wakes the processor without waiting for its next tick.
func (s *Service) Nudge() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// Run processes due inbox items until ctx ends: at once when nudged, and
// every interval for retries.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.ProcessDue(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("inbox: process", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.nudge:
		}
	}
}

// ProcessDue processes every inbox item whose time has come and returns how
// many succeeded.
func (s *Service) ProcessDue(ctx context.Context) (int, error) {
	ok := 0
	for {
		items, err := s.DB.DueInbound(ctx, 50)
		if err != nil {
			return ok, err
		}
		if len(items) == 0 {
			return ok, nil
		}
		progressed := false
		for _, item := range items {
			res := s.process(ctx, item)
			if err := s.DB.FinishInbound(ctx, item.ID, res); err != nil {
				return ok, err
			}
			if res.Err == nil {
				ok++
				progressed = true
			} else {
				s.Logger.Warn("inbox: processing failed; kept for retry", "provider", item.Provider, "inbox_id", item.ID, "attempt", item.Attempts+1, "err", res.Err)
			}
		}
		if !progressed {
			return ok, nil
		}
	}
}

// process turns one item into updates and applies them.
func (s *Service) process(ctx context.Context, item db.InboxItem) db.InboxResult {
	handler, ok := s.Inbound[providers.Name(item.Provider)]
	if !ok {
		return db.InboxResult{Err: fmt.Errorf("no inbound handler for %s", item.Provider)}
	}
	body, err := s.DB.InboxBody(ctx, item.ID)
	if err != nil {
		return db.InboxResult{Err: fmt.Errorf("read stored body: %w", err)}
	}
	header := http.Header{}
	for k, v := range item.Headers {
		header.Set(k, v)
	}
	if item.ContentType != "" {
		header.Set("Content-Type", item.ContentType)
	}
	updates, err := handler(ctx, item, header, body)
	if err != nil {
		return db.InboxResult{Err: err}
	}
	var res db.InboxResult
	for _, u := range updates {
		v, err := s.ApplyUpdate(ctx, providers.Name(item.Provider), sourceOf(item.Endpoint), u, "inbox:"+strconv.FormatInt(item.ID, 10))
		if err != nil {
			res.Err = err
			return res
		}
		res.ApplicantID, res.VerificationID = v.ApplicantID, v.ID
	}
	return res
}

// progress orders statuses along a verification's life. Callbacks and
// polls arrive out of order (a late CONFIRMED after the data callback, a
// poll lagging a webhook): a report never moves a verification backwards;
// it still goes into the timeline verbatim.
func progress(s providers.Status) int {
	switch {
	case s == "" || s == providers.StatusInvited:
		return 0
	case s == providers.StatusInProgress:
		return 1
	case s == providers.StatusNeedsReview:
		return 2
	}
	return 3
}

// ApplyUpdate finds the verification an update is about and records it:
// the timeline event, the statuses, and any personal data and certificates.
// A status is never moved backwards by a late report (see progress).
func (s *Service) ApplyUpdate(ctx context.Context, p providers.Name, source string, u providers.Update, digest string) (db.Verification, error) {
	v, err := s.DB.VerificationByReference(ctx, string(p), u.Reference, u.ProviderRef)
	if errors.Is(err, db.ErrNotFound) {
		// Never the provider ref itself: a CorePass one holds the Core ID,
		// and this error is logged and kept in the inbox.
		return v, fmt.Errorf("%w (provider %s, reference %q, provider ref given: %t)", ErrNoVerification, p, u.Reference, u.ProviderRef != "")
	}
	if err != nil {
		return v, err
	}
	status := string(u.Status)
	if progress(u.Status) < progress(providers.Status(v.Status)) {
		status = ""
	}
	up := db.VerificationUpdate{
		VerificationID: v.ID,
		Source:         source,
		Status:         status,
		ProviderStatus: u.ProviderStatus,
		ProviderRef:    u.ProviderRef,
		TxHash:         u.TxHash,
		Detail:         u.Reason,
		PayloadDigest:  digest,
		At:             u.At,
	}
	if up.ProviderRef == v.ProviderRef {
		up.ProviderRef = ""
	}
	applicant, err := s.DB.Applicant(ctx, v.ApplicantID)
	if err != nil {
		return v, err
	}
	if applicant.Archived() {
		// The status and the event are kept; personal data that arrives
		// for an archived applicant is not stored again (the database
		// refuses it too), so the delivery is done, not retried for ever.
		if len(u.Attributes)+len(u.Documents) > 0 {
			up.Detail = strings.TrimSpace(up.Detail + " (personal data not stored: the applicant is archived)")
		}
		u.Attributes, u.Documents = nil, nil
		// Nor is the provider's reference written back where the archive
		// blanked it.
		up.ProviderRef = ""
	}
	for _, a := range u.Attributes {
		up.Attributes = append(up.Attributes, db.AttributeInput{Provider: string(p), Meaning: a.Meaning, Name: a.Name, Value: a.Value, Pepper: a.Pepper})
	}
	for _, d := range u.Documents {
		doc, err := safeDocument(d)
		if err != nil {
			return v, fmt.Errorf("document %q: %w", d.Name, err)
		}
		up.Documents = append(up.Documents, db.DocumentInput{Provider: string(p), Name: doc.Name, ContentType: doc.ContentType, Data: doc.Data})
	}
	for _, c := range u.Certificates {
		up.Certificates = append(up.Certificates, db.CertificateInput{Provider: string(p), Name: c.Name, Value: c.Value})
	}
	if err := s.DB.ApplyUpdate(ctx, up); err != nil {
		return v, err
	}
	if withdrawnByUser(p, u) {
		return v, s.applyWithdrawal(ctx, p, v, u)
	}
	return v, nil
}
