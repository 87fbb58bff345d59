package main

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kycdesk/kycdesk/web/browsertest"
)

// staffClient is a plain HTTP client with a cookie jar that does not follow
// redirects, so the tests see them.
type staffClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newStaffClient(t *testing.T, base string) *staffClient {
	jar, _ := cookiejar.New(nil)
	return &staffClient{t: t, base: base, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// get fetches path and returns the status and the parsed page.
func (c *staffClient) get(path string) (int, *goquery.Document) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		c.t.Fatalf("GET %s: parse: %v", path, err)
	}
	return resp.StatusCode, doc
}

// signIn posts the login form with the page's CSRF token and returns the
// response status and redirect target.
func (c *staffClient) signIn(email, password string) (int, string) {
	c.t.Helper()
	status, doc := c.get("/login")
	if status != http.StatusOK {
		c.t.Fatalf("GET /login: %d", status)
	}
	csrf, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	resp, err := c.http.PostForm(c.base+"/login", url.Values{"_csrf": {csrf}, "email": {email}, "password": {password}})
	if err != nil {
		c.t.Fatalf("POST /login: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// rowLink selects a row's link to the applicant page.
const rowLink = `a[href^="/applicants/"]`

// rows are the applicant rows of a list page.
func rows(doc *goquery.Document) *goquery.Selection {
	return doc.Find(`[data-testid="applicant-row"]`)
}

func TestServeEndToEnd(t *testing.T) {
	app := browsertest.StartApp(t, run, nil)
	c := newStaffClient(t, app.URL)

	if !strings.Contains(app.Stdout(), "Sandbox mode") {
		t.Errorf("serve did not say it runs in sandbox mode:\n%s", app.Stdout())
	}
	resp, err := http.Get(app.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d, want 200", resp.StatusCode)
	}

	// Staff pages need a signed-in user.
	if status, _ := c.get("/applicants"); status != http.StatusSeeOther {
		t.Errorf("/applicants signed out = %d, want a 303 to the sign-in page", status)
	}
	if status, _ := c.signIn(app.AdminEmail, "wrong password"); status != http.StatusUnauthorized {
		t.Errorf("sign-in with a wrong password = %d, want 401", status)
	}
	status, next := c.signIn(app.AdminEmail, app.AdminPassword)
	if status != http.StatusSeeOther || next != "/applicants" {
		t.Fatalf("sign-in = %d to %q, want 303 to /applicants", status, next)
	}

	// The list: the demo data set, 50 a page, with a next page.
	status, doc := c.get("/applicants")
	if status != http.StatusOK {
		t.Fatalf("/applicants = %d", status)
	}
	if n := rows(doc).Length(); n != 50 {
		t.Errorf("first page has %d rows, want 50", n)
	}
	if doc.Find(`[data-testid="sandbox-banner"]`).Length() == 0 {
		t.Error("no sandbox banner on a staff page in sandbox mode")
	}
	nextHref, ok := doc.Find(`[data-testid="next-page"]`).Attr("href")
	if !ok || !strings.Contains(nextHref, "after=") {
		t.Fatalf("next-page link = %q, want a keyset cursor", nextHref)
	}
	firstPageFirst := rows(doc).First().Find(rowLink).AttrOr("href", "")
	status, doc = c.get(nextHref)
	if status != http.StatusOK || rows(doc).Length() == 0 {
		t.Fatalf("second page: %d with %d rows", status, rows(doc).Length())
	}
	if got := rows(doc).First().Find(rowLink).AttrOr("href", ""); got == firstPageFirst {
		t.Errorf("second page starts with the first page's first applicant %s", got)
	}

	// Filter by provider and status: every row matches both.
	status, doc = c.get("/applicants?status=approved&provider=corepass")
	if status != http.StatusOK {
		t.Fatalf("filtered list = %d", status)
	}
	if rows(doc).Length() == 0 {
		t.Fatal("no approved CorePass applicant in the demo data set")
	}
	rows(doc).Each(func(i int, r *goquery.Selection) {
		if s := r.Find("[data-status]").AttrOr("data-status", ""); s != "approved" {
			t.Errorf("filtered row %d has status %q", i, s)
		}
		if !strings.Contains(r.Text(), "CorePass") {
			t.Errorf("filtered row %d is not linked with CorePass: %q", i, strings.Join(strings.Fields(r.Text()), " "))
		}
	})
	if v := doc.Find(`#status option[selected]`).AttrOr("value", ""); v != "approved" {
		t.Errorf("status filter shows %q selected, want approved", v)
	}

	// Search by a family name from the list: every row carries it.
	_, doc = c.get("/applicants")
	name := strings.TrimSpace(rows(doc).First().Find(rowLink).First().Text())
	family := name[strings.LastIndex(name, " ")+1:]
	status, doc = c.get("/applicants?q=" + url.QueryEscape(family))
	if status != http.StatusOK || rows(doc).Length() == 0 {
		t.Fatalf("search %q: %d with %d rows", family, status, rows(doc).Length())
	}
	rows(doc).Each(func(i int, r *goquery.Selection) {
		if !strings.Contains(strings.ToLower(r.Text()), strings.ToLower(family)) {
			t.Errorf("search %q row %d does not mention it: %q", family, i, strings.Join(strings.Fields(r.Text()), " "))
		}
	})

	// Open an applicant: the page shows the name, never cached.
	href := rows(doc).First().Find(rowLink).AttrOr("href", "")
	want := strings.TrimSpace(rows(doc).First().Find(rowLink).First().Text())
	resp, err = c.http.Get(app.URL + href)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d", href, resp.StatusCode)
	}
	if got := strings.TrimSpace(page.Find(`[data-testid="applicant-name"]`).Text()); got != want {
		t.Errorf("applicant page name = %q, want %q", got, want)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("applicant page Cache-Control = %q, want no-store", cc)
	}

	// Graceful shutdown: cancelling the context makes run return nil, and
	// the server stops answering.
	if err := app.Stop(); err != nil {
		t.Fatalf("run returned %v after cancel, want nil\n%s", err, app.Output())
	}
	if resp, err := http.Get(app.URL + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("the server still answers after shutdown")
	}
	if strings.Contains(app.Stdout()+app.Stderr(), app.AdminPassword) {
		t.Error("the admin password from KYCDESK_ADMIN_PASSWORD was printed or logged")
	}
}

func TestServeRefusesWithoutKeysOutsideSandbox(t *testing.T) {
	env := browsertest.Env(t.TempDir(), map[string]string{"KYCDESK_SANDBOX": "0"})
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"serve"}, browsertest.Getenv(env), &stdout, &stderr)
	if err == nil {
		t.Fatal("serve started outside sandbox mode without keys")
	}
	for _, name := range []string{"KYCDESK_SESSION_KEYS", "KYCDESK_DATA_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the refusal does not name %s: %v", name, err)
		}
	}

	// One key alone is not enough either.
	env["KYCDESK_SESSION_KEYS"] = strings.Repeat("ab", 32)
	err = run(context.Background(), []string{"serve"}, browsertest.Getenv(env), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "KYCDESK_DATA_KEY") {
		t.Errorf("serve with only a session key = %v, want a refusal naming KYCDESK_DATA_KEY", err)
	}

	// A malformed key is named too, never echoed.
	env["KYCDESK_DATA_KEY"] = "not-a-key-SECRET"
	err = run(context.Background(), []string{"serve"}, browsertest.Getenv(env), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "KYCDESK_DATA_KEY") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("serve with a malformed data key = %v, want a refusal naming KYCDESK_DATA_KEY without its value", err)
	}
}

