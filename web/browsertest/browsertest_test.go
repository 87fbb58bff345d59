package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// fakeRun stands in for cmd/kycdesk's run: it serves a tiny app and prints
// the same lines serve prints.
func fakeRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "serve" {
		return fmt.Errorf("unexpected args %q", args)
	}
	if getenv("KYCDESK_ADDR") != "127.0.0.1:0" || getenv("KYCDESK_SANDBOX") != "1" || getenv("KYCDESK_DB") == "" {
		return fmt.Errorf("unexpected environment")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, getenv("KYCDESK_ADMIN_EMAIL"))
	}))
	defer srv.Close()
	fmt.Fprintln(stderr, "level=INFO msg=starting")
	fmt.Fprintln(stdout, "KYC Desk listening on "+srv.URL)
	<-ctx.Done()
	return nil
}

func TestStartApp(t *testing.T) {
	app := StartApp(t, fakeRun, map[string]string{"KYCDESK_ADMIN_EMAIL": "boss@example.com", "KYCDESK_BASE_URL": ""})
	if !strings.HasPrefix(app.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %q, want the listening URL", app.URL)
	}
	if app.AdminEmail != "boss@example.com" || len(app.AdminPassword) < 20 {
		t.Errorf("admin = %q / %q, want the override and a generated password", app.AdminEmail, app.AdminPassword)
	}
	if _, ok := app.Env["KYCDESK_BASE_URL"]; ok {
		t.Error("an empty override must remove the variable")
	}
	resp, err := http.Get(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "boss@example.com" {
		t.Errorf("app answered %q", body)
	}
	if err := app.Stop(); err != nil {
		t.Errorf("Stop = %v, want run's nil", err)
	}
	if !strings.Contains(app.Stderr(), "starting") {
		t.Errorf("stderr not captured: %q", app.Stderr())
	}
}

func TestSyncBufferWakesWaiters(t *testing.T) {
	b := NewSyncBuffer()
	changed := b.Changed()
	go fmt.Fprint(b, "hello")
	<-changed
	if got := b.String(); got != "hello" {
		t.Errorf("String = %q", got)
	}
}

const testPage = `<!DOCTYPE html><html><body>
<form method="post" action="/login"><input id="email" name="email"><input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></body></html>`

const signedInPage = `<!DOCTYPE html><html><body><span data-testid="whoami">%s</span>
<select id="status"><option value="">All</option><option value="approved">Approved</option></select>
<p id="out"></p>
<script>document.getElementById("status").addEventListener("change", e => { document.getElementById("out").textContent = e.target.value; });</script>
</body></html>`

func TestBrowserSignInSelectAndScreenshot(t *testing.T) {
	var who string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/login" && r.Method == http.MethodPost:
			if r.FormValue("password") != "pw" {
				http.Error(w, "wrong password", http.StatusUnauthorized)
				return
			}
			who = r.FormValue("email")
			http.Redirect(w, r, "/home", http.StatusSeeOther)
		case r.URL.Path == "/login":
			fmt.Fprint(w, testPage)
		case r.URL.Path == "/home":
			fmt.Fprintf(w, signedInPage, who)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("KYCDESK_SCREENSHOT_DIR", t.TempDir())

	b := New(t)
	b.SignIn(srv.URL, "ada@example.com", "pw")
	if loc := b.Location(); loc != srv.URL+"/home" {
		t.Errorf("after sign-in at %s, want /home", loc)
	}
	if got := Eval[string](b, `document.querySelector('[data-testid="whoami"]').textContent`); got != "ada@example.com" {
		t.Errorf("whoami = %q", got)
	}
	b.SelectOption("#status", "approved")
	b.WaitFor("the change handler", `document.getElementById("out").textContent === "approved"`)

	path := b.Screenshot("home")
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("%s is not a PNG", path)
	}
}
