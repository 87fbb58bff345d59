package idfy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/idfy/sim"
)

func textResources(n int) []Resource {
	var out []Resource
	for i := 0; i < n; i++ {
		out = append(out, Resource{Kind: ResourceText, Name: fmt.Sprintf("field_%d", i), Value: fmt.Sprintf("value %d", i)})
	}
	return out
}

func TestCreateProfileSyncVersusAsync(t *testing.T) {
	e := newEnv(t, envOptions{})
	for n := 0; n <= 4; n++ {
		t.Run(fmt.Sprintf("%d resources", n), func(t *testing.T) {
			ref := fmt.Sprintf("kd-ref-%d", n)
			created, err := e.client.CreateProfile(context.Background(), CreateProfileRequest{ReferenceID: ref, Resources: textResources(n)})
			if err != nil {
				t.Fatal(err)
			}
			wantAsync := n > MaxSyncResources
			if created.Async != wantAsync {
				t.Errorf("Async = %v, want %v", created.Async, wantAsync)
			}
			st, ok := e.sim.ProfileByReference(ref)
			if !ok {
				t.Fatal("the simulator has no profile for the reference")
			}
			if st.Async != wantAsync || st.Resources != n || st.ProfileID != created.ProfileID {
				t.Errorf("simulator saw %+v", st)
			}
			if !strings.HasPrefix(created.CaptureLink, e.srv.URL+"/_sim/idfy/capture/"+created.ProfileID+"?t=") {
				t.Errorf("capture link %q", created.CaptureLink)
			}
			if want := e.clock.Now().Add(24 * time.Hour); !created.CaptureExpiresAt.Equal(want) {
				t.Errorf("capture_expires_at %v, want %v", created.CaptureExpiresAt, want)
			}
			if created.Status != StatusCapturePending {
				t.Errorf("status %q", created.Status)
			}
		})
	}
}

func TestCreateProfileRefusesLocally(t *testing.T) {
	e := newEnv(t, envOptions{})
	noConfig, _ := New(Config{URL: e.srv.URL, AccountID: testAccount, APIKey: testAPIKey}, e.srv.Client(), e.clock.Now)
	tests := []struct {
		name    string
		c       *Client
		req     CreateProfileRequest
		wantErr string
	}{
		{"no reference", e.client, CreateProfileRequest{}, "empty reference_id"},
		{"no config id", noConfig, CreateProfileRequest{ReferenceID: "r"}, "no journey config id"},
		{"unknown kind", e.client, CreateProfileRequest{ReferenceID: "r", Resources: []Resource{{Kind: "audio", Name: "a", Value: "x"}}}, "unknown kind"},
		{"duplicate name", e.client, CreateProfileRequest{ReferenceID: "r", Resources: []Resource{{Kind: ResourceText, Name: "a"}, {Kind: ResourceImage, Name: "a"}}}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.c.CreateProfile(context.Background(), tt.req); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if n := len(e.sim.Profiles()); n != 0 {
		t.Errorf("%d profiles reached the simulator", n)
	}
}

func TestAPIErrors(t *testing.T) {
	ctx := context.Background()
	plain := newEnv(t, envOptions{})
	if _, err := plain.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "dup"}); err != nil {
		t.Fatal(err)
	}
	wrongCreds := newEnv(t, envOptions{simAPIKey: "another-key"})
	keyed := newEnv(t, envOptions{simKeyID: "kid-1", simKey: testKey(1), adapterKeyID: "kid-1", adapterKey: testKey(2)})
	encryptedVsPlain := newEnv(t, envOptions{adapterKeyID: "kid-1", adapterKey: testKey(1)})
	persistent := newEnv(t, envOptions{})
	persistent.sim.FailNext(http.StatusServiceUnavailable, 10)

	tests := []struct {
		name       string
		call       func() error
		wantStatus int
		wantCode   string
	}{
		{"bad credentials on create", func() error {
			_, err := wrongCreds.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "r"})
			return err
		}, 401, "UNAUTHORIZED"},
		{"bad credentials on get", func() error { _, err := wrongCreds.client.GetProfile(ctx, "x"); return err }, 401, "UNAUTHORIZED"},
		{"duplicate reference", func() error {
			_, err := plain.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "dup"})
			return err
		}, 409, "DUPLICATE_REFERENCE_ID"},
		{"unknown profile", func() error { _, err := plain.client.GetProfile(ctx, "no-such-profile"); return err }, 404, "NOT_FOUND"},
		{"refresh of an unknown profile", func() error { _, err := plain.client.Refresh(ctx, "r", "no-such-profile"); return err }, 404, "NOT_FOUND"},
		{"encrypted flow not enabled", func() error {
			_, err := encryptedVsPlain.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "r"})
			return err
		}, 403, "FORBIDDEN"},
		{"wrong JWE key", func() error {
			_, err := keyed.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "r", Resources: textResources(1)})
			return err
		}, 400, "DECRYPTION_FAILED"},
		{"5xx after the retries", func() error { _, err := persistent.client.GetProfile(ctx, "x"); return err }, 503, "INTERNAL_SERVER_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *providers.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *providers.APIError", err)
			}
			if ae.Provider != providers.IDfy || ae.HTTPStatus != tt.wantStatus || ae.Code != tt.wantCode {
				t.Errorf("got %s/%d/%s, want %d/%s", ae.Provider, ae.HTTPStatus, ae.Code, tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(err.Error(), testAPIKey) {
				t.Errorf("error leaks the API key: %v", err)
			}
		})
	}
}