func TestServeOutsideSandboxWithKeys(t *testing.T) {
	app := browsertest.StartApp(t, run, map[string]string{
		"KYCDESK_SANDBOX":      "0",
		"KYCDESK_SESSION_KEYS": strings.Repeat("1f", 32),
		"KYCDESK_DATA_KEY":     strings.Repeat("2e", 32),
	})
	if strings.Contains(app.Stdout(), "Sandbox mode") || strings.Contains(app.Stderr(), "sandbox") {
		t.Errorf("started in sandbox mode although KYCDESK_SANDBOX=0:\n%s", app.Output())
	}
	c := newStaffClient(t, app.URL)
	if status, _ := c.signIn(app.AdminEmail, app.AdminPassword); status != http.StatusSeeOther {
		t.Fatalf("sign-in = %d, want 303", status)
	}
	status, doc := c.get("/applicants")
	if status != http.StatusOK {
		t.Fatalf("/applicants = %d", status)
	}
	if doc.Find(`[data-testid="sandbox-banner"]`).Length() != 0 {
		t.Error("sandbox banner shown outside sandbox mode")
	}
	if rows(doc).Length() != 0 || doc.Find(`[data-testid="empty"]`).Length() == 0 {
		t.Errorf("outside sandbox mode the list must start empty (no demo data), got %d rows", rows(doc).Length())
	}
	if err := app.Stop(); err != nil {
		t.Fatalf("run returned %v after cancel, want nil", err)
	}
}

