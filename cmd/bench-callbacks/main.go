// Command bench-callbacks measures the CorePass status-callback path of a
// real kycdesk process on loopback: signed callbacks accepted per second
// (Ed448 verify + durable store with synchronous=FULL + 200), and how many
// are lost when the server is killed with SIGKILL every few seconds while
// the sender retries whatever was not answered 200. It reports; it asserts
// nothing. `make bench` runs it after building bin/kycdesk.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cloudflare/circl/sign/ed448"
	_ "modernc.org/sqlite"

	corepasssim "github.com/kycdesk/kycdesk/providers/corepass/sim"
)

func main() {
	bin := flag.String("bin", "bin/kycdesk", "the kycdesk binary to run")
	n := flag.Int("n", 20000, "callbacks in the throughput run")
	killN := flag.Int("kill-n", 10000, "callbacks in the SIGKILL run")
	conc := flag.Int("c", 32, "concurrent senders")
	killEvery := flag.Duration("kill-every", 2*time.Second, "SIGKILL interval")
	flag.Parse()
	if err := run(*bin, *n, *killN, *conc, *killEvery); err != nil {
		fmt.Fprintln(os.Stderr, "bench-callbacks:", err)
		os.Exit(1)
	}
}

// server is one kycdesk child process.
type server struct {
	bin, dir, addr, pubHex string
	cmd                    *exec.Cmd
}

func (s *server) start() error {
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = append(os.Environ(),
		"KYCDESK_ADDR="+s.addr, "KYCDESK_DB="+filepath.Join(s.dir, "kycdesk.db"), "KYCDESK_SANDBOX=1",
		"KYCDESK_COREPASS_PUBKEY="+s.pubHex, "KYCDESK_ADMIN_PASSWORD=bench-password-123")
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		return err
	}
	for i := 0; i < 200; i++ {
		if resp, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("server did not come up")
}

func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = s.cmd.Process.Wait()
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_, _ = s.cmd.Process.Wait()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// callbacks makes n distinct signed status callbacks with a deadline far
// enough ahead for the whole run.
func callbacks(priv ed448.PrivateKey, n int, tag string) ([][]byte, error) {
	now := time.Now()
	out := make([][]byte, n)
	for i := range out {
		body, err := corepasssim.SignStatusCallback(priv, corepasssim.StatusCallback{
			User: "ab22b1671b4f7ccc0b16a87514adde84513b6348232e", Items: []string{"SH_IDCard_FULLNAME", "SH_IDCard_DOB"},
			Status: "VALIDITY_CHECK", Expiration: now.Add(14 * time.Minute).Unix(), Deadline: now.Add(30 * time.Minute).Unix(),
			TxHash: fmt.Sprintf("0x%s%08d", tag, i),
		})
		if err != nil {
			return nil, err
		}
		out[i] = body
	}
	return out, nil
}

// sendAll posts every body until it is answered 200, with conc senders,
// and returns the latencies of the successful posts.
func sendAll(url string, bodies [][]byte, conc int) ([]time.Duration, int64) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	var next atomic.Int64
	var retries atomic.Int64
	lat := make([]time.Duration, len(bodies))
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				for attempt := 0; ; attempt++ {
					start := time.Now()
					resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i]))
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							lat[i] = time.Since(start)
							break
						}
					}
					retries.Add(1)
					time.Sleep(time.Duration(min(attempt+1, 20)) * 10 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	return lat, retries.Load()
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

func stored(dbPath string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM inbox WHERE provider = 'corepass' AND endpoint = 'callbacks/corepass/status'").Scan(&n)
	return n, err
}

func run(bin string, n, killN, conc int, killEvery time.Duration) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s: build it first (make build): %w", bin, err)
	}
	pub, priv, err := ed448.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kycdesk-callbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	srv := &server{bin: bin, dir: dir, addr: addr, pubHex: hex.EncodeToString(pub)}
	url := "http://" + addr + "/callbacks/corepass/status"

	// 1. Throughput.
	bodies, err := callbacks(priv, n, "aa")
	if err != nil {
		return err
	}
	if err := srv.start(); err != nil {
		return err
	}
	start := time.Now()
	lat, _ := sendAll(url, bodies, conc)
	el := time.Since(start)
	srv.stop()
	fmt.Printf("CorePass status callbacks (Ed448 verify + durable store, synchronous=FULL + 200), %d senders on loopback:\n", conc)
	fmt.Printf("  %d accepted in %s: %.0f callbacks/s, p50 %s, p99 %s\n", n, el.Round(time.Millisecond), float64(n)/el.Seconds(),
		percentile(lat, 0.5).Round(10*time.Microsecond), percentile(lat, 0.99).Round(10*time.Microsecond))

	// 2. SIGKILL every killEvery while the sender retries.
	before, err := stored(filepath.Join(dir, "kycdesk.db"))
	if err != nil {
		return err
	}
	bodies, err = callbacks(priv, killN, "bb")
	if err != nil {
		return err
	}
	if err := srv.start(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	kills := 0
	var mu sync.Mutex
	go func() {
		t := time.NewTicker(killEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				mu.Lock()
				srv.kill()
				kills++
				_ = srv.start()
				mu.Unlock()
			}
		}
	}()
	start = time.Now()
	_, retries := sendAll(url, bodies, conc)
	cancel()
	mu.Lock()
	srv.stop()
	mu.Unlock()
	after, err := stored(filepath.Join(dir, "kycdesk.db"))
	if err != nil {
		return err
	}
	got := after - before
	fmt.Printf("SIGKILL run: %d callbacks, server killed %d times (every %s), %d sends retried, all %d answered 200 in %s\n",
		killN, kills, killEvery, retries, killN, time.Since(start).Round(time.Millisecond))
	fmt.Printf("  stored after restart: %d of %d acknowledged; lost: %d\n", got, killN, killN-got)
	return nil
}
