package sim_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
	"github.com/kycdesk/kycdesk/providers/corepass/sim"
)

var acceptSteps = []string{"ACCEPTED", "INITIATE_SUBMITTED", "INITIATED", "KYC_RECEIVED", "VALIDITY_CHECK",
	"VALIDITY_SUCCEED", "CONFIRM_SUBMITTED", "CONFIRMED"}

func TestFullTransfer(t *testing.T) {
	for _, perMember := range []bool{false, true} {
		name := "one data field"
		if perMember {
			name = "one field per member"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, sim.Config{FieldPerMember: perMember})
			items := []string{"SH_Passport_FULLNAME", "SH_Passport_DOB", "SH_Passport_FaceImage", "SH_EMAIL"}
			_, id := h.qr(t, alice, items...)
			if err := h.sim.Accept(context.Background(), id); err != nil {
				t.Fatal(err)
			}

			got := h.callbacks()
			var statuses []string
			var data *providers.Update
			ref := corepass.TransferRef(alice, items)
			for i, c := range got {
				if c.err != nil {
					t.Fatalf("callback %d (%s) refused by the verifier: %v", i, c.path, c.err)
				}
				if c.update.ProviderRef != ref {
					t.Errorf("callback %d ref = %q, want %q", i, c.update.ProviderRef, ref)
				}
				if c.path == "/callbacks/corepass/data" {
					statuses = append(statuses, "<data>")
					data = &got[i].update
					continue
				}
				statuses = append(statuses, c.update.ProviderStatus)
			}
			want := append(slices.Clone(acceptSteps), "<data>", "CALLBACK_SUCCEED", "FINISH_SUCCESS")
			if !slices.Equal(statuses, want) {
				t.Fatalf("callbacks\n got %v\nwant %v", statuses, want)
			}

			// Transaction hashes: none before submission, the initiate tx for
			// INITIATE_SUBMITTED and VALIDITY_*, the confirm tx afterwards.
			tx := map[string]string{}
			for _, c := range got {
				tx[c.update.ProviderStatus] = c.update.TxHash
			}
			if tx["ACCEPTED"] != "" || tx["INITIATED"] != "" || tx["INITIATE_SUBMITTED"] == "" ||
				tx["VALIDITY_CHECK"] != tx["INITIATE_SUBMITTED"] || tx["VALIDITY_SUCCEED"] != tx["INITIATE_SUBMITTED"] ||
				tx["CONFIRM_SUBMITTED"] == tx["INITIATE_SUBMITTED"] || tx["FINISH_SUCCESS"] != tx["CONFIRM_SUBMITTED"] {
				t.Errorf("tx hashes = %v", tx)
			}

			profile := sim.DefaultProfile(alice)
			if data.Status != providers.StatusNeedsReview || len(data.Attributes) != len(items) {
				t.Fatalf("data update = %+v", data)
			}
			for _, a := range data.Attributes {
				if corepass.IsImage(a.Name) {
					continue
				}
				if a.Value != profile[a.Name] {
					t.Errorf("%s = %q, want %q", a.Name, a.Value, profile[a.Name])
				}
				pepper, err := hex.DecodeString(a.Pepper)
				id, _ := hex.DecodeString(alice)
				if err != nil || !bytes.HasSuffix(pepper, append(id, a.Name...)) || len(pepper) != 49+22+len(a.Name) {
					t.Errorf("%s pepper = %q", a.Name, a.Pepper)
				}
			}
			face, _ := base64.StdEncoding.DecodeString(profile["SH_Passport_FaceImage"])
			if len(data.Documents) != 1 || data.Documents[0].ContentType != "image/png" || !bytes.Equal(data.Documents[0].Data, face) {
				t.Errorf("documents = %d", len(data.Documents))
			}

			// The connector's view afterwards, through the adapter.
			all, err := h.adapter.AllStatuses(context.Background(), alice, items)
			if err != nil || len(all) != 11 || all[0].Status != "FINISH_SUCCESS" || all[10].Status != "PENDING" {
				t.Errorf("AllStatuses = %v, %v", all, err)
			}
			u, err := h.adapter.Refresh(context.Background(), "our-ref", ref)
			if err != nil || u.ProviderStatus != "FINISH_SUCCESS" || u.Status != providers.StatusNeedsReview || u.TxHash != tx["FINISH_SUCCESS"] {
				t.Errorf("Refresh = %+v, %v", u, err)
			}
			if err := h.sim.Accept(context.Background(), id); !errors.Is(err, sim.ErrNotPending) {
				t.Errorf("second accept: %v", err)
			}
		})
	}
}

