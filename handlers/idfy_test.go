package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/db/seal"
	"github.com/kycdesk/kycdesk/providers/idfy"
	"github.com/kycdesk/kycdesk/web/authz"
)

// postIDfy posts a webhook body with extra headers (name, value, ...).
func (a *testApp) postIDfy(body []byte, header ...string) (*http.Response, map[string]any) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/webhooks/idfy", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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

// startIDfy starts an IDfy verification from the staff form with the
// given extra fields and returns the verification and the flash shown.
func startIDfy(t *testing.T, app *testApp, c *client, name string, fields url.Values) (db.Verification, string) {
	t.Helper()
	form := url.Values{"provider": {"idfy"}, "name": {name}}
	for k, v := range fields {
		form[k] = v
	}
	resp := c.postForm("/verifications", form)
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
	flash := parse(t, c.get(loc)).Find(`[data-testid="flash"]`).Text()
	return v, flash
}

// simForm posts one of the simulator page's forms (found by its button's
// data-testid) as the user's browser would: every hidden input included.
func simForm(t *testing.T, app *testApp, user *client, pageURL, button string) *http.Response {
	t.Helper()
	page := parse(t, user.get(strings.TrimPrefix(pageURL, app.srv.URL)))
	form := page.Find(`form:has([data-testid="` + button + `"])`)
	action, ok := form.Attr("action")
	if !ok {
		t.Fatalf("the simulator page has no %s button", button)
	}
	values := url.Values{}
	form.Find("input").Each(func(_ int, in *goquery_Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		values.Set(name, val)
	})
	base, _ := url.Parse(pageURL)
	target, _ := base.Parse(action)
	return user.postRaw(target.Path, values)
}

// TestIDfyCaptureToApproval walks IDfy through the app, in the plain and
// the encrypted data flow: staff start with resources, the end-user page
// sends the user to the capture link, the user finishes the capture and
// is sent back to the end-user page, the agent approves; each webhook
// only triggers a fetch of the profile, whose files land in the encrypted
// store.
func TestIDfyCaptureToApproval(t *testing.T) {
	cases := []struct {
		name      string
		opts      idfyTestOptions
		fields    url.Values
		async     bool
		resources int
	}{
		{"plain, synchronous create", idfyTestOptions{}, url.Values{"idfy_first_name": {"Ada"}, "idfy_last_name": {"Capture"}, "idfy_dob": {"1990-04-01"}}, false, 2},
		{"plain, asynchronous create", idfyTestOptions{}, url.Values{"idfy_first_name": {"Ada"}, "idfy_dob": {"1990-04-01"}, "idfy_address": {"1 Quay Street"}}, true, 3},
		{"encrypted, synchronous create", idfyTestOptions{KeyID: "kid-test", Key: seal.NewKey()}, url.Values{"idfy_dob": {"1990-04-01"}}, false, 1},
		{"encrypted, asynchronous create", idfyTestOptions{KeyID: "kid-test", Key: seal.NewKey()}, url.Values{"idfy_first_name": {"Ada"}, "idfy_dob": {"1990-04-01"}, "idfy_address": {"1 Quay Street"}}, true, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestAppWith(t, testOptions{IDfy: tc.opts})
			ctx := context.Background()
			lc := app.signedIn(authz.LinkCreator)
			v, flash := startIDfy(t, app, lc, "Ada Capture", tc.fields)
			p, ok := app.sims.vi.idfy.Profile(v.ProviderRef)
			if !ok || p.Async != tc.async || p.Resources != tc.resources || p.Encrypted != (tc.opts.KeyID != "") {
				t.Fatalf("profile at IDfy: %+v", p)
			}
			if tc.async && !strings.Contains(flash, "asynchronous") {
				t.Errorf("the flash %q does not say the asynchronous create was used", flash)
			}

			// The end-user page's button is the capture link, which comes
			// back to that page.
			eu := parse(t, app.client().get("/v/"+v.Token))
			capture, _ := eu.Find(`[data-testid="enduser-open"]`).Attr("href")
			if capture != v.Link || !strings.HasPrefix(capture, app.srv.URL+"/sandbox/idfy/") {
				t.Fatalf("the end-user button goes to %q", capture)
			}
			cu, _ := url.Parse(capture)
			if back := cu.Query().Get("redirect_uri"); back != app.srv.URL+"/v/"+v.Token {
				t.Fatalf("redirect_uri %q", back)
			}
			user := app.client()
			resp := simForm(t, app, user, capture, "finish")
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != app.srv.URL+"/v/"+v.Token {
				t.Fatalf("finishing the capture: %d to %q, want the end-user page", resp.StatusCode, resp.Header.Get("Location"))
			}
			app.process()
			if st := endUserStatus(t, app, v.Token); st != "needs_review" {
				t.Fatalf("end-user status %q after the capture", st)
			}
			docs, _ := app.db.Documents(ctx, v.ApplicantID)
			if len(docs) != 2 {
				t.Fatalf("%d documents stored, want the report and the selfie", len(docs))
			}
			if resp := lc.get(fmt.Sprintf("/applicants/%d/documents/%d", v.ApplicantID, docs[0].ID)); resp.StatusCode != http.StatusOK {
				t.Fatalf("document %s: %d", docs[0].Name, resp.StatusCode)
			}
			attrs, _ := app.db.Attributes(ctx, v.ApplicantID)
			if len(attrs) != tc.resources {
				t.Fatalf("%d attributes from IDfy's text resources, want %d", len(attrs), tc.resources)
			}

			// The agent approves on the simulator's operator page.
			resp = simForm(t, app, app.client(), app.srv.URL+"/sandbox/idfy/_sim/idfy/", "approve")
			if resp.StatusCode >= 400 {
				t.Fatalf("approve: %d", resp.StatusCode)
			}
			app.process()
			if st := endUserStatus(t, app, v.Token); st != "approved" {
				t.Fatalf("end-user status %q after the approval", st)
			}
			got, _ := app.db.Verification(ctx, v.ID)
			if got.ProviderStatus != "completed/approved" {
				t.Fatalf("provider status %q", got.ProviderStatus)
			}
			html, _ := parse(t, app.client().get("/v/"+v.Token)).Html()
			if strings.Contains(html, "Ada") || strings.Contains(html, "1990-04-01") {
				t.Fatal("the end-user page shows personal data")
			}
			for _, d := range app.sims.vi.idfy.Deliveries() {
				if d.Status != http.StatusOK {
					t.Errorf("webhook %s answered %d", d.Event, d.Status)
				}
			}
		})
	}
}

