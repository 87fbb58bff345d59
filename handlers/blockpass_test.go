package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	blockpasssim "github.com/kycdesk/kycdesk/providers/blockpass/sim"
	"github.com/kycdesk/kycdesk/web/authz"
)

// postBlockpassWebhook posts body to /webhooks/blockpass with the given
// headers and returns the status and the decoded JSON answer.
func (a *testApp) postBlockpassWebhook(t *testing.T, body []byte, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/webhooks/blockpass", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func blockpassSignature(body []byte) string {
	mac := hmac.New(sha256.New, []byte(testBlockpassSecret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// startBlockpass starts a Blockpass verification from the UI and returns
// the applicant and the reference (refId) the connect link carries.
func startBlockpass(t *testing.T, app *testApp, name string) (int64, string) {
	t.Helper()
	c := app.signedIn(authz.Admin)
	resp := c.postForm("/verifications", url.Values{"provider": {"blockpass"}, "name": {name}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: status %d", resp.StatusCode)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(resp.Header.Get("Location"), "/verifications/"), 10, 64)
	if err != nil {
		t.Fatalf("start redirected to %q", resp.Header.Get("Location"))
	}
	v, err := app.db.Verification(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v.ApplicantID, v.Reference
}

func providerEvents(t *testing.T, app *testApp, applicantID int64) []db.Event {
	t.Helper()
	events, err := app.db.Timeline(context.Background(), applicantID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []db.Event
	for _, e := range events {
		if e.Source == "webhook" {
			out = append(out, e)
		}
	}
	return out
}

func TestBlockpassWebhookSignatures(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	applicantID, ref := startBlockpass(t, app, "Webhook Person")
	// The user registers through the connect link; the simulator sends
	// user.created to the app over HTTP, signed.
	recordID, err := app.sims.bp.sim.Register(ref, blockpasssim.FakePerson(3))
	if err != nil {
		t.Fatalf("register (webhook delivery): %v", err)
	}
	body := func(guid string) []byte {
		b, _ := json.Marshal(map[string]any{"guid": guid, "status": "waiting", "clientId": app.sims.bp.sim.ClientID(),
			"event": "user.readyToReview", "recordId": recordID, "refId": ref, "isPing": false, "env": "prod"})
		return b
	}

	for _, tc := range []struct {
		name     string
		header   func(b []byte) map[string]string
		status   int
		outcome  string
		accepted bool
	}{
		{"good signature, bare hex", func(b []byte) map[string]string {
			return map[string]string{"X-Hub-Signature": blockpassSignature(b), "X-Blockpass-Delivery": "d-bare", "X-Blockpass-Event": "user.readyToReview"}
		}, http.StatusOK, "stored", true},
		{"good signature, sha256= prefix", func(b []byte) map[string]string {
			return map[string]string{"X-Hub-Signature": "sha256=" + blockpassSignature(b), "X-Blockpass-Delivery": "d-prefixed"}
		}, http.StatusOK, "stored", true},
		{"wrong signature", func(b []byte) map[string]string {
			sig := []byte(blockpassSignature(b))
			sig[0] ^= 1
			return map[string]string{"X-Hub-Signature": string(sig), "X-Blockpass-Delivery": "d-wrong"}
		}, http.StatusUnauthorized, "", false},
		{"signature of another body", func(b []byte) map[string]string {
			return map[string]string{"X-Hub-Signature": blockpassSignature(append(b, ' ')), "X-Blockpass-Delivery": "d-other"}
		}, http.StatusUnauthorized, "", false},
		{"missing signature", func(b []byte) map[string]string {
			return map[string]string{"X-Blockpass-Delivery": "d-missing"}
		}, http.StatusUnauthorized, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := body("guid-" + tc.name)
			status, out := app.postBlockpassWebhook(t, b, tc.header(b))
			if status != tc.status || (tc.outcome != "" && out["status"] != tc.outcome) {
				t.Fatalf("status %d %v, want %d %q", status, out, tc.status, tc.outcome)
			}
			if !tc.accepted && out["code"] != "bad_signature" {
				t.Errorf("refusal %v, want code bad_signature", out)
			}
			key := tc.header(b)["X-Blockpass-Delivery"]
			items, _ := app.db.ListInbox(ctx, db.InboxFilter{Limit: 100})
			stored := false
			for _, it := range items {
				stored = stored || it.DeliveryKey == key
			}
			if stored != tc.accepted {
				t.Errorf("delivery %s stored: %v, want %v", key, stored, tc.accepted)
			}
		})
	}

	// Process what was stored: the simulator's user.created and the two
	// accepted deliveries, each a trigger to fetch the record.
	if _, err := app.flow.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	events := providerEvents(t, app, applicantID)
	if len(events) != 3 {
		t.Fatalf("webhook events on the timeline: %+v, want 3", events)
	}
	if failed, _ := app.db.ListInbox(ctx, db.InboxFilter{FailedOnly: true}); len(failed) != 0 {
		t.Fatalf("unprocessed deliveries: %+v", failed)
	}

	// A replayed delivery id: 200, recognised, and not processed again.
	b := body("guid-bare-again")
	status, out := app.postBlockpassWebhook(t, b, map[string]string{"X-Hub-Signature": blockpassSignature(b), "X-Blockpass-Delivery": "d-bare"})
	if status != http.StatusOK || out["status"] != "duplicate" {
		t.Fatalf("replay: %d %v, want 200 duplicate", status, out)
	}
	// The simulator retrying its own delivery, byte for byte, too.
	first := app.sims.bp.sim.Deliveries()[0]
	if err := app.sims.bp.sim.Redeliver(first.GUID); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	if _, err := app.flow.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(providerEvents(t, app, applicantID)); n != 3 {
		t.Errorf("%d webhook events after the replays, want still 3", n)
	}
	items, _ := app.db.ListInbox(ctx, db.InboxFilter{Limit: 100})
	dups := 0
	for _, it := range items {
		dups += it.Duplicates
	}
	if dups != 2 {
		t.Errorf("inbox counts %d duplicates, want 2", dups)
	}

	// A ping is answered and not stored.
	ping := []byte(`{"guid":"p1","event":"user.created","isPing":true}`)
	status, out = app.postBlockpassWebhook(t, ping, map[string]string{"X-Hub-Signature": blockpassSignature(ping), "X-Blockpass-Delivery": "p1"})
	if status != http.StatusOK || out["status"] != "pong" {
		t.Errorf("ping: %d %v", status, out)
	}
}

func TestBlockpassSyncFromTheAdminPage(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	app.sims.bp.sim.Seed(12)
	admin := app.signedIn(authz.Admin)

	doc := parse(t, admin.get("/admin/blockpass"))
	if doc.Find(`[data-testid="bp-sync-now"]`).Length() != 1 {
		t.Fatal("no Sync now button")
	}
	if !strings.Contains(doc.Find(`[data-testid="bp-encryption"]`).Text(), "Needs Blockpass's protocol details") {
		t.Error("the page does not say response encryption needs Blockpass's protocol details")
	}
	if doc.Find(`a[href="/admin/blockpass"]`).Length() == 0 && !strings.Contains(bpBodyText(t, admin.get("/admin")), "/admin/blockpass") {
		t.Error("the admin index does not link the Blockpass page")
	}

	// Only admins may start a sync.
	if resp := app.signedIn(authz.Checker).postForm("/admin/blockpass/sync", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("checker starting a sync: %d, want 403", resp.StatusCode)
	}

	resp := admin.postForm("/admin/blockpass/sync", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/blockpass" {
		t.Fatalf("sync: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	progress := parse(t, admin.get("/admin/blockpass/sync/progress", "HX-Request", "true"))
	sel := progress.Find(`[data-testid="bp-progress"]`)
	if state, _ := sel.Attr("data-state"); state != db.SyncQueued {
		t.Fatalf("progress state %q, want queued", state)
	}
	if trig, _ := progress.Find("#bp-live").Attr("hx-trigger"); !strings.Contains(trig, "every") {
		t.Error("a queued sync's progress does not poll")
	}
	// A second click while one waits queues nothing more.
	admin.postForm("/admin/blockpass/sync", nil)
	if entries := app.auditActions(t, "blockpass.sync_request"); len(entries) != 1 {
		t.Errorf("%d sync requests audited, want 1", len(entries))
	}

	// The Blockpass job runs it.
	run, ran, err := app.flow.RunQueuedBlockpassSync(ctx, app.sims.bp.client, 5)
	if err != nil || !ran || run.Counts.Created != 12 {
		t.Fatalf("run = %+v, %v, %v", run, ran, err)
	}
	progress = parse(t, admin.get("/admin/blockpass/sync/progress", "HX-Request", "true"))
	sel = progress.Find(`[data-testid="bp-progress"]`)
	if state, _ := sel.Attr("data-state"); state != db.SyncDone {
		t.Fatalf("progress state %q, want done", state)
	}
	if _, polls := progress.Find("#bp-live").Attr("hx-trigger"); polls {
		t.Error("a finished sync's progress keeps polling")
	}
	if n := progress.Find(`[data-testid="bp-run"]`).Length(); n != 1 {
		t.Errorf("the progress lists %d runs, want 1", n)
	}
	if got := progress.Find(`[data-testid="bp-created"]`).Text(); got != "12" {
		t.Errorf("progress shows %q new, want 12", got)
	}
	if got := progress.Find(`[data-testid="bp-progress-count"]`).Text(); !strings.Contains(got, "12 of 12") {
		t.Errorf("progress count %q", got)
	}

	// The applicant page shows what came from Blockpass and when Blockpass
	// deletes its copy.
	rec, err := app.db.BlockpassRecord(ctx, blockpasssim.SeedRecordID(1))
	if err != nil {
		t.Fatal(err)
	}
	page := parse(t, admin.get("/applicants/"+strconv.FormatInt(rec.ApplicantID, 10)))
	panel := page.Find(`[data-testid="bp-panel"]`)
	if panel.Length() != 1 {
		t.Fatal("no Blockpass panel on the applicant page")
	}
	if got := panel.Find(`[data-testid="bp-status"]`).Text(); strings.TrimSpace(got) != "waiting" {
		t.Errorf("status at Blockpass %q, want waiting verbatim", got)
	}
	wantDate := app.now.Add(time.Hour).UTC().Format("2006-01-02 15:04 UTC")
	if got := panel.Find(`[data-testid="bp-archive-date"]`).Text(); !strings.Contains(got, wantDate) {
		t.Errorf("archive date %q, want %s", got, wantDate)
	}
	if got := panel.Find(`[data-testid="bp-waiting"]`).Text(); got == "" {
		t.Error("the last submission date is missing")
	}
	if got := panel.Find(`[data-testid="bp-extracted"]`).Text(); !strings.Contains(got, "3 documents") {
		t.Errorf("extract line %q, want the 3 pictures", got)
	}
	person := blockpasssim.FakePerson(1)
	if !strings.Contains(page.Find(`[data-testid="attributes"]`).Text(), person.Email) {
		t.Error("the synced attributes are not shown")
	}
	if !strings.Contains(page.Find(`[data-testid="timeline"]`).Text(), "waiting") {
		t.Error("the verbatim status is not on the timeline")
	}

	// A maker sees the panel without personal data.
	makerPage := parse(t, app.signedIn(authz.Maker).get("/applicants/"+strconv.FormatInt(rec.ApplicantID, 10)))
	if makerPage.Find(`[data-testid="bp-archive-date"]`).Length() != 1 {
		t.Error("the archive date is not shown to a maker")
	}
}

// exportForm builds the import form's multipart body.
func exportForm(t *testing.T, fields map[string]string, bin, meta []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if bin != nil {
		fw, _ := w.CreateFormFile("profile", "profile.bin")
		fw.Write(bin)
	}
	if meta != nil {
		fw, _ := w.CreateFormFile("meta", "meta.json")
		fw.Write(meta)
	}
	w.Close()
	return &buf, w.FormDataContentType()
}

func (c *client) postMultipart(path string, body io.Reader, contentType string, header ...string) *http.Response {
	c.app.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, body)
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.app.t.Fatal(err)
	}
	c.app.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestBlockpassExportImport(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	app.sims.bp.sim.Seed(3)
	bin, meta, err := app.sims.bp.sim.Export(blockpasssim.SeedRecordID(2))
	if err != nil {
		t.Fatal(err)
	}
	admin := app.signedIn(authz.Admin)
	tok := admin.csrf()
	person := blockpasssim.FakePerson(2)

	if doc := parse(t, admin.get("/admin/blockpass/import")); doc.Find(`input[type="file"][name="profile"]`).Length() != 1 ||
		doc.Find(`label[for="profile"]`).Length() != 1 || doc.Find(`[data-testid="bp-no-export-key"]`).Length() != 0 {
		t.Fatal("the import form lacks its labelled file inputs or says no key is configured")
	}

	// With htmx (the token in a header): the parts are streamed, never
	// parsed into a form; a new applicant named from the export.
	body, ct := exportForm(t, map[string]string{"target": "new"}, bin, meta)
	resp := admin.postMultipart("/admin/blockpass/import", body, ct, "X-CSRF-Token", tok, "HX-Request", "true")
	loc := resp.Header.Get("HX-Redirect")
	if resp.StatusCode/100 != 2 || !strings.HasPrefix(loc, "/applicants/") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("import: %d, HX-Redirect %q\n%s", resp.StatusCode, loc, b)
	}
	page := parse(t, admin.get(loc))
	if got := page.Find(`[data-testid="applicant-name"]`).Text(); !strings.Contains(got, person.GivenName) {
		t.Errorf("new applicant named %q, want %s", got, person.GivenName)
	}
	if !strings.Contains(page.Find(`[data-testid="attributes"]`).Text(), person.Email) {
		t.Error("the export's attributes are not in the store")
	}
	if !strings.Contains(page.Find(`[data-testid="flash"]`).Text(), "Imported") {
		t.Error("no flash saying what was imported")
	}
	if entries := app.auditActions(t, "blockpass.export_import"); len(entries) != 1 || entries[0].Actor != app.users[authz.Admin].Email {
		t.Errorf("import audit = %+v", entries)
	}

	// Without JavaScript (the token in the form): into an existing
	// applicant by reference.
	existing, _ := app.db.CreateApplicant(ctx, db.NewApplicant{Name: "Existing Person"}, db.AuditEntry{Actor: "test"})
	body, ct = exportForm(t, map[string]string{"_csrf": tok, "target": "existing", "ref": strings.ToLower(existing.Ref)}, bin, meta)
	resp = admin.postMultipart("/admin/blockpass/import", body, ct)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/applicants/"+strconv.FormatInt(existing.ID, 10) {
		t.Fatalf("no-JS import: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Refusals re-render the form with the reason; nothing is stored.
	corrupt := append([]byte(nil), bin...)
	corrupt[len(corrupt)-1] ^= 0xff
	for _, tc := range []struct {
		name      string
		fields    map[string]string
		bin, meta []byte
		want      string
	}{
		{"corrupt profile.bin", map[string]string{"target": "new"}, corrupt, meta, "not imported"},
		{"meta.json of another export", map[string]string{"target": "new"}, bin, []byte(`{"wrappedKey":"AAAA","iv":"00","zipContentSHA256":"00"}`), "not imported"},
		{"a missing file", map[string]string{"target": "new"}, bin, nil, "Choose both files"},
		{"an unknown reference", map[string]string{"target": "existing", "ref": "KD-NOPE"}, bin, meta, "No applicant has the reference"},
		{"profile.bin too large", map[string]string{"target": "new"}, make([]byte, maxExportBin+1), meta, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(app.auditActions(t, "blockpass.export_import"))
			body, ct := exportForm(t, tc.fields, tc.bin, tc.meta)
			resp := admin.postMultipart("/admin/blockpass/import", body, ct, "X-CSRF-Token", tok, "HX-Request", "true")
			doc := parse(t, resp)
			if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Find(`[data-testid="bp-import-error"]`).Text(), tc.want) {
				t.Fatalf("%d, error %q, want %q", resp.StatusCode, doc.Find(`[data-testid="bp-import-error"]`).Text(), tc.want)
			}
			if n := len(app.auditActions(t, "blockpass.export_import")); n != before {
				t.Error("a refused import was recorded as an import")
			}
		})
	}
	if refused := app.auditActions(t, "blockpass.export_import_refused"); len(refused) != 2 {
		t.Errorf("%d refused decryptions audited, want 2", len(refused))
	}

	// Without the admin capability: refused.
	body, ct = exportForm(t, map[string]string{"target": "new"}, bin, meta)
	checker := app.signedIn(authz.Checker)
	if resp := checker.postMultipart("/admin/blockpass/import", body, ct, "X-CSRF-Token", checker.csrf(), "HX-Request", "true"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("checker import: %d, want 403", resp.StatusCode)
	}
}

func bpBodyText(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
