package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers/selfkey"
	selfkeysim "github.com/kycdesk/kycdesk/providers/selfkey/sim"
	"github.com/kycdesk/kycdesk/web/authz"
)

// walletReply is one answer of our /selfkey endpoints.
type walletReply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (r walletReply) str(key string) string { s, _ := r.Body[key].(string); return s }

// walletRequest calls our /selfkey endpoints as the wallet does (its
// User-Agent and Origin), with no cookie.
func (a *testApp) walletRequest(method, path, bearer, contentType string, body []byte, header ...string) walletReply {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.srv.URL+"/selfkey"+path, bytes.NewReader(body))
	req.Header.Set("User-Agent", "SelfKeyIDW/"+selfkeysim.DefaultVersion)
	req.Header.Set("Origin", selfkeysim.DefaultOrigin)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := walletReply{Status: resp.StatusCode, Header: resp.Header, Body: map[string]any{}}
	if err := json.Unmarshal(data, &r.Body); err != nil {
		a.t.Fatalf("%s %s: status %d, not JSON: %.200s", method, path, resp.StatusCode, data)
	}
	return r
}

// walletLogin runs the challenge and its signed answer only, and returns
// the wallet token: a wallet that has not created its user.
func (a *testApp) walletLogin(w *selfkeysim.Wallet) string {
	a.t.Helper()
	ch := a.walletRequest(http.MethodGet, "/auth/challenge/"+url.PathEscape(w.Subject()), "", "", nil)
	if ch.Status != http.StatusOK {
		a.t.Fatalf("challenge: %d %v", ch.Status, ch.Body)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(ch.str("jwt"), ".")[1])
	if err != nil {
		a.t.Fatal(err)
	}
	var claims struct {
		Nonce string `json:"nonce"`
	}
	json.Unmarshal(payload, &claims)
	answer, _ := json.Marshal(map[string]any{"signature": map[string]string{"value": w.SignNonce(claims.Nonce), "keyId": w.KeyID()}})
	r := a.walletRequest(http.MethodPost, "/auth/challenge", ch.str("jwt"), "application/json", answer)
	if r.Status != http.StatusOK {
		a.t.Fatalf("answer: %d %v", r.Status, r.Body)
	}
	return r.str("jwt")
}

// walk runs the simulated wallet's whole journey against the app.
func (a *testApp) walk(w *selfkeysim.Wallet) selfkeysim.Result {
	a.t.Helper()
	res, err := w.Walk(context.Background(), a.srv.URL+"/selfkey", nil)
	if err != nil {
		a.t.Fatalf("walk: %v (steps %+v)", err, res.Steps)
	}
	return res
}

func newWallet(t *testing.T, configure func(*selfkeysim.Wallet)) *selfkeysim.Wallet {
	t.Helper()
	w, err := selfkeysim.NewWallet(nil)
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(w)
	}
	return w
}

// filePart is one multipart part.
type filePart struct {
	name, contentType, filename string
	data                        []byte
}