// TestIDfyWebhookSharedSecret: with a shared secret configured, only a
// webhook carrying it in the header is stored.
func TestIDfyWebhookSharedSecret(t *testing.T) {
	body := []byte(`{"profile_id":"8a2c6c2e-0000-4000-8000-000000000001","reference_id":"kdid_x","status":"completed","reviewer_action":null}`)
	cases := []struct {
		name, secret string
		header       []string
		want         int
		verified     bool
	}{
		{"right secret", "s3cret-value", []string{idfy.DefaultWebhookHeader, "s3cret-value"}, http.StatusOK, true},
		{"wrong secret", "s3cret-value", []string{idfy.DefaultWebhookHeader, "s3cret-valuf"}, http.StatusUnauthorized, false},
		{"missing secret", "s3cret-value", nil, http.StatusUnauthorized, false},
		{"secret in another header", "s3cret-value", []string{"X-Other", "s3cret-value"}, http.StatusUnauthorized, false},
		{"no secret configured: a trigger", "", nil, http.StatusOK, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestAppWith(t, testOptions{IDfy: idfyTestOptions{WebhookSecret: tc.secret}})
			resp, out := app.postIDfy(body, tc.header...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.want, out)
			}
			items, _ := app.db.ListInbox(context.Background(), db.InboxFilter{})
			if tc.want != http.StatusOK {
				if len(items) != 0 {
					t.Fatal("a refused webhook was stored")
				}
				return
			}
			if len(items) != 1 || items[0].Verified != tc.verified {
				t.Fatalf("inbox %+v", items)
			}
			// The same trigger again is a duplicate.
			if _, out := app.postIDfy(body, tc.header...); out["status"] != "duplicate" {
				t.Fatalf("repeat: %v", out)
			}
		})
	}
}

// TestIDfySimulatorWithWrongSecret: when the sender's secret does not match,
// IDfy's webhooks are refused, and reconciliation still finds the change
// by fetching the profile.
func TestIDfySimulatorWithWrongSecret(t *testing.T) {
	wrong := "not-what-we-expect"
	app := newTestAppWith(t, testOptions{IDfy: idfyTestOptions{WebhookSecret: "expected-secret", SimSecret: &wrong}})
	ctx := context.Background()
	v, _ := startIDfy(t, app, app.signedIn(authz.Checker), "Secret Mismatch", nil)
	if err := app.sims.vi.idfy.FinishCapture(ctx, v.ProviderRef); err != nil {
		t.Log(err) // the webhook was refused; the capture stands
	}
	for _, d := range app.sims.vi.idfy.Deliveries() {
		if d.Status != http.StatusUnauthorized {
			t.Fatalf("webhook with the wrong secret answered %d", d.Status)
		}
	}
	if items, _ := app.db.ListInbox(ctx, db.InboxFilter{}); len(items) != 0 {
		t.Fatal("a webhook with the wrong secret was stored")
	}
	if _, err := app.flow.Reconcile(ctx, "idfy"); err != nil {
		t.Fatal(err)
	}
	if st := endUserStatus(t, app, v.Token); st != "needs_review" {
		t.Fatalf("status %q after reconciliation", st)
	}
}

