package blockpass_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/blockpass/sim"
)

// lastHook returns the newest webhook the receiver verified.
func lastHook(t *testing.T, e *env) received {
	t.Helper()
	h := e.hooks()
	if len(h) == 0 {
		t.Fatal("no webhook received")
	}
	r := h[len(h)-1]
	if r.err != nil {
		t.Fatalf("webhook %s failed verification: %v", r.delivery.Event, r.err)
	}
	return r
}

func TestEndUserFlowThroughConnectLink(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	started, err := e.client.Start(ctx, providers.StartRequest{Reference: "kd-ref 1"})
	if err != nil {
		t.Fatal(err)
	}
	if started.Status != providers.StatusInvited || started.Link != e.srv.URL+"/_sim/blockpass/connect/kd-ref%201" {
		t.Fatalf("started = %+v", started)
	}

	resp, err := http.Get(started.Link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Simulator") || !strings.Contains(string(page), "kd-ref 1") {
		t.Fatalf("connect page: %d", resp.StatusCode)
	}

	form := url.Values{"given_name": {"Ada"}, "family_name": {"Lovelace"}, "dob": {"12/10/1815"}, "email": {"ada@example.com"},
		"phone": {"+447700900123"}, "address": {"12 St James's Square"}, "city": {"London"}, "postal_code": {"SW1Y 4JH"}, "country": {"GBR"}}
	resp, err = http.PostForm(started.Link, form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "waiting") {
		t.Fatalf("after submit (redirect followed): %d", resp.StatusCode)
	}

	hooks := e.hooks()
	if len(hooks) != 2 {
		t.Fatalf("%d webhooks, want user.created and user.readyToReview", len(hooks))
	}
	for i, want := range []string{blockpass.EventUserCreated, blockpass.EventUserReadyToReview} {
		h := hooks[i]
		if h.err != nil || h.delivery.Event != want || !h.delivery.Verified || h.event.RefID != "kd-ref 1" {
			t.Errorf("webhook %d: %+v %+v %v", i, h.delivery, h.event, h.err)
		}
	}
	if hooks[0].delivery.DeliveryKey == hooks[1].delivery.DeliveryKey {
		t.Error("two deliveries share a key")
	}
	u := hooks[1].event.Update()
	if u.Status != providers.StatusInProgress || u.ProviderStatus != "waiting" {
		t.Errorf("readyToReview update = %+v", u)
	}

	// The webhook names the record; the details come from the API.
	full, err := e.client.Refresh(ctx, u.Reference, u.ProviderRef)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range full.Attributes {
		got[a.Meaning] = a.Value
	}
	if got["full_name"] != "Ada Lovelace" || got["date_of_birth"] != "1815-12-10" || got["phone"] != "+447700900123" || got["postal_code"] != "SW1Y 4JH" {
		t.Errorf("extracted %v", got)
	}

	t.Run("invalid form is re-shown", func(t *testing.T) {
		bad := url.Values{"given_name": {"Ada"}, "family_name": {"L"}, "dob": {"1815-12-10"}, "email": {"ada@example.com"}}
		resp, err := http.PostForm(started.Link, bad)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "MM/DD/YYYY") {
			t.Errorf("bad date: %d", resp.StatusCode)
		}
	})
}

