package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/web/authz"
)

// corepassVectors are the seed's status-callback samples (shared/vectors).
type corepassVectors struct {
	PubKeyHex       string   `json:"connector_pubkey_hex"`
	ValidCoreIDs    []string `json:"valid_core_ids"`
	StatusCallbacks []struct {
		Body  string `json:"body"`
		Valid bool   `json:"valid"`
	} `json:"status_callbacks"`
}

func loadCorePassVectors(t *testing.T) corepassVectors {
	t.Helper()
	raw, err := os.ReadFile("../../shared/vectors/providers.json")
	if err != nil {
		t.Skipf("shared vectors not available: %v", err)
	}
	var all struct {
		CorePass corepassVectors `json:"corepass"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	return all.CorePass
}

func (a *testApp) post(path, contentType string, body []byte) (*http.Response, map[string]any) {
	a.t.Helper()
	resp, err := http.Post(a.srv.URL+path, contentType, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// TestCorePassStatusCallbackVectors posts the seed's signed samples to the
// real endpoint with the seed connector key pinned and the clock before
// their deadline.
func TestCorePassStatusCallbackVectors(t *testing.T) {
	v := loadCorePassVectors(t)
	key, _ := hex.DecodeString(v.PubKeyHex)
	app := newTestAppWith(t, testOptions{Now: time.Unix(1677255400, 0).UTC(), CorePassKey: key})
	ctx := context.Background()

	var valid [][]byte
	for i, cb := range v.StatusCallbacks {
		resp, out := app.post("/callbacks/corepass/status", "application/json", []byte(cb.Body))
		want := http.StatusUnauthorized
		if cb.Valid {
			want = http.StatusOK
			valid = append(valid, []byte(cb.Body))
		}
		if resp.StatusCode != want {
			t.Fatalf("sample %d (valid=%v): status %d %v", i, cb.Valid, resp.StatusCode, out)
		}
	}
	if len(valid) != 2 {
		t.Fatalf("expected the two valid seed samples, got %d", len(valid))
	}
	// A retry of the same delivery is a no-op 200.
	resp, out := app.post("/callbacks/corepass/status", "application/json", valid[0])
	if resp.StatusCode != http.StatusOK || out["status"] != "duplicate" {
		t.Fatalf("retry: %d %v", resp.StatusCode, out)
	}
	items, err := app.db.ListInbox(ctx, db.InboxFilter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("inbox holds %d items, want 2 (%v)", len(items), err)
	}
	// No verification matches these samples: processing fails but the
	// deliveries are kept for an admin to see and replay.
	if _, err := app.flow.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	items, _ = app.db.ListInbox(ctx, db.InboxFilter{})
	for _, it := range items {
		if it.Processed() || !strings.Contains(it.Error, "no verification matches") || !it.HasBody || !it.Verified {
			t.Fatalf("unmatched delivery not kept as failed: %+v", it)
		}
		if it.Duplicates != 0 && it.Duplicates != 1 {
			t.Fatalf("duplicates %d", it.Duplicates)
		}
	}
	doc := parse(t, app.signedIn(authz.Admin).get("/admin/inbox"))
	if n := doc.Find(`[data-testid="inbox-row"]`).Length(); n != 2 {
		t.Fatalf("admin inbox shows %d rows", n)
	}
	if !strings.Contains(doc.Find(`[data-testid="inbox-state"]`).Text(), "no verification matches") {
		t.Fatal("the admin inbox does not say why processing failed")
	}
}

// TestCorePassStatusCallbackRefusals covers each way a callback is wrong.
func TestCorePassStatusCallbackRefusals(t *testing.T) {
	v := loadCorePassVectors(t)
	key, _ := hex.DecodeString(v.PubKeyHex)
	before := time.Unix(1677255400, 0).UTC()
	var good string
	for _, cb := range v.StatusCallbacks {
		if cb.Valid {
			good = cb.Body
			break
		}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(good), &fields); err != nil {
		t.Fatal(err)
	}
	var sigB64 string
	_ = json.Unmarshal(fields["signature"], &sigB64)
	sig, _ := base64.StdEncoding.DecodeString(sigB64)
	withSig := func(s []byte) string {
		return strings.Replace(good, sigB64, base64.StdEncoding.EncodeToString(s), 1)
	}
	flipped := bytes.Clone(sig)
	flipped[10] ^= 0x01
	otherSigner := bytes.Clone(sig)
	otherSigner[len(otherSigner)-1] ^= 0x01

	cases := []struct {
		name string
		now  time.Time
		key  []byte
		body string
		want int
	}{
		{"valid", before, key, good, http.StatusOK},
		{"flipped bit in the signature", before, key, withSig(flipped), http.StatusUnauthorized},
		{"signer key in the signature is not the pinned one", before, key, withSig(otherSigner), http.StatusUnauthorized},
		{"pinned key is another connector's", before, append([]byte{1}, key[1:]...), good, http.StatusUnauthorized},
		{"truncated signature", before, key, withSig(sig[:170]), http.StatusUnauthorized},
		{"past the deadline", time.Unix(1677255437+60, 0).UTC(), key, good, http.StatusUnauthorized},
		{"not JSON", before, key, "user=x", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestAppWith(t, testOptions{Now: tc.now, CorePassKey: tc.key})
			resp, out := app.post("/callbacks/corepass/status", "application/json", []byte(tc.body))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.want, out)
			}
			items, _ := app.db.ListInbox(context.Background(), db.InboxFilter{})
			if tc.want != http.StatusOK && len(items) != 0 {
				t.Fatal("a refused callback was stored")
			}
		})
	}
}

// TestCorePassTransferEndToEnd starts a transfer from the staff UI, has
// the simulated user accept it in the simulator (which signs every
// callback like the connector), and checks what staff and the end user see.
func TestCorePassTransferEndToEnd(t *testing.T) {
	v := loadCorePassVectors(t)
	app := newTestApp(t)
	ctx := context.Background()
	lc := app.signedIn(authz.LinkCreator)
	resp := lc.postForm("/verifications", url.Values{
		"provider": {"corepass"}, "name": {"Ada Transfer"}, "email": {"ada@example.com"},
		"core_id": {v.ValidCoreIDs[0]}, "meaning": {"full_name", "date_of_birth", "document_number"},
	})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/verifications/") {
		doc := parse(t, resp)
		t.Fatalf("start: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), doc.Find(`[data-testid="start-error"]`).Text())
	}
	page := parse(t, lc.get(resp.Header.Get("Location")))
	endUser, _ := page.Find(`[data-testid="enduser-link"]`).Attr("value")
	providerLink, _ := page.Find(`[data-testid="provider-link"]`).Attr("value")
	if endUser == "" || providerLink == "" {
		t.Fatal("the verification page shows no links")
	}
	if qr := lc.get(resp.Header.Get("Location") + "/qr.png"); qr.StatusCode != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR: %d %s", qr.StatusCode, qr.Header.Get("Content-Type"))
	}

	// The simulated user accepts in the CorePass app.
	if err := app.sims.corepass.Accept(ctx, path.Base(providerLink)); err != nil {
		t.Fatal(err)
	}
	if _, err := app.flow.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	items, _ := app.db.ListInbox(ctx, db.InboxFilter{FailedOnly: true})
	if len(items) != 0 {
		t.Fatalf("%d deliveries failed processing: %s", len(items), items[0].Error)
	}
	page2, _ := app.db.ListApplicants(ctx, db.ApplicantFilter{Query: "Ada Transfer"})
	if len(page2.Rows) != 1 {
		t.Fatal("applicant not created")
	}
	a := page2.Rows[0]
	if a.Status != "needs_review" {
		t.Fatalf("applicant status %s after the data arrived, want needs_review", a.Status)
	}
	attrs, err := app.db.Attributes(ctx, a.ID)
	if err != nil || len(attrs) < 3 {
		t.Fatalf("attributes %d, %v", len(attrs), err)
	}
	for _, at := range attrs {
		if at.Pepper == "" {
			t.Fatalf("attribute %s stored without its pepper", at.Name)
		}
	}
	timeline := parse(t, lc.get(fmt.Sprintf("/applicants/%d", a.ID))).Find(`[data-testid="timeline"]`).Text()
	for _, st := range []string{"ACCEPTED", "KYC_RECEIVED", "FINISH_SUCCESS"} {
		if !strings.Contains(timeline, st) {
			t.Errorf("timeline lacks %s", st)
		}
	}

	// The end-user page shows the status and never the personal data.
	eu := app.client().get(strings.TrimPrefix(endUser, app.srv.URL))
	body := parse(t, eu)
	if got, _ := body.Find(`[data-testid="enduser-status"]`).Attr("data-status"); got != "needs_review" {
		t.Fatalf("end-user status %q", got)
	}
	html, _ := body.Html()
	for _, at := range attrs {
		if len(at.Value) > 3 && strings.Contains(html, at.Value) {
			t.Fatalf("the end-user page shows personal data (%s)", at.Meaning)
		}
	}
	if strings.Contains(html, "Ada Transfer") || strings.Contains(html, "ada@example.com") {
		t.Fatal("the end-user page shows the applicant's name or email")
	}

	tr, _ := app.sims.corepass.Transfer(path.Base(providerLink))
	if tr.DataAttempts != 1 {
		t.Fatalf("the simulator sent the data callback %d times; one 200 should end its retries", tr.DataAttempts)
	}
	if unknown := app.client().get("/v/not-a-real-token-aaaaaaaaaaaaaaaaaaa"); unknown.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown token: %d", unknown.StatusCode)
	}
}
