package verifyyou

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/verifyyou/sim"
)

// store is what the caller persists between runs: only the cursor.
type store struct{ cursor int64 }

// pollOnce is one run of a poller that starts from the stored cursor with
// a fresh client (as after a restart) and stores the new cursor only after
// the page is handled.
func pollOnce(t *testing.T, e *env, st *store, handled *[]string) []string {
	t.Helper()
	c := newClient(e.srv.URL, testAPIKey, e.clock)
	up, err := c.CheckForUpdates(context.Background(), st.cursor)
	if err != nil {
		t.Fatal(err)
	}
	*handled = append(*handled, up.Connections...)
	st.cursor = up.Cursor
	return up.Connections
}

func TestCheckForUpdatesAcrossRestarts(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ctx := context.Background()
	ids := map[string]string{}
	for _, ref := range []string{"ref-a", "ref-b", "ref-c"} {
		reg, err := e.client.Register(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		ids[ref] = reg.UniqueID
	}
	act := func(f func(context.Context, string) (sim.Delivery, error), ref string) {
		t.Helper()
		if _, err := f(ctx, ids[ref]); err != nil {
			t.Fatal(err)
		}
	}

	st := &store{}
	var handled []string
	t0 := e.clock.Now().Unix()

	// A changes in the second of the first poll: left for the next one.
	act(e.sim.Accept, "ref-a")
	if got := pollOnce(t, e, st, &handled); len(got) != 0 || st.cursor != t0 {
		t.Fatalf("poll 1 = %v, cursor %d; want nothing and cursor %d", got, st.cursor, t0)
	}

	e.clock.Advance(time.Second)
	act(e.sim.Accept, "ref-b") // in the second of poll 2
	if got := pollOnce(t, e, st, &handled); !slices.Equal(got, []string{"ref-a"}) || st.cursor != t0+1 {
		t.Fatalf("poll 2 = %v, cursor %d", got, st.cursor)
	}
	// A changes again in the same second, after the poll: not lost.
	act(e.sim.Delete, "ref-a")

	e.clock.Advance(2 * time.Second)
	act(e.sim.Accept, "ref-c")
	if got := pollOnce(t, e, st, &handled); !slices.Equal(got, []string{"ref-b", "ref-a"}) {
		t.Fatalf("poll 3 = %v", got)
	}
	// A second poll in the same second repeats nothing.
	if got := pollOnce(t, e, st, &handled); len(got) != 0 {
		t.Fatalf("poll 4 = %v, want nothing", got)
	}
	e.clock.Advance(time.Second)
	if got := pollOnce(t, e, st, &handled); !slices.Equal(got, []string{"ref-c"}) {
		t.Fatalf("poll 5 = %v", got)
	}
	e.clock.Advance(time.Hour)
	if got := pollOnce(t, e, st, &handled); len(got) != 0 {
		t.Fatalf("poll 6 = %v, want nothing", got)
	}

	// Four changes (A accepted, B accepted, A deleted, C accepted), each
	// handed over exactly once.
	if want := []string{"ref-a", "ref-b", "ref-a", "ref-c"}; !slices.Equal(handled, want) {
		t.Errorf("handled %v, want %v", handled, want)
	}
}

func TestCheckForUpdatesCrashBeforeStoringCursor(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ctx := context.Background()
	reg, err := e.client.Register(ctx, "ref-a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Accept(ctx, reg.UniqueID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	first, err := e.client.CheckForUpdates(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The process dies before storing first.Cursor: the same page comes
	// back, so nothing is lost.
	again, err := newClient(e.srv.URL, testAPIKey, e.clock).CheckForUpdates(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.Connections, []string{"ref-a"}) || !slices.Equal(again.Connections, first.Connections) || again.Cursor != first.Cursor {
		t.Errorf("first %+v, again %+v", first, again)
	}
}

func TestCheckForUpdatesErrors(t *testing.T) {
	if _, err := newClient("http://127.0.0.1:1", testAPIKey, newClock()).CheckForUpdates(context.Background(), -1); err == nil {
		t.Error("negative cursor: want an error")
	}
	for _, body := range []string{
		`{"status":"success","connections_to_update":[]}`,
		`{"status":"success","connections_to_update":[],"timestamp_s":0}`,
		`{"status":"success","connections_to_update":[],"timestamp_s":1.5}`,
	} {
		c := (&stub{status: 200, body: body}).start(t)
		if _, err := c.CheckForUpdates(context.Background(), 0); !errors.Is(err, providers.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", body, err)
		}
	}
}