func TestOperatorWebhooks(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.SignatureWithPrefix = true })
	ctx := context.Background()
	id, err := e.sim.Submit("kd-ops", sim.FakePerson(1))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, h := range e.hooks() {
		seen[h.delivery.Event] = true
	}

	steps := []struct {
		action     sim.Action
		event      string
		status     string
		normalised providers.Status
	}{
		{sim.ActionStartReview, blockpass.EventUserInReview, "inreview", providers.StatusNeedsReview},
		{sim.ActionReject, blockpass.EventReviewRejected, "rejected", providers.StatusRejected},
		{sim.ActionApprove, blockpass.EventReviewApproved, "approved", providers.StatusApproved},
		{sim.ActionBlock, blockpass.EventUserBlocked, "blocked", providers.StatusBlocked},
	}
	for _, s := range steps {
		if err := e.sim.Review(id, s.action); err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		h := lastHook(t, e)
		u := h.event.Update()
		if h.delivery.Event != s.event || u.ProviderStatus != s.status || u.Status != s.normalised || u.ProviderRef != id || u.Reference != "kd-ops" {
			t.Errorf("%s: delivery %+v update %+v", s.action, h.delivery, u)
		}
		c, err := e.client.ByRecordID(ctx, id)
		if err != nil || c.Status != s.status {
			t.Errorf("%s: API says %q (%v)", s.action, c.Status, err)
		}
		seen[s.event] = true
	}
	if _, err := e.sim.Submit("kd-ops", sim.FakePerson(1)); !errors.Is(err, sim.ErrBlocked) {
		t.Errorf("blocked resubmission: %v", err)
	}

	before := len(e.hooks())
	id2, _ := e.sim.Submit("kd-ops-2", sim.FakePerson(2))
	if err := e.sim.Review(id2, sim.ActionRequestReview); err != nil {
		t.Fatal(err)
	}
	if len(e.hooks()) != before+2 {
		t.Error("review_requested has no documented webhook and should send none")
	}
	if c, _ := e.client.ByRecordID(ctx, id2); c.Status != blockpass.StatusReviewRequested || blockpass.Extract(c).Status != providers.StatusRejected {
		t.Errorf("review_requested via API: %q", c.Status)
	}
	if _, err := e.sim.Submit("kd-ops-2", sim.FakePerson(3)); err != nil {
		t.Errorf("resubmission after review_requested: %v", err)
	}
	if c, _ := e.client.ByRecordID(ctx, id2); c.Status != blockpass.StatusWaiting || c.SubmitCount != 2 || string(c.Identities["given_name"].Value) != sim.FakePerson(3).GivenName {
		t.Errorf("resubmitted: %q, %d submits", c.Status, c.SubmitCount)
	}

	if err := e.sim.Delete(id); err != nil {
		t.Fatal(err)
	}
	h := lastHook(t, e)
	if h.delivery.Event != blockpass.EventUserDeleted || h.event.Update().Status != providers.StatusWithdrawn {
		t.Errorf("delete: %+v", h.delivery)
	}
	seen[blockpass.EventUserDeleted] = true
	if _, err := e.client.ByRecordID(ctx, id); !blockpass.IsNotFound(err) {
		t.Errorf("deleted candidate: %v", err)
	}
	if _, err := e.client.ByRefID(ctx, "kd-ops"); !blockpass.IsNotFound(err) {
		t.Errorf("deleted candidate by refId: %v", err)
	}
	for _, ev := range blockpass.Events() {
		if !seen[ev] {
			t.Errorf("event %s never emitted", ev)
		}
	}

	if err := e.sim.Ping(); err != nil {
		t.Fatal(err)
	}
	if h := lastHook(t, e); !h.delivery.Ping {
		t.Errorf("ping not flagged: %+v", h.delivery)
	}

	// A retried delivery carries the same key, so the inbox collapses it.
	d := e.sim.Deliveries()[0]
	if err := e.sim.Redeliver(d.GUID); err != nil {
		t.Fatal(err)
	}
	if got := lastHook(t, e).delivery.DeliveryKey; got != e.hooks()[0].delivery.DeliveryKey || got != d.GUID {
		t.Errorf("redelivery key %q, first %q", got, e.hooks()[0].delivery.DeliveryKey)
	}
	if e.sim.Deliveries()[0].Attempts != 2 {
		t.Error("redelivery not counted")
	}
}

func TestWebhookWithWrongSecretIsRefused(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.WebhookSecret = "not-the-shared-secret" })
	_, err := e.sim.Submit("kd-x", sim.FakePerson(9))
	if !errors.Is(err, sim.ErrDelivery) {
		t.Fatalf("err = %v, want ErrDelivery", err)
	}
	for _, h := range e.hooks() {
		if !errors.Is(h.err, providers.ErrBadSignature) {
			t.Errorf("receiver: %v", h.err)
		}
	}
	if d := e.sim.Deliveries(); len(d) != 2 || d[1].StatusCode != http.StatusUnauthorized {
		t.Errorf("deliveries = %+v", d)
	}
	// The change stands even though nobody heard of it: a sync finds it.
	if c, err := e.client.ByRefID(context.Background(), "kd-x"); err != nil || c.Status != blockpass.StatusWaiting {
		t.Errorf("after failed webhooks: %q %v", c.Status, err)
	}
}

func TestUnsignedWebhookIsRefused(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.WebhookSecret = "" })
	if _, err := e.sim.Submit("kd-u", sim.FakePerson(4)); !errors.Is(err, sim.ErrDelivery) {
		t.Errorf("err = %v", err)
	}
	if h := e.hooks(); len(h) == 0 || !errors.Is(h[0].err, providers.ErrBadSignature) {
		t.Errorf("unsigned webhook accepted: %+v", h)
	}
}