func TestRetriesOn429And5xx(t *testing.T) {
	e := newEnv(t, envOptions{})
	created, err := e.client.CreateProfile(context.Background(), CreateProfileRequest{ReferenceID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.FailNext(http.StatusTooManyRequests, 1)
	e.sim.FailNext(http.StatusBadGateway, 1)
	p, err := e.client.GetProfile(context.Background(), created.ProfileID)
	if err != nil {
		t.Fatalf("not retried: %v", err)
	}
	if p.Status != StatusCapturePending {
		t.Errorf("status %q", p.Status)
	}
}

func TestStart(t *testing.T) {
	e := newEnv(t, envOptions{})
	selfie := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x89PNG fake image bytes ", 20)))
	started, err := e.client.Start(context.Background(), providers.StartRequest{
		Reference: "kd-idfy-001",
		Params: map[string]string{
			"text.name": `{"first_name":"Asha","last_name":"Rao"}`, "image.selfie": selfie,
			ParamExitURL: "https://desk.example.com/v/Zk3p9QxLtoken?left=1",
		},
		ReturnURL: "https://desk.example.com/v/Zk3p9QxLtoken?done=1",
		TTL:       15 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, ok := e.sim.ProfileByReference("kd-idfy-001")
	if !ok {
		t.Fatal("no profile for our reference")
	}
	if started.ProviderRef != st.ProfileID || started.Status != providers.StatusInvited || started.ProviderStatus != StatusCapturePending {
		t.Errorf("started %+v", started)
	}
	if st.Async || st.Resources != 2 {
		t.Errorf("two resources must go sync: %+v", st)
	}
	u, err := url.Parse(started.Link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("redirect_uri") != "https://desk.example.com/v/Zk3p9QxLtoken?done=1" || q.Get("exit_url") != "https://desk.example.com/v/Zk3p9QxLtoken?left=1" || q.Get("t") == "" {
		t.Errorf("link query %v", q)
	}
	if !strings.HasPrefix(started.Link, st.CaptureLink+"&redirect_uri=") {
		t.Errorf("link %q does not extend the capture link %q", started.Link, st.CaptureLink)
	}
	if want := e.clock.Now().Add(15 * time.Minute); !started.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt %v, want the shorter TTL %v", started.ExpiresAt, want)
	}

	async, err := e.client.Start(context.Background(), providers.StartRequest{
		Reference: "kd-idfy-002",
		Params:    map[string]string{"text.name": "Asha Rao", "text.dob": "1990-02-03", "image.selfie": "https://files.desk.example.com/s.png?Expires=1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := e.sim.ProfileByReference("kd-idfy-002"); !st.Async {
		t.Error("three resources must go async")
	}
	if len(async.Notes) == 0 || !strings.Contains(async.Notes[0], "asynchronous") {
		t.Errorf("notes %v", async.Notes)
	}
	if u, _ := url.Parse(async.Link); u.Query().Get("redirect_uri") != testReturn || u.Query().Get("exit_url") != testReturn {
		t.Errorf("default return URL not used: %s", async.Link)
	}
	if want := e.clock.Now().Add(24 * time.Hour); !async.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt %v, want IDfy's %v", async.ExpiresAt, want)
	}
}

func TestStartRefuses(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		name    string
		req     providers.StartRequest
		wantErr string
	}{
		{"no reference", providers.StartRequest{}, "empty reference"},
		{"unknown parameter", providers.StartRequest{Reference: "r", Params: map[string]string{"nmae": "x"}}, `unknown parameter "nmae"`},
		{"parameter without a name", providers.StartRequest{Reference: "r", Params: map[string]string{"text.": "x"}}, "names no resource"},
		{"http return URL", providers.StartRequest{Reference: "r", ReturnURL: "http://desk.example.com/v/tok"}, string(RuleHTTPS)},
		{"PII in exit URL", providers.StartRequest{Reference: "r", Params: map[string]string{ParamExitURL: "https://desk.example.com/v/t?email=a%40b.c"}}, string(RuleNoPII)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.client.Start(context.Background(), tt.req); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if n := len(e.sim.Profiles()); n != 0 {
		t.Errorf("%d profiles created despite refused starts", n)
	}
}

func postForm(t *testing.T, target string, form url.Values) *http.Response {
	t.Helper()
	resp, err := browser().PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func getPage(t *testing.T, target string) (int, string) {
	t.Helper()
	resp, err := browser().Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestJourney walks the whole flow over HTTP: start, the end user's capture
// page (join, finish, redirect to redirect_uri), the webhooks as triggers,
// refresh with documents, the agent's approval, refresh again.
func TestJourney(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	started, err := e.client.Start(ctx, providers.StartRequest{Reference: "kd-idfy-journey",
		Params: map[string]string{"text.name": `{"first_name":"Asha","last_name":"Rao"}`, "text.dob": "1990-02-03"}})
	if err != nil {
		t.Fatal(err)
	}
	id := started.ProviderRef
	code, page := getPage(t, started.Link)
	if code != http.StatusOK || !strings.Contains(page, `data-testid="sim-label"`) || !strings.Contains(page, `data-testid="finish"`) {
		t.Fatalf("capture page %d:\n%s", code, page)
	}
	link, _ := url.Parse(started.Link)
	form := url.Values{"t": {link.Query().Get("t")}, "redirect_uri": {link.Query().Get("redirect_uri")}, "exit_url": {link.Query().Get("exit_url")}}
	base := e.srv.URL + "/_sim/idfy/capture/" + id

	resp := postForm(t, base+"/start", form)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), base+"?") {
		t.Fatalf("start: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, err := e.client.Refresh(ctx, "kd-idfy-journey", id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != providers.StatusInProgress || len(u.Documents) != 0 {
		t.Errorf("after joining: %s with %d documents", u.Status, len(u.Documents))
	}

	resp = postForm(t, base+"/finish", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != testReturn {
		t.Fatalf("finish: %d to %q, want redirect_uri", resp.StatusCode, resp.Header.Get("Location"))
	}

	var events, keys []string
	for _, h := range e.hooks.all() {
		d, err := e.client.VerifyInbound(h.header, h.body, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if d.Verified {
			t.Error("a webhook without a shared secret must stay a trigger")
		}
		w, err := ParseWebhook(h.body)
		if err != nil || w.ProfileID != id {
			t.Fatalf("webhook names %q (%v), want %s", w.ProfileID, err, id)
		}
		events = append(events, d.Event)
		keys = append(keys, d.DeliveryKey)
	}
	wantEvents := []string{EventProfileStatusUpdate, EventSessionUpdate, EventProfileStatusUpdate}
	wantKeys := []string{id + "|in_progress|", id + "|completed|", id + "|completed|"}
	if fmt.Sprint(events) != fmt.Sprint(wantEvents) || fmt.Sprint(keys) != fmt.Sprint(wantKeys) {
		t.Errorf("webhooks %v %v, want %v %v", events, keys, wantEvents, wantKeys)
	}

	u, err = e.client.Refresh(ctx, "kd-idfy-journey", id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != providers.StatusNeedsReview || u.ProviderStatus != "completed" || u.ProviderRef != id || u.Reference != "kd-idfy-journey" {
		t.Errorf("after capture: %+v", u)
	}
	docs := map[string]string{}
	for _, d := range u.Documents {
		docs[d.Name] = d.ContentType
		if len(d.Data) == 0 {
			t.Errorf("%s is empty", d.Name)
		}
	}
	if docs["document_profile_report"] != "application/pdf" || docs["image_selfie"] != "image/png" || len(docs) != 2 {
		t.Errorf("documents %v (videos stay with IDfy)", docs)
	}
	attrs := map[string]string{}
	for _, a := range u.Attributes {
		attrs[a.Meaning] = a.Value
	}
	if attrs["full_name"] != "Asha Rao" || attrs["date_of_birth"] != "1990-02-03" {
		t.Errorf("attributes %v", attrs)
	}

	resp = postForm(t, e.srv.URL+"/_sim/idfy/operator/"+id+"/approve", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	hooks := e.hooks.all()
	last, err := ParseWebhook(hooks[len(hooks)-1].body)
	if err != nil || last.DeliveryKey() != id+"|completed|approved" {
		t.Errorf("approval webhook %+v (%v)", last, err)
	}
	u, err = e.client.Refresh(ctx, "kd-idfy-journey", id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != providers.StatusApproved || u.ProviderStatus != "completed/approved" {
		t.Errorf("after approval: %s %q", u.Status, u.ProviderStatus)
	}
	if len(u.Certificates) == 0 || u.Certificates[0] != (providers.Certificate{Name: "reviewer_action", Value: "approved"}) {
		t.Errorf("certificates %+v", u.Certificates)
	}

	if _, err := e.client.Refresh(ctx, "another-reference", id); err == nil {
		t.Error("refresh accepted a profile of another reference")
	}
}

func TestCapturePageRefuses(t *testing.T) {
	e := newEnv(t, envOptions{})
	started, err := e.client.Start(context.Background(), providers.StartRequest{Reference: "r-page"})
	if err != nil {
		t.Fatal(err)
	}
	link, _ := url.Parse(started.Link)
	bad := *link
	q := bad.Query()
	q.Set("t", "forged")
	bad.RawQuery = q.Encode()
	if code, _ := getPage(t, bad.String()); code != http.StatusForbidden {
		t.Errorf("forged token: %d", code)
	}
	if code, _ := getPage(t, e.srv.URL+"/_sim/idfy/capture/nope?t=x"); code != http.StatusNotFound {
		t.Errorf("unknown profile: %d", code)
	}
	resp := postForm(t, e.srv.URL+"/_sim/idfy/capture/"+started.ProviderRef+"/finish", url.Values{"t": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged finish: %d", resp.StatusCode)
	}
	e.clock.Advance(24 * time.Hour)
	if code, page := getPage(t, started.Link); code != http.StatusGone || !strings.Contains(page, "expired") {
		t.Errorf("expired link: %d", code)
	}
	u, err := e.client.Refresh(context.Background(), "r-page", started.ProviderRef)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != providers.StatusExpired || u.ProviderStatus != StatusCaptureExpired {
		t.Errorf("after expiry: %s %q", u.Status, u.ProviderStatus)
	}
}

func TestCancelGoesToExitURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	started, err := e.client.Start(context.Background(), providers.StartRequest{Reference: "r-cancel",
		Params: map[string]string{ParamExitURL: "https://desk.example.com/v/Zk3p9QxLtoken?cancelled=1"}})
	if err != nil {
		t.Fatal(err)
	}
	link, _ := url.Parse(started.Link)
	form := url.Values{"t": {link.Query().Get("t")}, "redirect_uri": {link.Query().Get("redirect_uri")}, "exit_url": {link.Query().Get("exit_url")}}
	resp := postForm(t, e.srv.URL+"/_sim/idfy/capture/"+started.ProviderRef+"/cancel", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://desk.example.com/v/Zk3p9QxLtoken?cancelled=1" {
		t.Fatalf("cancel: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	hooks := e.hooks.all()
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks, want one session update", len(hooks))
	}
	w, err := ParseWebhook(hooks[0].body)
	if err != nil || w.Event != EventSessionUpdate || w.Status != StatusCapturePending {
		t.Errorf("webhook %+v (%v)", w, err)
	}
	if st, _ := e.sim.Profile(started.ProviderRef); st.Status != sim.StatusCapturePending {
		t.Errorf("status after cancel %q", st.Status)
	}
}

func TestResourceURLsExpire(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	created, err := e.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "r-res"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.FinishCapture(ctx, created.ProfileID); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.GetProfile(ctx, created.ProfileID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Resources.Documents) != 1 || len(p.Resources.Images) != 1 || len(p.Resources.Videos) != 1 {
		t.Fatalf("resources %+v", p.Resources)
	}
	report := p.Resources.Documents[0].Value
	doc, err := e.client.DownloadResource(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ContentType != "application/pdf" || !strings.HasPrefix(string(doc.Data), "%PDF-") {
		t.Errorf("report %s %q", doc.ContentType, doc.Data[:8])
	}

	e.clock.Advance(16 * time.Minute)
	_, err = e.client.DownloadResource(ctx, report)
	var ae *providers.APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusForbidden {
		t.Fatalf("expired URL: err = %v, want a 403 APIError", err)
	}
	if strings.Contains(err.Error(), "Signature=") {
		t.Errorf("error leaks the signed URL: %v", err)
	}
	tampered := strings.Replace(report, "profile_report", "selfie", 1)
	if _, err := e.client.DownloadResource(ctx, tampered); !errors.As(err, &ae) || ae.HTTPStatus != http.StatusForbidden {
		t.Errorf("tampered URL: err = %v, want 403", err)
	}

	p, err = e.client.GetProfile(ctx, created.ProfileID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DownloadResource(ctx, p.Resources.Documents[0].Value); err != nil {
		t.Errorf("fresh URL after re-fetch: %v", err)
	}
}

func TestPurgeAndExpire(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	mk := func(ref string) string {
		c, err := e.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: ref, Resources: textResources(1)})
		if err != nil {
			t.Fatal(err)
		}
		return c.ProfileID
	}
	pending, done, approved, expiring := mk("r-a"), mk("r-b"), mk("r-c"), mk("r-d")
	for _, id := range []string{done, approved} {
		if err := e.sim.FinishCapture(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.sim.Review(ctx, approved, sim.ReviewerApproved); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{pending, done, approved} {
		if err := e.sim.Purge(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	resp := postForm(t, e.srv.URL+"/_sim/idfy/operator/"+expiring+"/expire", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("expire control: %d", resp.StatusCode)
	}
	tests := []struct {
		id, ref      string
		want         providers.Status
		wantProvider string
	}{
		{pending, "r-a", providers.StatusWithdrawn, "purged"},
		{done, "r-b", providers.StatusWithdrawn, "purged"},
		{approved, "r-c", providers.StatusApproved, "purged/approved"},
		{expiring, "r-d", providers.StatusExpired, "capture_expired"},
	}
	for _, tt := range tests {
		u, err := e.client.Refresh(ctx, tt.ref, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != tt.want || u.ProviderStatus != tt.wantProvider || len(u.Documents) != 0 || len(u.Attributes) != 0 {
			t.Errorf("%s: %s %q, %d documents, %d attributes", tt.ref, u.Status, u.ProviderStatus, len(u.Documents), len(u.Attributes))
		}
	}
	if err := e.sim.Review(ctx, pending, sim.ReviewerApproved); !errors.Is(err, sim.ErrState) {
		t.Errorf("review of a purged profile: %v", err)
	}
	if resp := postForm(t, e.srv.URL+"/_sim/idfy/operator/"+pending+"/purge", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("second purge: %d", resp.StatusCode)
	}
}

func TestEncryptedFlow(t *testing.T) {
	ctx := context.Background()
	key := testKey(0x42)
	e := newEnv(t, envOptions{simKeyID: "kid-42", simKey: key, adapterKeyID: "kid-42", adapterKey: key})
	started, err := e.client.Start(ctx, providers.StartRequest{Reference: "r-enc",
		Params: map[string]string{"text.name": "Asha Rao", "text.dob": "1990-02-03", "text.pan_hint": "ABCDE"}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.sim.Profile(started.ProviderRef)
	if !st.Encrypted || !st.Async || st.Resources != 3 {
		t.Errorf("simulator saw %+v", st)
	}
	if err := e.sim.FinishCapture(ctx, started.ProviderRef); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/profiles/"+started.ProviderRef, nil)
	req.Header.Set(HeaderAPIKey, testAPIKey)
	req.Header.Set(HeaderAccountID, testAccount)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), `"encrypted_data"`) || strings.Contains(string(raw), "Asha") {
		t.Errorf("wire reply not encrypted: %s", raw)
	}

	u, err := e.client.Refresh(ctx, "r-enc", started.ProviderRef)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != providers.StatusNeedsReview || len(u.Documents) != 2 || len(u.Attributes) != 3 {
		t.Errorf("decrypted update: %s, %d documents, %d attributes", u.Status, len(u.Documents), len(u.Attributes))
	}

	plainAdapter, _ := New(Config{URL: e.srv.URL, AccountID: testAccount, APIKey: testAPIKey, ConfigID: testConfigID}, e.srv.Client(), e.clock.Now)
	if _, err := plainAdapter.GetProfile(ctx, started.ProviderRef); err == nil || !strings.Contains(err.Error(), "no key is configured") {
		t.Errorf("plain adapter on an encrypted reply: %v", err)
	}
}

func TestWebhookSharedSecret(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{secret: "hook-secret-1"})
	created, err := e.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "r-hook"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.StartCall(ctx, created.ProfileID); err != nil {
		t.Fatal(err)
	}
	hooks := e.hooks.all()
	if len(hooks) != 1 || hooks[0].header.Get(DefaultWebhookHeader) != "hook-secret-1" {
		t.Fatalf("webhooks %d, secret header %q", len(hooks), hooks[0].header.Get(DefaultWebhookHeader))
	}
	d, err := e.client.VerifyInbound(hooks[0].header, hooks[0].body, e.clock.Now())
	if err != nil || !d.Verified || d.DeliveryKey != created.ProfileID+"|in_progress|" {
		t.Errorf("delivery %+v (%v)", d, err)
	}
	other, _ := New(Config{WebhookSecret: "another"}, nil, nil)
	if _, err := other.VerifyInbound(hooks[0].header, hooks[0].body, e.clock.Now()); !errors.Is(err, providers.ErrBadSignature) {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestWebhookDeliveryFailureIsReported(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	e.hooks.code = http.StatusInternalServerError
	created, err := e.client.CreateProfile(ctx, CreateProfileRequest{ReferenceID: "r-fail"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.StartCall(ctx, created.ProfileID); err == nil {
		t.Error("a refused webhook was not reported")
	}
	if st, _ := e.sim.Profile(created.ProfileID); st.Status != sim.StatusInProgress {
		t.Errorf("the step was undone: %q", st.Status)
	}
	ds := e.sim.Deliveries()
	if len(ds) != 1 || ds[0].Status != http.StatusInternalServerError {
		t.Errorf("deliveries %+v", ds)
	}
	if code, page := getPage(t, e.srv.URL+"/_sim/idfy/"); code != http.StatusOK || !strings.Contains(page, "failed") || !strings.Contains(page, "Simulator") {
		t.Errorf("operator page %d does not show the failed delivery", code)
	}
}