func multipartOf(parts ...filePart) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, _ := mw.CreatePart(h)
		pw.Write(p.data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noiseJPEG is a valid JPEG of about the given size.
func noiseJPEG(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewSource(1))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			img.Set(x, y, color.RGBA{uint8(r.Intn(256)), uint8(r.Intn(256)), uint8(r.Intn(256)), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// selfKeyApplicant is the applicant a wallet created.
func (a *testApp) selfKeyApplicant(subject string) db.Applicant {
	a.t.Helper()
	w, err := a.db.SelfKeyWallet(context.Background(), subject)
	if err != nil || w.ApplicantID == 0 {
		a.t.Fatalf("wallet %s has no applicant: %+v %v", subject, w, err)
	}
	ap, err := a.db.Applicant(context.Background(), w.ApplicantID)
	if err != nil {
		a.t.Fatal(err)
	}
	return ap
}

// TestSelfKeyWalletWalk: a simulated SelfKey wallet logs in, creates its
// user, fetches the template, uploads its passport and applies, in each
// shape the wallet sends; the application is a SelfKey verification in
// review on the applicant page, with the data and a metadata-free
// document, and the browser's login lands on its status page.
func TestSelfKeyWalletWalk(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(*selfkeysim.Wallet)
	}{
		{"did, multipart users", nil},
		{"did, users file then JSON users", func(w *selfkeysim.Wallet) { w.UserFiles = true }},
		{"legacy public key", func(w *selfkeysim.Wallet) { w.Legacy = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			ctx := context.Background()
			w := newWallet(t, tc.configure)
			res := app.walk(w)
			if res.ApplicationID == "" || res.UserToken == "" {
				t.Fatalf("walk result = %+v", res)
			}
			a := app.selfKeyApplicant(w.Subject())
			if a.Name != "Ada Lovelace" || a.Email != "ada.lovelace@example.org" || a.Status != "needs_review" {
				t.Fatalf("applicant = %q %q %s", a.Name, a.Email, a.Status)
			}
			wallet, _ := app.db.SelfKeyWallet(ctx, w.Subject())
			if wallet.Client.UserAgent != "SelfKeyIDW/"+selfkeysim.DefaultVersion || wallet.Client.Origin != "IDW" {
				t.Fatalf("wallet headers not recorded: %+v", wallet.Client)
			}

			// The applicant page: SelfKey in review, the data, the timeline.
			c := app.signedIn(authz.Checker)
			resp := c.get("/applicants/" + strconv.FormatInt(a.ID, 10))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("applicant page: %d", resp.StatusCode)
			}
			doc := parse(t, resp)
			if st, _ := doc.Find(`[data-testid="link-selfkey"] [data-status]`).Attr("data-status"); st != "needs_review" {
				t.Fatalf("SelfKey card status = %q", st)
			}
			if !contains(doc.Find(`[data-testid="link-selfkey"]`).Text(), "IN_PROGRESS") {
				t.Fatal("the KYC-Chain status is not shown verbatim")
			}
			if href, ok := doc.Find(`[data-testid="link-selfkey"] a[href^="/verifications/"]`).Attr("href"); !ok {
				t.Error("the SelfKey card links no verification page")
			} else if r := c.get(href); r.StatusCode != http.StatusOK {
				t.Errorf("the SelfKey verification page: %d", r.StatusCode)
			}
			attrs := doc.Find(`[data-testid="attributes"]`).Text()
			for _, want := range []string{"Ada", "Lovelace", "1990-12-10", "2031-02-19"} {
				if !contains(attrs, want) {
					t.Errorf("attributes lack %q", want)
				}
			}
			if tl := doc.Find("#timeline").Text(); !contains(tl, "SelfKeyIDW/"+selfkeysim.DefaultVersion) || !contains(tl, "origin IDW") {
				t.Errorf("timeline does not record the wallet's headers: %s", tl)
			}

			// Documents: JPEG, EXIF gone.
			docs, err := app.db.Documents(ctx, a.ID)
			if err != nil || len(docs) == 0 {
				t.Fatalf("documents = %+v, %v", docs, err)
			}
			for _, d := range docs {
				r := c.get(fmt.Sprintf("/applicants/%d/documents/%d", a.ID, d.ID))
				body, _ := io.ReadAll(r.Body)
				if d.ContentType != "image/jpeg" || !bytes.HasPrefix(body, []byte{0xFF, 0xD8}) || bytes.Contains(body, []byte(selfkeysim.SampleEXIFMarker)) {
					t.Fatalf("document %s (%s) not a clean JPEG", d.Name, d.ContentType)
				}
			}

			// The applicants list shows the new applicant.
			if list := parse(t, c.get("/applicants")).Find(`[data-testid="applicant-row"]`).Text(); !contains(list, "Ada Lovelace") {
				t.Fatal("the applicants list does not show the SelfKey applicant")
			}

			// The browser posts the user token to /login and lands on the
			// status page; the token is good once.
			body, _ := json.Marshal(map[string]string{"token": res.UserToken})
			login := app.walletRequest(http.MethodPost, "/login", "", "application/json", body)
			if login.Status != http.StatusOK || login.str("redirectUrl") != login.str("redirectTo") || !strings.HasPrefix(login.str("redirectUrl"), app.srv.URL+"/v/") {
				t.Fatalf("login = %d %v", login.Status, login.Body)
			}
			endUser := parse(t, c.get(strings.TrimPrefix(login.str("redirectUrl"), app.srv.URL)))
			if st, _ := endUser.Find(`[data-testid="enduser-status"]`).Attr("data-status"); st != "needs_review" {
				t.Fatalf("end-user page status = %q", st)
			}
			if again := app.walletRequest(http.MethodPost, "/login", "", "application/json", body); again.Status != http.StatusUnauthorized || again.str("code") != "token_invalid" {
				t.Fatalf("second login with the same token = %d %v", again.Status, again.Body)
			}

			// A known wallet gets a user token (both paths); no cookie is set.
			for _, p := range []string{"/users/token", "/auth/token"} {
				r := app.walletRequest(http.MethodGet, p, res.WalletJWT, "", nil)
				if r.Status != http.StatusOK || r.str("token") == "" {
					t.Fatalf("%s = %d %v", p, r.Status, r.Body)
				}
				if r.Header.Get("Set-Cookie") != "" {
					t.Fatalf("%s set a cookie", p)
				}
			}
			if n := len(app.auditActions(t, "selfkey.application")); n != 1 {
				t.Fatalf("%d application audit entries", n)
			}
		})
	}
}

// TestSelfKeySeedShapes: the seed's forms of the endpoints answer too.
func TestSelfKeySeedShapes(t *testing.T) {
	app := newTestApp(t)
	if r := app.walletRequest(http.MethodGet, "/auth/challenge", "", "", nil); r.Status != http.StatusOK || r.str("jwt") == "" {
		t.Fatalf("GET /auth/challenge = %d %v", r.Status, r.Body)
	}
	list := app.walletRequest(http.MethodGet, "/templates", "", "", nil)
	ts, _ := list.Body["templates"].([]any)
	if list.Status != http.StatusOK || len(ts) != 1 {
		t.Fatalf("templates = %d %v", list.Status, list.Body)
	}
	r := app.walletRequest(http.MethodGet, "/templates/standard/schema.json", "", "", nil)
	tpl, _ := r.Body["template"].(map[string]any)
	if r.Status != http.StatusOK || tpl["id"] != "standard" || r.str("id") != "standard" {
		t.Fatalf("schema.json = %d %v", r.Status, r.Body)
	}
	// The seed's JSON /files body with a data: URL.
	tok := app.walletLogin(newWallet(t, nil))
	body, _ := json.Marshal(map[string]string{"file": "data:image/png;base64," + base64.StdEncoding.EncodeToString(testPNG(t))})
	if f := app.walletRequest(http.MethodPost, "/files", tok, "application/json", body); f.Status != http.StatusOK || f.str("fileId") == "" || f.str("fileId") != f.str("id") {
		t.Fatalf("JSON /files = %d %v", f.Status, f.Body)
	}
}

// TestSelfKeyRefusals: each way a wallet call is refused, with the status
// and code the wallet is told.
func TestSelfKeyRefusals(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	done := app.walk(newWallet(t, nil)) // a wallet with a user and a token
	fresh := newWallet(t, nil)          // a wallet without a user
	freshTok := app.walletLogin(fresh)
	hc := http.DefaultClient
	base := app.srv.URL + "/selfkey"

	upload := func(tok string, p filePart) walletReply {
		ct, body := multipartOf(p)
		return app.walletRequest(http.MethodPost, "/files", tok, ct, body)
	}
	// Uploaded without a declared type: the application's declaration is
	// then the first, and is checked when the application names the file.
	pngUp := upload(done.WalletJWT, filePart{name: "document", contentType: "application/octet-stream", filename: "passport", data: testPNG(t)})
	if pngUp.Status != http.StatusOK {
		t.Fatalf("PNG upload = %d %v", pngUp.Status, pngUp.Body)
	}
	apply := func(tok, templateID, fileID, declared string) walletReply {
		attrs := []map[string]any{
			{"id": "first_name", "schemaId": selfkey.SchemaURL("first-name"), "data": "Ada"},
			{"id": "last_name", "schemaId": selfkey.SchemaURL("last-name"), "data": "Lovelace"},
			{"id": "email", "schemaId": selfkey.SchemaURL("email"), "data": "ada@example.org"},
			{"id": "date_of_birth", "schemaId": selfkey.SchemaURL("date-of-birth"), "data": "1990-12-10"},
			{"id": "passport", "schemaId": selfkey.SchemaURL("passport"), "data": map[string]any{
				"issued": "2021-02-19", "expires": "2031-02-19", "image": map[string]any{"mimeType": declared, "size": 100, "content": fileID}}},
		}
		body, _ := json.Marshal(map[string]any{"templateId": templateID, "attributes": attrs})
		return app.walletRequest(http.MethodPost, "/applications", tok, "application/json", body)
	}
	fromAttempt := func(a selfkeysim.Attempt, err error) walletReply {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return walletReply{Status: a.Status, Body: map[string]any{"code": a.Code, "message": a.Message}}
	}
	jpegMagic := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, testSelfKeyMaxFile+1024)...)

	cases := []struct {
		name   string
		call   func() walletReply
		status int
		code   string
	}{
		{"a signature by another key", func() walletReply { return fromAttempt(fresh.ForeignSignature(ctx, base, hc)) }, 401, "signature_invalid"},
		{"a malformed signature", func() walletReply { return fromAttempt(fresh.MalformedSignature(ctx, base, hc)) }, 400, "signature_invalid"},
		{"a reused challenge", func() walletReply { return fromAttempt(fresh.ReplayChallenge(ctx, base, hc)) }, 401, "token_invalid"},
		{"a challenge token used as a wallet token", func() walletReply { return fromAttempt(fresh.ChallengeAsWalletToken(ctx, base, hc)) }, 401, "token_invalid"},
		{"a wallet token used as a challenge", func() walletReply { return fromAttempt(fresh.WalletTokenAsChallenge(ctx, base, hc)) }, 401, "token_invalid"},
		{"a tampered JWT", func() walletReply { return fromAttempt(fresh.TamperedWalletToken(ctx, base, hc)) }, 401, "token_invalid"},
		{"a missing token", func() walletReply { return fromAttempt(fresh.NoToken(ctx, base, hc)) }, 401, "token_missing"},
		{"another authorization scheme", func() walletReply {
			return app.walletRequest(http.MethodGet, "/users/token", "", "", nil, "Authorization", "Basic YTpi")
		}, 400, "token_invalid"},
		{"an invalid subject", func() walletReply { return app.walletRequest(http.MethodGet, "/auth/challenge/not-a-did", "", "", nil) }, 400, "invalid_did"},
		{"did:selfkey without a resolver", func() walletReply {
			return app.walletRequest(http.MethodGet, "/auth/challenge/did:selfkey:0x"+strings.Repeat("ab", 32), "", "", nil)
		}, 400, "invalid_did"},
		{"an oversize file", func() walletReply {
			return upload(done.WalletJWT, filePart{name: "document", contentType: "image/jpeg", filename: "big.jpg", data: jpegMagic})
		}, 400, "file_invalid"},
		{"an EXE declared as JPEG", func() walletReply {
			return upload(done.WalletJWT, filePart{name: "document", contentType: "image/jpeg", filename: "passport.jpg", data: []byte("MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode")})
		}, 400, "file_invalid"},
		{"a PNG declared as JPEG at upload", func() walletReply {
			return upload(done.WalletJWT, filePart{name: "document", contentType: "image/jpeg", filename: "passport.jpg", data: testPNG(t)})
		}, 400, "file_invalid"},
		{"a PNG declared as JPEG in the application", func() walletReply { return apply(done.WalletJWT, "standard", pngUp.str("id"), "image/jpeg") }, 400, "file_invalid"},
		{"an application from a wallet without a user", func() walletReply { return apply(freshTok, "standard", pngUp.str("id"), "image/png") }, 404, "user_does_not_exist"},
		{"an unknown template", func() walletReply { return apply(done.WalletJWT, "no-such-template", pngUp.str("id"), "image/png") }, 404, "not_found"},
		{"a required attribute missing", func() walletReply {
			body, _ := json.Marshal(map[string]any{"templateId": "standard", "attributes": []map[string]any{{"id": "first_name", "schemaId": selfkey.SchemaURL("first-name"), "data": "Ada"}}})
			return app.walletRequest(http.MethodPost, "/applications", done.WalletJWT, "application/json", body)
		}, 400, "invalid_attributes"},
		{"a user token for a wallet without a user", func() walletReply { return app.walletRequest(http.MethodGet, "/users/token", freshTok, "", nil) }, 404, "user_does_not_exist"},
		{"a login token that is a wallet token", func() walletReply {
			body, _ := json.Marshal(map[string]string{"token": done.WalletJWT})
			return app.walletRequest(http.MethodPost, "/login", "", "application/json", body)
		}, 401, "token_invalid"},
		{"a malformed users body", func() walletReply {
			return app.walletRequest(http.MethodPost, "/users", freshTok, "application/json", []byte("{not json"))
		}, 400, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.call()
			if r.Status != tc.status || r.str("code") != tc.code {
				t.Fatalf("got %d %q (%s), want %d %q", r.Status, r.str("code"), r.str("message"), tc.status, tc.code)
			}
		})
	}

	// A file the wallet did not upload: the wallet with a user names the
	// other one's upload.
	other := upload(freshTok, filePart{name: "document", contentType: "image/png", filename: "x.png", data: testPNG(t)})
	if r := apply(done.WalletJWT, "standard", other.str("id"), "image/png"); r.Status != 400 || r.str("code") != "invalid_attributes" {
		t.Fatalf("another wallet's file: %d %v", r.Status, r.Body)
	}
	// The refused application stored nothing: the PNG is still usable
	// with its true type.
	if r := apply(done.WalletJWT, "standard", pngUp.str("id"), "image/png"); r.Status != http.StatusCreated || r.str("message") != "Application Created" {
		t.Fatalf("application with the PNG declared right = %d %v", r.Status, r.Body)
	}

	// Last, as it moves the clock: a challenge answered after it expired.
	r := fromAttempt(fresh.ExpiredChallenge(ctx, base, hc, func() { app.sims.selfKey.advance(selfkey.ChallengeTTL + time.Minute) }))
	if r.Status != http.StatusUnauthorized || r.str("code") != "token_invalid" {
		t.Fatalf("expired challenge: %d %v", r.Status, r.Body)
	}
}