func TestFailAtStep(t *testing.T) {
	tests := []struct {
		step, errName string
		before        int // status callbacks before the failure status
	}{
		{"INITIATED_FAILED", "INITIATED_FAILED", 2},
		{"VALIDITY_FAILED", "VALIDITY_FAILED", 5},
		{"CONFIRM_FAILED", "CONFIRMED_FAILED", 7},
	}
	for _, tc := range tests {
		t.Run(tc.step, func(t *testing.T) {
			h := newHarness(t, sim.Config{})
			_, id := h.qr(t, alice, "SH_IDCard_DOB")
			if err := h.sim.Fail(context.Background(), id, tc.step); err != nil {
				t.Fatal(err)
			}
			var statuses []string
			var errUpdate providers.Update
			for _, c := range h.callbacks() {
				if c.err != nil {
					t.Fatalf("refused: %v", c.err)
				}
				if c.path == "/callbacks/corepass/data" {
					errUpdate = c.update
					statuses = append(statuses, "<error>")
					continue
				}
				statuses = append(statuses, c.update.ProviderStatus)
			}
			want := append(slices.Clone(acceptSteps[:tc.before]), tc.step, "<error>", "FINISH_FAILED")
			if !slices.Equal(statuses, want) {
				t.Errorf("callbacks\n got %v\nwant %v", statuses, want)
			}
			if errUpdate.Status != providers.StatusFailed || errUpdate.ProviderStatus != tc.errName || !strings.Contains(errUpdate.Reason, tc.errName) {
				t.Errorf("error callback update = %+v", errUpdate)
			}
			// A failed transfer is not ongoing: a new request is possible.
			if qr, _ := h.qr(t, alice, "SH_IDCard_DOB"); qr.AlreadySent {
				t.Error("new request after failure reused the old QR")
			}
		})
	}
	h := newHarness(t, sim.Config{})
	_, id := h.qr(t, alice, "SH_IDCard_DOB")
	if err := h.sim.Fail(context.Background(), id, "FINISH_SUCCESS"); !errors.Is(err, sim.ErrUnknownStep) {
		t.Errorf("unknown step: %v", err)
	}
}

func TestDataCallbackRetriedUntil200(t *testing.T) {
	var tick atomic.Int64 // every reading of the clock is one second later
	clock := func() time.Time { return fixedNow.Add(time.Duration(tick.Add(1)) * time.Second) }
	h := newHarness(t, sim.Config{Now: clock, RetryInterval: time.Millisecond, MaxAttempts: 5})
	h.dataCode = func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	_, id := h.qr(t, alice, "SH_EMAIL")
	if err := h.sim.Accept(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	h.waitDelivered(t)
	tr := h.waitFor(t, id, func(tr sim.Transfer) bool { return tr.Status() == "FINISH_SUCCESS" })
	if tr.DataAttempts != 3 || !tr.DataDelivered {
		t.Errorf("attempts = %d, delivered = %v", tr.DataAttempts, tr.DataDelivered)
	}
	var history []string
	for _, st := range tr.Statuses {
		history = append(history, st.Status)
	}
	if !slices.Equal(history[len(history)-3:], []string{"CALLBACK_FAILED", "CALLBACK_SUCCEED", "FINISH_SUCCESS"}) {
		t.Errorf("history = %v", history)
	}
	var keys []string
	for _, c := range h.callbacks() {
		if c.path != "/callbacks/corepass/data" {
			continue
		}
		if c.err != nil {
			t.Fatalf("retry refused: %v", c.err)
		}
		keys = append(keys, c.delivery.DeliveryKey)
	}
	if len(keys) != 3 || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("each re-signed retry must carry the same delivery key: %v", keys)
	}
}

func TestDataCallbackRetriesAreBounded(t *testing.T) {
	h := newHarness(t, sim.Config{RetryInterval: time.Millisecond, MaxAttempts: 3})
	h.dataCode = func(int) int { return http.StatusServiceUnavailable }
	_, id := h.qr(t, alice, "SH_PHONE")
	if err := h.sim.Accept(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	tr := h.waitFor(t, id, func(tr sim.Transfer) bool { return tr.DataDeliveryAbandoned })
	if tr.DataAttempts != 3 || tr.DataDelivered || tr.Status() != "CALLBACK_FAILED" {
		t.Errorf("transfer = %+v", tr)
	}
	// Never finished, so still ongoing for the connector.
	_, err := h.adapter.RequestQR(context.Background(), corepass.QRRequest{CoreID: alice, Items: []string{"SH_PHONE"},
		Callback: h.rcv.URL + "/d", StatusCallback: h.rcv.URL + "/s"})
	if !errors.Is(err, corepass.ErrOngoingRequest) {
		t.Errorf("err = %v, want ErrOngoingRequest", err)
	}
}

func TestExpire(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return fixedNow.Add(time.Duration(offset.Load())) }
	h := newHarness(t, sim.Config{Now: clock})

	first, id := h.qr(t, alice, "SH_EMAIL")
	if err := h.sim.Expire(id); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.Accept(context.Background(), id); !errors.Is(err, sim.ErrTransferExpired) {
		t.Errorf("accept after let-expire: %v", err)
	}
	if len(h.callbacks()) != 0 {
		t.Error("an expired request sent callbacks")
	}
	second, id2 := h.qr(t, alice, "SH_EMAIL")
	if second.AlreadySent || second.Link == first.Link {
		t.Error("a new request after expiry reused the expired one")
	}

	// The clock passing the expiration has the same effect.
	offset.Store(int64(16 * time.Minute))
	if err := h.sim.Accept(context.Background(), id2); !errors.Is(err, sim.ErrTransferExpired) {
		t.Errorf("accept after the expiration passed: %v", err)
	}
	if err := h.sim.Expire("nope"); !errors.Is(err, sim.ErrUnknownTransfer) {
		t.Errorf("expire unknown: %v", err)
	}
}