// command runs one non-serve command through run with env.
func command(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, browsertest.Getenv(env), &stdout, &stderr)
	return stdout.String(), err
}

func TestCommands(t *testing.T) {
	env := browsertest.Env(t.TempDir(), map[string]string{"KYCDESK_ADMIN_PASSWORD": ""})

	out, err := command(t, env, "migrate")
	if err != nil || !regexp.MustCompile(`schema version [1-9]`).MatchString(out) {
		t.Fatalf("migrate = %v, %q", err, out)
	}
	// Twice: migrations already applied change nothing.
	again, err := command(t, env, "migrate")
	if err != nil || again != out {
		t.Errorf("second migrate = %v, %q; want %q", err, again, out)
	}

	out, err = command(t, env, "seed", "--applicants", "120", "--seed", "7")
	if err != nil || !strings.Contains(out, "seeded 120 applicants") {
		t.Fatalf("seed = %v, %q", err, out)
	}
	if _, err := command(t, env, "seed", "--applicants", "0"); err == nil {
		t.Error("seed --applicants 0 succeeded")
	}

	out, err = command(t, env, "user", "add", "--email", "maker@example.com", "--role", "maker")
	if err != nil || !strings.Contains(out, "added maker@example.com as maker") {
		t.Fatalf("user add = %v, %q", err, out)
	}
	m := regexp.MustCompile(`temporary password \(shown once\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("user add printed no password: %q", out)
	}
	makerPassword := m[1]
	if _, err := command(t, env, "user", "add", "--email", "maker@example.com", "--role", "maker"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("adding the same user twice = %v, want already exists", err)
	}
	if _, err := command(t, env, "user", "add", "--email", "x@example.com", "--role", "overlord"); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Errorf("user add with an unknown role = %v", err)
	}

	out, err = command(t, env, "audit", "verify")
	if err != nil || !regexp.MustCompile(`audit log intact: [1-9]\d* entries`).MatchString(out) {
		t.Errorf("audit verify = %v, %q", err, out)
	}

	if _, err := command(t, env, "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command = %v", err)
	}
	if _, err := command(t, env); err == nil {
		t.Error("no command succeeded")
	}

	// The data set and user made by the commands are what serve shows: the
	// maker signs in with the printed password and sees the seeded rows
	// (the sandbox adds no demo data to a database that has applicants).
	app := browsertest.StartApp(t, run, map[string]string{"KYCDESK_DB": env["KYCDESK_DB"]})
	c := newStaffClient(t, app.URL)
	if status, _ := c.signIn("maker@example.com", makerPassword); status != http.StatusSeeOther {
		t.Fatalf("maker sign-in with the printed password = %d, want 303", status)
	}
	if _, doc := c.get("/applicants"); rows(doc).Length() != 50 {
		t.Errorf("maker sees %d rows, want a full page of the seeded applicants", rows(doc).Length())
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	out, err = command(t, env, "audit", "verify")
	if err != nil || !strings.Contains(out, "intact") {
		t.Errorf("audit verify after serving = %v, %q", err, out)
	}
}

// TestSeedFinish: a store left by a stopped bulk seed is refused with
// what to do, `seed --finish` finishes it, and the store opens again.
func TestSeedFinish(t *testing.T) {
	env := browsertest.Env(t.TempDir(), map[string]string{"KYCDESK_ADMIN_PASSWORD": ""})
	if _, err := command(t, env, "migrate"); err != nil {
		t.Fatal(err)
	}
	// What a bulk seed records before it drops anything (db/seed.go),
	// here with nothing dropped and no rows written.
	raw, err := sql.Open("sqlite", env["KYCDESK_DB"])
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.Exec(`INSERT INTO settings(key, value) VALUES ('seed.bulk_pending', '{"base":{"Applicant":0,"Verification":0},"indexes":[],"triggers":[],"derived":[]}')`)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := command(t, env, "migrate"); err == nil || !strings.Contains(err.Error(), "kycdesk seed --finish") {
		t.Fatalf("migrate on a store with a stopped bulk seed = %v, want a refusal naming seed --finish", err)
	}
	if out, err := command(t, env, "seed", "--finish"); err != nil || !strings.Contains(out, "finished the stopped bulk seed") {
		t.Fatalf("seed --finish = %v, %q", err, out)
	}
	if _, err := command(t, env, "migrate"); err != nil {
		t.Errorf("migrate after seed --finish = %v", err)
	}
	if out, err := command(t, env, "seed", "--finish"); err != nil || !strings.Contains(out, "no bulk seed was pending") {
		t.Errorf("seed --finish with nothing pending = %v, %q", err, out)
	}
}