// TestSelfKeyOriginsAllowed: with allowed origins configured, a wallet
// call from another Origin is refused; /login (from the browser) is not
// checked.
func TestSelfKeyOriginsAllowed(t *testing.T) {
	app := newTestAppWith(t, testOptions{SelfKeyOrigins: []string{"IDW", "https://desk.example"}})
	if r := app.walletRequest(http.MethodGet, "/templates", "", "", nil, "Origin", "https://evil.example"); r.Status != http.StatusForbidden || r.str("code") != "forbidden" {
		t.Fatalf("foreign origin = %d %v", r.Status, r.Body)
	}
	if r := app.walletRequest(http.MethodGet, "/templates", "", "", nil, "Origin", "https://desk.example/"); r.Status != http.StatusOK {
		t.Fatalf("allowed origin = %d %v", r.Status, r.Body)
	}
	res := app.walk(newWallet(t, nil))
	body, _ := json.Marshal(map[string]string{"token": res.UserToken})
	if r := app.walletRequest(http.MethodPost, "/login", "", "application/json", body, "Origin", "https://elsewhere.example"); r.Status != http.StatusOK {
		t.Fatalf("login from the browser's origin = %d %v", r.Status, r.Body)
	}
}

// TestSelfKeyWritesNoTempFiles: multipart bodies are read in memory; no
// temporary file ever holds a document.
func TestSelfKeyWritesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	app := newTestApp(t)
	tok := app.walletLogin(newWallet(t, nil))
	big := noiseJPEG(t, 300)
	if len(big) > testSelfKeyMaxFile {
		t.Fatalf("test image too large: %d", len(big))
	}
	attrs, _ := json.Marshal([]map[string]any{
		{"id": "first-name", "schemaId": selfkey.SchemaURL("first-name"), "data": map[string]any{"value": "Ada"}},
		{"id": "passport", "schemaId": selfkey.SchemaURL("passport"), "data": map[string]any{"value": map[string]any{"image": "$document-1"}}},
	})
	ct, body := multipartOf(
		filePart{name: "attributes", contentType: "application/json", data: attrs},
		filePart{name: "$document-1", contentType: "image/jpeg", filename: "passport.jpg", data: big},
	)
	if r := app.walletRequest(http.MethodPost, "/users", tok, ct, body); r.Status != http.StatusCreated || r.str("message") != "User Created Successfully" {
		t.Fatalf("users = %d %v", r.Status, r.Body)
	}
	ct, body = multipartOf(filePart{name: "document", contentType: "image/jpeg", filename: "big.jpg", data: append(big, make([]byte, testSelfKeyMaxFile)...)})
	if r := app.walletRequest(http.MethodPost, "/users/file", tok, ct, body); r.Status != http.StatusBadRequest {
		t.Fatalf("oversize users/file = %d %v", r.Status, r.Body)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("temporary file written: %s", e.Name())
	}
}

// TestSelfKeyNotConfigured: without a JWT key the wallet endpoints answer
// 404 in the wallet's vocabulary.
func TestSelfKeyNotConfigured(t *testing.T) {
	app := newTestApp(t)
	app.h.deps.SelfKey = nil
	if r := app.walletRequest(http.MethodGet, "/templates", "", "", nil); r.Status != http.StatusNotFound || r.str("code") != "not_found" {
		t.Fatalf("templates without SelfKey = %d %v", r.Status, r.Body)
	}
}

// TestSelfKeySimulatorFromTheApp: in sandbox mode staff press "Simulate a
// SelfKey wallet" on the applicants list; the simulator's page runs a
// wallet against our endpoints and the application arrives in the list.
// On the page of an applicant with a SelfKey link no wallet joined, the
// button passes the link's reference and the simulated wallet joins it.
func TestSelfKeySimulatorFromTheApp(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	c := app.signedIn(authz.LinkCreator)
	href, ok := parse(t, c.get("/applicants")).Find(`[data-testid="simulate-selfkey"]`).Attr("href")
	if !ok || href != SelfKeySimPath+"/_sim/" {
		t.Fatalf("simulate button = %q", href)
	}
	if _, ok := parse(t, app.signedIn(authz.Maker).get("/applicants")).Find(`[data-testid="simulate-selfkey"]`).Attr("href"); ok {
		t.Fatal("a maker, who cannot start verifications, is offered the simulator")
	}
	if resp := c.get(href); resp.StatusCode != http.StatusOK || !contains(parse(t, resp).Text(), "Simulator") {
		t.Fatalf("simulator page: %d", resp.StatusCode)
	}
	resp := c.postRaw(SelfKeySimPath+"/_sim/walk", url.Values{"kind": {"walk"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("walk: %d", resp.StatusCode)
	}
	page := parse(t, c.get(href)).Text()
	if !contains(page, "POST /applications → 201") {
		t.Fatalf("the simulator did not apply: %s", page)
	}
	rows := parse(t, app.signedIn(authz.Admin).get("/applicants?provider=selfkey&status=needs_review")).Find(`[data-testid="applicant-row"]`)
	if rows.Length() != 1 || !contains(rows.Text(), "Ada Lovelace") {
		t.Fatalf("the applicants list does not show the simulated application: %q", rows.Text())
	}

	// An applicant invited to SelfKey: its page's button carries the
	// reference, and the simulated wallet's data lands on that applicant.
	invited, err := app.db.CreateApplicant(ctx, db.NewApplicant{Name: "Invited Person", CreatedBy: app.users[authz.LinkCreator].ID}, db.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.StartVerification(ctx, db.NewVerification{ApplicantID: invited.ID, Provider: "selfkey", Reference: "sk_invited", Status: "invited", CreatedBy: app.users[authz.LinkCreator].ID}, db.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	href, _ = parse(t, c.get(fmt.Sprintf("/applicants/%d", invited.ID))).Find(`[data-testid="simulate-selfkey"]`).Attr("href")
	if href != SelfKeySimPath+"/_sim/?ref=sk_invited" {
		t.Fatalf("applicant page simulate button = %q", href)
	}
	c.postRaw(SelfKeySimPath+"/_sim/walk", url.Values{"kind": {"walk"}, "reference": {"sk_invited"}})
	vs, _ := app.db.Verifications(ctx, invited.ID)
	if len(vs) != 2 || vs[0].Status != "needs_review" {
		t.Fatalf("the invited applicant's verifications = %+v", vs)
	}
	if _, ok := parse(t, c.get(fmt.Sprintf("/applicants/%d", invited.ID))).Find(`[data-testid="simulate-selfkey"]`).Attr("href"); ok {
		t.Fatal("the button is still offered once a wallet joined the link")
	}
}