// TestIDfyWebhookAllowList: the sender's address must be on the allow-list;
// a forwarded-for header does not change who the sender is.
func TestIDfyWebhookAllowList(t *testing.T) {
	body := []byte(`{"profile_id":"8a2c6c2e-0000-4000-8000-000000000002","status":"in_progress"}`)
	cases := []struct {
		name   string
		allow  string
		header []string
		want   int
	}{
		{"sender on the list", "127.0.0.0/8", nil, http.StatusOK},
		{"sender not on the list", "192.0.2.0/24", nil, http.StatusForbidden},
		{"forged X-Forwarded-For", "192.0.2.0/24", []string{"X-Forwarded-For", "192.0.2.7", "X-Real-Ip", "192.0.2.7"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			allow, err := idfy.ParseAllowList(tc.allow)
			if err != nil {
				t.Fatal(err)
			}
			app := newTestAppWith(t, testOptions{IDfy: idfyTestOptions{AllowedIPs: allow}})
			resp, out := app.postIDfy(body, tc.header...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.want, out)
			}
			items, _ := app.db.ListInbox(context.Background(), db.InboxFilter{})
			if (len(items) == 1) != (tc.want == http.StatusOK) {
				t.Fatalf("%d stored", len(items))
			}
		})
	}
}

// TestIDfyEncryptedWebhookBody: in encrypted mode a webhook whose fields
// come in encrypted_data is read on receipt and again when processed
// (the profile it names is fetched).
func TestIDfyEncryptedWebhookBody(t *testing.T) {
	key := seal.NewKey()
	app := newTestAppWith(t, testOptions{IDfy: idfyTestOptions{KeyID: "kid-test", Key: key}})
	ctx := context.Background()
	v, _ := startIDfy(t, app, app.signedIn(authz.Checker), "Sealed Hook", nil)
	sealer, err := idfy.NewSealer("kid-test", key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := sealer.SealJSON(map[string]any{"profile_id": v.ProviderRef, "reference_id": v.Reference, "status": "in_progress", "reviewer_action": nil})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"encrypted_data": enc})
	if resp, out := app.postIDfy(body); resp.StatusCode != http.StatusOK || out["status"] != "stored" {
		t.Fatalf("encrypted webhook: %d %v", resp.StatusCode, out)
	}
	app.process()
	items, _ := app.db.ListInbox(ctx, db.InboxFilter{})
	if len(items) != 1 || !items[0].Processed() || items[0].VerificationID != v.ID {
		t.Fatalf("inbox after processing: %+v", items)
	}
	// Sealed with another key: not readable, refused as malformed.
	other, _ := idfy.NewSealer("kid-test", seal.NewKey())
	enc, _ = other.SealJSON(map[string]any{"profile_id": v.ProviderRef, "status": "completed"})
	body, _ = json.Marshal(map[string]string{"encrypted_data": enc})
	if resp, out := app.postIDfy(body); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("webhook sealed with another key: %d %v", resp.StatusCode, out)
	}
}

// TestIDfyLinkRefusalShown: a capture link that would break IDfy's rules
// is refused before anything is created, and staff see which rule.
func TestIDfyLinkRefusalShown(t *testing.T) {
	app := newTestApp(t)
	// The public base URL is plain http on a non-loopback host: users
	// would come back from IDfy over http.
	app.flow.BaseURL = "http://desk.example.org"
	c := app.signedIn(authz.Checker)
	resp := c.postForm("/verifications", url.Values{"provider": {"idfy"}, "name": {"Refused Link"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	msg := parse(t, resp).Find(`[data-testid="start-error"]`).Text()
	for _, want := range []string{"redirect_uri", string(idfy.RuleHTTPS), "KYCDESK_BASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal %q does not mention %q", msg, want)
		}
	}
	if n := len(app.sims.vi.idfy.Profiles()); n != 0 {
		t.Fatalf("%d profiles created at IDfy for a refused link", n)
	}
	page, _ := app.db.ListApplicants(context.Background(), db.ApplicantFilter{Query: "Refused Link"})
	if len(page.Rows) != 0 {
		t.Fatal("an applicant was created for a refused start")
	}
}

// TestIDfyStartFields: the IDfy fields appear only for IDfy, and a bad date
// of birth is refused before IDfy is asked.
func TestIDfyStartFields(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(authz.Checker)
	frag := parse(t, c.get("/verifications/new?provider=idfy", "HX-Request", "true"))
	for _, id := range []string{"idfy_first_name", "idfy_last_name", "idfy_dob", "idfy_address"} {
		if frag.Find("#"+id).Length() != 1 || frag.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("IDfy field %s missing or unlabelled", id)
		}
	}
	if n := parse(t, c.get("/verifications/new?provider=verifyyou", "HX-Request", "true")).Find(`[data-testid="idfy-resources"]`).Length(); n != 0 {
		t.Error("the IDfy fields show for VerifyYou")
	}
	resp := c.postForm("/verifications", url.Values{"provider": {"idfy"}, "name": {"Future Born"}, "idfy_dob": {"2999-01-01"}})
	doc := parse(t, resp)
	if msg := doc.Find(`[data-testid="start-error"]`).Text(); !strings.Contains(msg, "date of birth") {
		t.Fatalf("error %q", msg)
	}
	if v, _ := doc.Find("#idfy_dob").Attr("value"); v != "2999-01-01" {
		t.Errorf("the form lost the entered date: %q", v)
	}
	if n := len(app.sims.vi.idfy.Profiles()); n != 0 {
		t.Fatal("IDfy was asked despite the bad date")
	}
}