func TestPage(t *testing.T) {
	h := newHarness(t, sim.Config{})
	// Mounted as the app does it, under a prefix.
	app := httptest.NewServer(http.StripPrefix("/sandbox/corepass", h.sim))
	t.Cleanup(app.Close)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	_, id := h.qr(t, alice, "SH_EMAIL")
	page := app.URL + "/sandbox/corepass/_sim/corepass/transfer/" + id
	body := get(t, page, http.StatusOK)
	for _, want := range []string{`data-testid="sim-label">Simulator<`, "PENDING", `action="` + id + `/accept"`, "SH_EMAIL", alice} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	resp, err := noRedirect.PostForm(page+"/accept", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(page + "/accept")
	if resp.StatusCode != http.StatusSeeOther || loc.ResolveReference(mustURL(t, resp.Header.Get("Location"))).String() != page {
		t.Fatalf("accept: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	body = get(t, page, http.StatusOK)
	if !strings.Contains(body, "FINISH_SUCCESS") || strings.Contains(body, `data-testid="accept"`) {
		t.Error("after accept the page should show FINISH_SUCCESS and no more buttons")
	}

	// Acting twice is a conflict shown on the page.
	resp, err = noRedirect.PostForm(page+"/expire", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "no longer waiting") {
		t.Errorf("expire after accept: %d %s", resp.StatusCode, b)
	}

	_, id2 := h.qr(t, alice, "SH_PHONE")
	page2 := app.URL + "/sandbox/corepass/_sim/corepass/transfer/" + id2
	resp, err = noRedirect.PostForm(page2+"/fail", url.Values{"step": {"VALIDITY_FAILED"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(get(t, page2, http.StatusOK), "FINISH_FAILED") {
		t.Errorf("fail: %d", resp.StatusCode)
	}
	get(t, app.URL+"/sandbox/corepass/_sim/corepass/transfer/unknown", http.StatusNotFound)
}

func get(t *testing.T, u string, want int) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s = %d, want %d", u, resp.StatusCode, want)
	}
	return string(b)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRawAPIErrors(t *testing.T) {
	h := newHarness(t, sim.Config{})
	exp := fixedNow.Add(10 * time.Minute).Unix()
	qr := func(user, items, expiration string) string {
		return `{"user":"` + user + `","items":` + items + `,"callback":"http://x/c","statusCallback":"http://x/s","expiration":` + expiration + `}`
	}
	tests := []struct {
		name, path, body string
		code             int
		want             string
	}{
		{"bad json", "/api/v1/kyc/qrcode", "{", 400, "invalid request body"},
		{"bad user", "/api/v1/blockchain/verified", `{"user":"ab00","items":[]}`, 400, "invalid user core id"},
		{"expiration too soon", "/api/v1/kyc/qrcode", qr(alice, `["SH_EMAIL"]`, "1"), 400,
			"expiration time is invalid, it should be unix time in seconds and between 5-15 minutes"},
		{"expiration too late", "/api/v1/kyc/qrcode", qr(alice, `["SH_EMAIL"]`, jsonInt(fixedNow.Add(16*time.Minute).Unix())), 400,
			"expiration time is invalid, it should be unix time in seconds and between 5-15 minutes"},
		{"not verified", "/api/v1/kyc/qrcode", qr(alice, `["SH_DriverLicense_DOB"]`, jsonInt(exp)), 400,
			"user does not have the requested items verified"},
		{"nothing verified", "/api/v1/kyc/qrcode", qr(nobody, `["SH_EMAIL"]`, jsonInt(exp)), 400,
			"user does not have the requested items verified"},
		{"no items", "/api/v1/kyc/qrcode", qr(alice, `[]`, jsonInt(exp)), 400, "items are required"},
		{"no status yet", "/api/v1/kyc/status", `{"user":"` + alice + `","items":["SH_EMAIL"]}`, 404, "no request found"},
		{"no statuses yet", "/api/v1/kyc/all-statuses", `{"user":"` + alice + `","items":["SH_EMAIL"]}`, 200, `{"AllStatuses":[]}`},
		{"verified omits empty list", "/api/v1/blockchain/verified", `{"user":"` + nobody + `","items":["SH_EMAIL"]}`, 200, `{"unVerifiedItems":["SH_EMAIL"]}`},
		{"GET not allowed", "/api/v1/kyc/status", "", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tc.code == 405 {
				resp, err = http.Get(h.api.URL + tc.path)
			} else {
				resp, err = http.Post(h.api.URL+tc.path, "application/json", strings.NewReader(tc.body))
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.want) {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, b, tc.code, tc.want)
			}
		})
	}
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }
