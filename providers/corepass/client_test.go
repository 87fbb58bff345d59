package corepass_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
	"github.com/kycdesk/kycdesk/providers/corepass/sim"
)

const (
	alice  = "ab148af5f9cdad10beddb05fbec4a3bef02577130e56" // default profile: ID card + passport
	nobody = "ab22b1671b4f7ccc0b16a87514adde84513b6348232e" // nothing verified
	driver = "ab72a31c718d343b45e558099ec503087f734433785d" // driver licence DOB and name only
	badID  = "ab22b1671b4f7ccc0b16a87514adde84513b6348232f"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is the simulator behind httptest, an adapter pinned to its key, and
// a callback sink that never answers 200 (so accepted transfers stay
// ongoing).
type env struct {
	c              *corepass.Client
	s              *sim.Server
	base           string
	data, statusCB string
}

// connector starts an env; adapterNow lets a test skew the adapter's clock.
func connector(t *testing.T, adapterNow time.Time) env {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(sink.Close)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	s := sim.New(sim.Config{
		PublicURL: srv.URL,
		Now:       func() time.Time { return now },
		Users: map[string]sim.Profile{
			nobody: {},
			driver: {"SH_DriverLicense_DOB": "1986-09-06", "SH_DriverLicense_FULLNAME": "Ana Lima"},
		},
	})
	t.Cleanup(s.Close)
	h = s
	c := corepass.New(corepass.Config{URL: srv.URL, PubKey: s.PublicKey()}, srv.Client(), func() time.Time { return adapterNow })
	return env{c, s, srv.URL, sink.URL + "/callbacks/corepass/data", sink.URL + "/callbacks/corepass/status"}
}

func TestVerified(t *testing.T) {
	e := connector(t, now)
	c := e.c
	ctx := context.Background()
	v, err := c.Verified(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Verified) != 24 || len(v.Unverified) != 22 || !slices.Contains(v.Unverified, "SH_DriverLicense_DOB") {
		t.Errorf("alice: %d verified, %d not", len(v.Verified), len(v.Unverified))
	}
	v, err = c.Verified(ctx, "0x"+strings.ToUpper(nobody), "SH_EMAIL", "SH_PHONE")
	if err != nil || len(v.Verified) != 0 || !slices.Equal(v.Unverified, []string{"SH_EMAIL", "SH_PHONE"}) {
		t.Errorf("nobody: %+v, %v", v, err)
	}
	if _, err := c.Verified(ctx, badID); !errors.Is(err, corepass.ErrInvalidCoreID) {
		t.Errorf("bad id: %v", err)
	}
}

func TestRequestQR(t *testing.T) {
	ctx := context.Background()
	e := connector(t, now)
	c, base := e.c, e.base
	req := corepass.QRRequest{CoreID: alice, Items: []string{"SH_IDCard_DOB"}, Callback: e.data, StatusCallback: e.statusCB, TTL: time.Minute}
	qr, err := c.RequestQR(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if http.DetectContentType(qr.PNG) != "image/png" || !strings.HasPrefix(qr.Link, base+"/_sim/corepass/transfer/") || qr.AlreadySent {
		t.Errorf("qr = link %q, %d bytes PNG, alreadySent %v", qr.Link, len(qr.PNG), qr.AlreadySent)
	}
	if want := now.Add(5*time.Minute + 30*time.Second); !qr.ExpiresAt.Equal(want) {
		t.Errorf("a 1 min TTL gave expiry %v, want clamped to %v", qr.ExpiresAt, want)
	}

	again, err := c.RequestQR(ctx, corepass.QRRequest{CoreID: alice, Items: []string{"SH_IDCard_DOB"}, Callback: e.data, StatusCallback: e.statusCB, TTL: time.Hour})
	if err != nil || !again.AlreadySent || again.Link != qr.Link || !again.ExpiresAt.Equal(qr.ExpiresAt) {
		t.Errorf("second request: %+v, %v", again, err)
	}

	linkOnly, err := c.RequestQR(ctx, corepass.QRRequest{CoreID: alice, Items: []string{"SH_EMAIL"}, Callback: e.data, StatusCallback: e.statusCB, TTL: time.Hour, WithoutQRCode: true})
	if err != nil || http.DetectContentType(linkOnly.PNG) != "image/png" || linkOnly.Link == "" {
		t.Errorf("withoutQRCode: %v", err)
	}
	if want := now.Add(14*time.Minute + 30*time.Second); !linkOnly.ExpiresAt.Equal(want) {
		t.Errorf("a 1 h TTL gave expiry %v, want %v", linkOnly.ExpiresAt, want)
	}
}

func TestRequestQRErrors(t *testing.T) {
	ctx := context.Background()
	e := connector(t, now)
	c, s := e.c, e.s
	skewed := connector(t, now.Add(-10*time.Minute)).c // adapter clock 10 min behind the connector

	// Make alice's SH_PHONE transfer ongoing: accepted, data callback never
	// answered 200 (the app URL does not resolve).
	qr, err := c.RequestQR(ctx, corepass.QRRequest{CoreID: alice, Items: []string{"SH_PHONE"}, Callback: e.data, StatusCallback: e.statusCB})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Accept(ctx, qr.Link[strings.LastIndex(qr.Link, "/")+1:]); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		client *corepass.Client
		req    corepass.QRRequest
		want   error
		words  string
	}{
		{"invalid expiration", skewed, corepass.QRRequest{CoreID: alice, Items: []string{"SH_EMAIL"}}, corepass.ErrInvalidExpiration, "5-15 minutes"},
		{"not verified", c, corepass.QRRequest{CoreID: alice, Items: []string{"SH_DriverLicense_DOB"}}, corepass.ErrItemsNotVerified, "has not verified"},
		{"ongoing", c, corepass.QRRequest{CoreID: alice, Items: []string{"SH_PHONE"}}, corepass.ErrOngoingRequest, "already under way"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Callback, tc.req.StatusCallback = e.data, e.statusCB
			_, err := tc.client.RequestQR(ctx, tc.req)
			var qe *corepass.QRError
			if !errors.Is(err, tc.want) || !errors.As(err, &qe) || qe.Body == "" {
				t.Fatalf("err = %v, want QRError %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "corepass: request qr: ") || !strings.Contains(err.Error(), tc.words) {
				t.Errorf("message = %q", err)
			}
		})
	}

	if _, err := c.RequestQR(ctx, corepass.QRRequest{CoreID: alice, Items: []string{"SH_EMAIL"}}); err == nil || !strings.Contains(err.Error(), "callback") {
		t.Errorf("missing callbacks: %v", err)
	}
	if _, err := c.RequestQR(ctx, corepass.QRRequest{CoreID: alice, Callback: e.data, StatusCallback: e.statusCB}); err == nil {
		t.Error("no items accepted")
	}
}

func TestStatusAndAllStatuses(t *testing.T) {
	ctx := context.Background()
	e := connector(t, now)
	c, s := e.c, e.s
	items := []string{"SH_Passport_DOB", "SH_EMAIL"}
	if _, err := c.Status(ctx, alice, items); !errors.Is(err, corepass.ErrNoTransfer) {
		t.Errorf("before any request: %v", err)
	}
	if all, err := c.AllStatuses(ctx, alice, items); err != nil || len(all) != 0 {
		t.Errorf("before any request: %v, %v", all, err)
	}
	qr, err := c.RequestQR(ctx, corepass.QRRequest{CoreID: alice, Items: items, Callback: e.data, StatusCallback: e.statusCB})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx, alice, []string{"SH_EMAIL", "SH_Passport_DOB"}) // order does not matter
	if err != nil || st.Status != "PENDING" || !st.CreatedAt.Equal(now) || st.TxHash != "" {
		t.Errorf("status = %+v, %v", st, err)
	}
	if err := s.Fail(ctx, qr.Link[strings.LastIndex(qr.Link, "/")+1:], "VALIDITY_FAILED"); err != nil {
		t.Fatal(err)
	}
	st, err = c.Status(ctx, alice, items)
	if err != nil || st.Status != "FINISH_FAILED" || st.TxHash == "" {
		t.Errorf("after failure: %+v, %v", st, err)
	}
	all, err := c.AllStatuses(ctx, alice, items)
	var names []string
	for _, e := range all {
		names = append(names, e.Status)
	}
	want := []string{"FINISH_FAILED", "VALIDITY_FAILED", "VALIDITY_CHECK", "KYC_RECEIVED", "INITIATED", "INITIATE_SUBMITTED", "ACCEPTED", "PENDING"}
	if err != nil || !slices.Equal(names, want) {
		t.Errorf("all statuses = %v, %v", names, err)
	}
}

func TestStartAndRefresh(t *testing.T) {
	ctx := context.Background()
	e := connector(t, now)
	c, s := e.c, e.s
	start := func(params map[string]string) (providers.Started, error) {
		return c.Start(ctx, providers.StartRequest{Reference: "cp-1", Params: params, CallbackURL: e.data, StatusCallbackURL: e.statusCB, TTL: 10 * time.Minute})
	}

	st, err := start(map[string]string{"core_id": alice, "meanings": "full_name, date_of_birth, email"})
	if err != nil {
		t.Fatal(err)
	}
	wantRef := alice + ":SH_EMAIL,SH_IDCard_DOB,SH_IDCard_FULLNAME"
	if st.ProviderRef != wantRef || st.Status != providers.StatusInvited || st.ProviderStatus != "PENDING" ||
		st.Link == "" || len(st.QRPNG) == 0 || !st.ExpiresAt.Equal(now.Add(10*time.Minute)) || len(st.Notes) != 0 {
		t.Errorf("started = %+v", st)
	}
	again, err := start(map[string]string{"core_id": alice, "meanings": "full_name,date_of_birth,email"})
	if err != nil || again.Link != st.Link || len(again.Notes) != 1 || !strings.Contains(again.Notes[0], "already issued") {
		t.Errorf("restart: %+v, %v", again, err)
	}

	// The driver has a licence only: the plan picks it.
	dl, err := start(map[string]string{"core_id": driver, "meanings": "date_of_birth,full_name"})
	if err != nil || dl.ProviderRef != driver+":SH_DriverLicense_DOB,SH_DriverLicense_FULLNAME" {
		t.Errorf("driver: %+v, %v", dl, err)
	}
	_, err = start(map[string]string{"core_id": driver, "meanings": "date_of_birth,document_number,email"})
	var nv *corepass.NotVerifiedError
	if !errors.As(err, &nv) || !errors.Is(err, corepass.ErrItemsNotVerified) || !slices.Equal(nv.Missing, []string{"document_number", "email"}) {
		t.Errorf("missing meanings: %v", err)
	}
	partial, err := start(map[string]string{"core_id": driver, "meanings": "date_of_birth,email", "allow_partial": "true", "without_qr_code": "true"})
	if err != nil || len(partial.Notes) != 1 || !strings.Contains(partial.Notes[0], "email") || len(partial.QRPNG) == 0 {
		t.Errorf("partial: %+v, %v", partial, err)
	}
	if _, err := start(map[string]string{"core_id": nobody}); !errors.Is(err, corepass.ErrItemsNotVerified) {
		t.Errorf("nothing verified: %v", err)
	}
	if _, err := start(map[string]string{"core_id": badID}); !errors.Is(err, corepass.ErrInvalidCoreID) || !strings.Contains(err.Error(), "core_id") {
		t.Errorf("bad core id: %v", err)
	}
	if _, err := start(map[string]string{"core_id": alice, "meanings": "shoe_size"}); err == nil || !strings.Contains(err.Error(), "unknown meanings shoe_size") {
		t.Errorf("unknown meaning: %v", err)
	}

	// Refresh follows the connector.
	u, err := c.Refresh(ctx, "cp-1", st.ProviderRef)
	if err != nil || u.ProviderStatus != "PENDING" || u.Status != providers.StatusInvited || u.Reference != "cp-1" || u.ProviderRef != st.ProviderRef {
		t.Errorf("refresh: %+v, %v", u, err)
	}
	if err := s.Fail(ctx, st.Link[strings.LastIndex(st.Link, "/")+1:], "INITIATED_FAILED"); err != nil {
		t.Fatal(err)
	}
	u, err = c.Refresh(ctx, "cp-1", st.ProviderRef)
	if err != nil || u.Status != providers.StatusFailed || !strings.Contains(u.Reason, "FINISH_FAILED") || len(u.Certificates) != 1 {
		t.Errorf("refresh after failure: %+v, %v", u, err)
	}
	if _, err := c.Refresh(ctx, "", "garbage"); err == nil {
		t.Error("garbage ref accepted")
	}
}

func TestUndocumentedReplies(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case corepass.PathQRCode:
			// A data: URL QR that is not a PNG: the adapter renders its own.
			w.Write([]byte(`{"qrcode":"data:image/png;base64,aGVsbG8=","link":"corepass:ab148af5?x=1","expiration":1}`))
		case corepass.PathStatus:
			http.Error(w, "teapot", http.StatusTeapot)
		default:
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte("something else"))
		}
	}))
	defer srv.Close()
	c := corepass.New(corepass.Config{URL: srv.URL, Network: corepass.PrefixDevin}, srv.Client(), nil)
	qr, err := c.RequestQR(ctx, corepass.QRRequest{CoreID: alice, Items: []string{"SH_EMAIL"}, Callback: "c", StatusCallback: "s"})
	if err != nil || http.DetectContentType(qr.PNG) != "image/png" {
		t.Errorf("fallback QR: %v", err)
	}
	_, err = c.Status(ctx, alice, []string{"SH_EMAIL"})
	var apiErr *providers.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != http.StatusTeapot || apiErr.Call != "kyc/status" {
		t.Errorf("status error: %v", err)
	}
	_, err = c.Verified(ctx, alice)
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != http.StatusBadRequest {
		t.Errorf("verified error: %v", err)
	}
	mainnet := corepass.CoreIDFromPubKey([]byte("k"), corepass.PrefixMainnet)
	if _, err := c.Verified(ctx, mainnet); !errors.Is(err, corepass.ErrInvalidCoreID) {
		t.Errorf("mainnet ID on a testnet connector: %v", err)
	}
}
