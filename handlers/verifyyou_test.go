package handlers

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers/flow"
	"github.com/kycdesk/kycdesk/providers/verifyyou"
	"github.com/kycdesk/kycdesk/web/authz"
)

// postSigned posts a VerifyYou webhook body with the given signature
// header value ("" leaves the header out).
func (a *testApp) postSigned(path string, body []byte, signature string) (*http.Response, map[string]any) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(verifyyou.HeaderSignature, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func vySignature(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(verifyyou.Sign([]byte(secret), body))
}

// startVerifyYou starts a VerifyYou verification from the staff form and
// returns its staff page path and the verification.
func startVerifyYou(t *testing.T, app *testApp, c *client, name string) (string, db.Verification) {
	t.Helper()
	resp := c.postForm("/verifications", url.Values{"provider": {"verifyyou"}, "name": {name}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/verifications/") {
		t.Fatalf("start: %d %s", resp.StatusCode, parse(t, resp).Find(`[data-testid="start-error"]`).Text())
	}
	var id int64
	fmt.Sscanf(strings.TrimPrefix(loc, "/verifications/"), "%d", &id)
	v, err := app.db.Verification(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return loc, v
}

func (a *testApp) process() {
	a.t.Helper()
	if _, err := a.flow.ProcessDue(context.Background()); err != nil {
		a.t.Fatal(err)
	}
	items, _ := a.db.ListInbox(context.Background(), db.InboxFilter{FailedOnly: true})
	if len(items) != 0 {
		a.t.Fatalf("%d deliveries failed processing: %s", len(items), items[0].Error)
	}
}

func endUserStatus(t *testing.T, app *testApp, token string) string {
	t.Helper()
	st, _ := parse(t, app.client().get("/v/"+token)).Find(`[data-testid="enduser-status"]`).Attr("data-status")
	return st
}

// TestVerifyYouWebhookSignatures posts webhooks to the real endpoint:
// only a body signed with the shared secret is stored, a retry or replay
// of a stored delivery changes nothing, and the one good delivery moves
// the verification.
func TestVerifyYouWebhookSignatures(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	_, v := startVerifyYou(t, app, app.signedIn(authz.Checker), "Hook Person")
	// The user really connected (so the data fetch finds a connection);
	// the simulator's own webhook is what the table below imitates.
	if _, err := app.sims.vi.vy.Accept(ctx, v.ProviderRef); err != nil {
		t.Fatal(err)
	}
	// (The simulator's own webhook for that accept is stored too: another
	// delivery, with its own transaction_id.)
	body := []byte(fmt.Sprintf(`{"transaction_id":"ewh:test-1","payload":{"event":"connection_verified","unique_id":%q,"reference_id":%q}}`, v.ProviderRef, v.Reference))
	good := vySignature(testVerifyYouSecret, body)
	flipped := []byte(good)
	flipped[len(flipped)-1] ^= 1
	cases := []struct {
		name, path, sig string
		body            []byte
		want            int
		status          string
	}{
		{"missing signature", "/webhooks/verifyyou/connection_verified", "", body, http.StatusUnauthorized, ""},
		{"wrong secret", "/webhooks/verifyyou/connection_verified", vySignature("not-the-secret", body), body, http.StatusUnauthorized, ""},
		{"flipped bit", "/webhooks/verifyyou/connection_verified", string(flipped), body, http.StatusUnauthorized, ""},
		{"another algorithm prefix", "/webhooks/verifyyou/connection_verified", "sha1=" + strings.TrimPrefix(good, "sha256="), body, http.StatusUnauthorized, ""},
		{"signature of another body", "/webhooks/verifyyou/connection_verified", good, append([]byte(" "), body...), http.StatusUnauthorized, ""},
		{"unknown event path", "/webhooks/verifyyou/something_else", good, body, http.StatusNotFound, ""},
		{"good", "/webhooks/verifyyou/connection_verified", good, body, http.StatusOK, "stored"},
		{"retry of the same delivery", "/webhooks/verifyyou/connection_verified", good, body, http.StatusOK, "duplicate"},
		{"replay to another event path", "/webhooks/verifyyou/connection_deleted", good, body, http.StatusOK, "duplicate"},
	}
	for _, tc := range cases {
		resp, out := app.postSigned(tc.path, tc.body, tc.sig)
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: status %d, want %d (%v)", tc.name, resp.StatusCode, tc.want, out)
		}
		if tc.status != "" && out["status"] != tc.status {
			t.Fatalf("%s: answer %v, want %s", tc.name, out, tc.status)
		}
	}
	items, _ := app.db.ListInbox(ctx, db.InboxFilter{})
	ours := 0
	for _, it := range items {
		if strings.Contains(it.DeliveryKey, "ewh:test-1") {
			ours++
			if it.Duplicates != 2 {
				t.Errorf("the stored delivery counts %d duplicates, want 2", it.Duplicates)
			}
		}
	}
	if ours != 1 {
		t.Fatalf("%d stored copies of the delivery, want 1", ours)
	}
	app.process()
	got, _ := app.db.Verification(ctx, v.ID)
	if got.Status != "approved" {
		t.Fatalf("status after the good webhook: %s", got.Status)
	}
	// The replay did not withdraw: the signed body says connection_verified.
	timeline := parse(t, app.signedIn(authz.Checker).get(fmt.Sprintf("/applicants/%d", v.ApplicantID))).Find(`[data-testid="timeline"]`).Text()
	if strings.Contains(timeline, "connection_deleted") {
		t.Fatal("a replay to the connection_deleted path was taken as a deletion")
	}
}

// TestVerifyYouStartToWithdrawal walks the whole flow through the app:
// staff start, the end-user page hands out the invite, the simulated user
// accepts on the simulator's page and later deletes the connection; the
// signed webhooks arrive over HTTP. The withdrawal reaches the retention
// policy.
func TestVerifyYouStartToWithdrawal(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	lc := app.signedIn(authz.LinkCreator)
	staffPage, v := startVerifyYou(t, app, lc, "Invite Person")
	page := parse(t, lc.get(staffPage))
	invite, _ := page.Find(`[data-testid="provider-link"]`).Attr("value")
	if invite == "" || invite != v.Link {
		t.Fatalf("the staff page shows the invite %q, stored %q", invite, v.Link)
	}
	eu := parse(t, app.client().get("/v/"+v.Token))
	if href, _ := eu.Find(`[data-testid="enduser-open"]`).Attr("href"); href != invite {
		t.Fatalf("the end-user button goes to %q, want the invite URL", href)
	}
	if qr := app.client().get("/v/" + v.Token + "/qr.png"); qr.StatusCode != http.StatusOK {
		t.Fatalf("end-user QR: %d", qr.StatusCode)
	}

	// The user follows the invite to the simulator and accepts.
	user := app.client()
	simPage := parse(t, user.get(strings.TrimPrefix(invite, app.srv.URL)))
	action, ok := simPage.Find(`form:has([data-testid="accept"])`).Attr("action")
	if !ok {
		t.Fatal("the simulator's invite page has no accept button")
	}
	target, _ := url.Parse(invite)
	accept, _ := target.Parse(action)
	if resp := user.postRaw(accept.Path, url.Values{}); resp.StatusCode >= 400 {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	app.process()
	if st := endUserStatus(t, app, v.Token); st != "approved" {
		t.Fatalf("end-user status %q after accepting", st)
	}
	attrs, _ := app.db.Attributes(ctx, v.ApplicantID)
	if len(attrs) == 0 {
		t.Fatal("the data request response was not stored")
	}
	html, _ := parse(t, app.client().get("/v/"+v.Token)).Html()
	if strings.Contains(html, "Invite Person") || strings.Contains(html, attrs[0].Value) {
		t.Fatal("the end-user page shows personal data")
	}

	// Later the user deletes the connection in the VerifyYou app.
	simPage = parse(t, user.get(strings.TrimPrefix(invite, app.srv.URL)))
	action, ok = simPage.Find(`form:has([data-testid="delete"])`).Attr("action")
	if !ok {
		t.Fatal("the simulator's page has no delete button once connected")
	}
	del, _ := target.Parse(action)
	if resp := user.postRaw(del.Path, url.Values{}); resp.StatusCode >= 400 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	app.process()
	if st := endUserStatus(t, app, v.Token); st != "withdrawn" {
		t.Fatalf("end-user status %q after the deletion", st)
	}
	timeline := parse(t, lc.get(fmt.Sprintf("/applicants/%d", v.ApplicantID))).Find(`[data-testid="timeline"]`).Text()
	for _, want := range []string{"connection_verified", "connection_deleted"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline lacks %s", want)
		}
	}
	if n := len(app.auditActions(t, "retention.withdrawal")); n != 1 {
		t.Fatalf("%d retention withdrawals recorded, want 1", n)
	}
	// A connection_verified whose first try failed arrives after the
	// deletion: recorded, but it does not approve a connection that is gone.
	late := []byte(fmt.Sprintf(`{"transaction_id":"ewh:late-retry","payload":{"event":"connection_verified","unique_id":%q,"reference_id":%q}}`, v.ProviderRef, v.Reference))
	if resp, out := app.postSigned("/webhooks/verifyyou/connection_verified", late, vySignature(testVerifyYouSecret, late)); resp.StatusCode != http.StatusOK {
		t.Fatalf("late webhook: %d %v", resp.StatusCode, out)
	}
	app.process()
	if st := endUserStatus(t, app, v.Token); st != "withdrawn" {
		t.Fatalf("a late connection_verified moved the withdrawn verification to %q", st)
	}
	timeline = parse(t, lc.get(fmt.Sprintf("/applicants/%d", v.ApplicantID))).Find(`[data-testid="timeline"]`).Text()
	if !strings.Contains(timeline, "arrived after the connection was gone") {
		t.Error("the late webhook is not on the timeline")
	}
	for _, d := range app.sims.vi.vy.Deliveries() {
		if !d.Delivered || d.Attempts != 1 {
			t.Errorf("webhook %s: delivered %v after %d tries; our 200 should end the retries", d.Event, d.Delivered, d.Attempts)
		}
	}
}

// TestVerifyYouPollAcrossRestart: no webhook is processed; the poll finds
// the changes, a restarted process (a new flow service over the same
// database) neither repeats nor misses any, and staff see each change with
// its source "poll".
func TestVerifyYouPollAcrossRestart(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	c := app.signedIn(authz.Admin)
	_, v := startVerifyYou(t, app, c, "Polled Person")
	if _, err := app.sims.vi.vy.Accept(ctx, v.ProviderRef); err != nil {
		t.Fatal(err)
	}
	app.sims.vi.vyClock.Advance(time.Second)
	res, err := app.flow.PollVerifyYou(ctx, app.sims.vi.vyClient)
	if err != nil || res.Applied != 1 {
		t.Fatalf("first poll: %+v %v", res, err)
	}
	cursor, _, _ := app.db.JobState(ctx, flow.VerifyYouPollJob)
	if cursor != fmt.Sprint(app.sims.vi.vyClock.Now().Unix()) {
		t.Fatalf("stored cursor %q, want the simulator's timestamp_s", cursor)
	}
	pollEvents := func() int {
		t.Helper()
		doc := parse(t, c.get(fmt.Sprintf("/applicants/%d", v.ApplicantID)))
		n := 0
		doc.Find(`[data-testid="timeline"] li`).Each(func(_ int, li *goquery_Selection) {
			if strings.Contains(li.Text(), "poll") {
				n++
			}
		})
		return n
	}
	if n := pollEvents(); n != 1 {
		t.Fatalf("%d poll events on the applicant page, want 1", n)
	}

	// Restart: a new service over the same database and the same
	// provider. Nothing happened meanwhile: nothing is recorded.
	restarted := flow.New(flow.Service{DB: app.db, Registry: app.sims.registry, Inbound: app.sims.inbound, BaseURL: app.srv.URL, Now: func() time.Time { return app.now }})
	app.sims.vi.vyClock.Advance(time.Minute)
	if res, err := restarted.PollVerifyYou(ctx, app.sims.vi.vyClient); err != nil || res.Listed != 0 {
		t.Fatalf("poll after the restart: %+v %v", res, err)
	}
	// The user deletes the connection; the restarted process sees it once.
	if _, err := app.sims.vi.vy.Delete(ctx, v.ProviderRef); err != nil {
		t.Fatal(err)
	}
	app.sims.vi.vyClock.Advance(time.Second)
	for i := 0; i < 2; i++ {
		if _, err := restarted.PollVerifyYou(ctx, app.sims.vi.vyClient); err != nil {
			t.Fatal(err)
		}
		app.sims.vi.vyClock.Advance(time.Second)
	}
	if n := pollEvents(); n != 2 {
		t.Fatalf("%d poll events, want 2 (connected, then deleted)", n)
	}
	if got, _ := app.db.Verification(ctx, v.ID); got.Status != "withdrawn" {
		t.Fatalf("status %s after the polled deletion", got.Status)
	}

	// The webhooks the simulator sent meanwhile are processed late and
	// out of order: the late connection_verified does not undo the
	// withdrawal.
	app.process()
	if got, _ := app.db.Verification(ctx, v.ID); got.Status != "withdrawn" {
		t.Fatalf("status %s after the late webhooks", got.Status)
	}
	if st := endUserStatus(t, app, v.Token); st != "withdrawn" {
		t.Fatalf("end-user status %q", st)
	}
}

// TestVerifyYouFailureEnvelopeShown: VerifyYou's failure code reaches
// staff on the start form.
func TestVerifyYouFailureEnvelopeShown(t *testing.T) {
	app := newTestApp(t)
	app.sims.vi.vy.SetMaintenance(true)
	c := app.signedIn(authz.Checker)
	resp := c.postForm("/verifications", url.Values{"provider": {"verifyyou"}, "name": {"Down Time"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	msg := parse(t, resp).Find(`[data-testid="start-error"]`).Text()
	if !strings.Contains(msg, "SERVICE_TEMPORARILY_UNAVAILABLE") {
		t.Fatalf("start error %q does not carry VerifyYou's code", msg)
	}
	page, _ := app.db.ListApplicants(context.Background(), db.ApplicantFilter{Query: "Down Time"})
	if len(page.Rows) != 0 {
		t.Fatal("an applicant was created although VerifyYou refused")
	}
}
