package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end test runs the built binary as real processes on loopback,
// as `task up` does: node-1 embeds NATS with a listen port, node-2 and
// node-3 connect to it.

var pycotrBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pycotr-e2e")
	if err != nil {
		panic(err)
	}
	pycotrBin = filepath.Join(dir, "pycotr")
	out, err := exec.Command("go", "build", "-o", pycotrBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build pycotr: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	url  string
}

// syncBuffer collects a process's output; exec writes it from its own
// goroutines while the test may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(pycotrBin, args...)
	cmd.Env = append(os.Environ(), env...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, log: log}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", p.name, p.log.String())
		}
	})
	return p
}

func startNodeProc(t *testing.T, n, httpPort int, natsEnv ...string) *proc {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := append([]string{
		fmt.Sprintf("PYCOTR_NODE_NAME=node-%d", n),
		fmt.Sprintf("PYCOTR_HTTP_ADDR=127.0.0.1:%d", httpPort),
		"PYCOTR_PUBLIC_URL=" + url,
		fmt.Sprintf("PYCOTR_MINER_PAUSE=%g", 0.2*float64(n)),
		"PYCOTR_LOG_LEVEL=warn",
	}, natsEnv...)
	p := startProc(t, fmt.Sprintf("node-%d", n), env, "node")
	p.url = url
	testkit.Eventually(t, 20*time.Second, p.name+" answers /healthz", func() bool {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

// call sends a compat request (JSON body, also on GET) and returns the
// envelope's result.
func call(t *testing.T, method, url string, body any) json.RawMessage {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if env.Status != "success" {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, env.Error)
	}
	return env.Result
}

func balance(t *testing.T, url, wallet string) int64 {
	var v int64
	if err := json.Unmarshal(call(t, "GET", url+"/balance_for", map[string]string{"wallet": wallet}), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

type nodeView struct {
	ID     string `json:"node_id"`
	Name   string `json:"name"`
	Height uint64 `json:"height"`
	Tip    string `json:"tip"`
}

func v1Node(t *testing.T, url string) nodeView {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/node")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v nodeView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func sameTip(t *testing.T, ps ...*proc) bool {
	first := v1Node(t, ps[0].url)
	for _, p := range ps[1:] {
		if v1Node(t, p.url).Tip != first.Tip {
			return false
		}
	}
	return true
}

func TestEndToEndThreeProcesses(t *testing.T) {
	natsPort := testkit.FreePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	p1 := startNodeProc(t, 1, testkit.FreePort(t), fmt.Sprintf("PYCOTR_NATS_LISTEN=127.0.0.1:%d", natsPort))
	port2 := testkit.FreePort(t)
	p2 := startNodeProc(t, 2, port2, "PYCOTR_NATS_URL="+natsURL)
	p3 := startNodeProc(t, 3, testkit.FreePort(t), "PYCOTR_NATS_URL="+natsURL)

	// The frontend's flow: keys, card purchase, transfer, balances.
	var alice, bob struct{ Private, Public string }
	json.Unmarshal(call(t, "GET", p1.url+"/create_key", nil), &alice)
	json.Unmarshal(call(t, "GET", p2.url+"/create_key", nil), &bob)
	call(t, "POST", p1.url+"/add_to_pending_transactions", map[string]any{
		"from_address": alice.Public, "to_address": alice.Public, "from_private_key": alice.Private,
		"amount": "100", "is_credit_card": true, "credit_card_cc_number": "4111-1111-1111-1111",
		"credit_card_cc_date": "2099-12-31", "credit_card_cc_pict": "123", "credit_card_cc_name": "Alice",
	})
	// node-2 takes the transfer next, and checks alice's funds before it
	// signs: every node must hold the purchase's block first.
	testkit.Eventually(t, 30*time.Second, "the purchase is mined and seen by node-2 and node-3", func() bool {
		return balance(t, p3.url, alice.Public) == 100 && balance(t, p2.url, alice.Public) == 100
	})
	call(t, "POST", p2.url+"/add_to_pending_transactions", map[string]any{
		"from_address": alice.Public, "to_address": bob.Public, "from_private_key": alice.Private, "amount": 40,
	})
	testkit.Eventually(t, 30*time.Second, "the transfer is mined", func() bool {
		return balance(t, p1.url, bob.Public) == 40 && balance(t, p1.url, alice.Public) == 60
	})

	// kill -9 node-2: the others carry on.
	if err := p2.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p2.cmd.Wait()
	h := v1Node(t, p1.url).Height
	testkit.Eventually(t, 30*time.Second, "node-1 and node-3 keep mining without node-2", func() bool {
		return v1Node(t, p3.url).Height >= h+3 && sameTip(t, p1, p3)
	})

	// Restart it: it resyncs to the common tip (its chain was in memory).
	p2 = startNodeProc(t, 2, port2, "PYCOTR_NATS_URL="+natsURL)
	testkit.Eventually(t, 30*time.Second, "restarted node-2 catches up", func() bool {
		return v1Node(t, p2.url).Height >= v1Node(t, p1.url).Height-1 && balance(t, p2.url, bob.Public) == 40
	})

	// `pycotr status --json` agrees with the HTTP view, once the network
	// is still: stop the miners and wait for one tip.
	for _, p := range []*proc{p1, p2, p3} {
		call(t, "POST", p.url+"/stop_mining", nil)
	}
	testkit.Eventually(t, 10*time.Second, "one tip after mining stopped", func() bool { return sameTip(t, p1, p2, p3) })
	out, err := exec.Command(pycotrBin, "status", "--json", "--nats-url", natsURL).Output()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	var states []nodeView
	if err := json.Unmarshal(out, &states); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if len(states) != 3 {
		t.Fatalf("status lists %d nodes, want 3: %s", len(states), out)
	}
	for _, p := range []*proc{p1, p2, p3} {
		v := v1Node(t, p.url)
		found := false
		for _, s := range states {
			if s.ID == v.ID && s.Name == v.Name {
				found = true
				if s.Height != v.Height || s.Tip != v.Tip {
					t.Errorf("%s: status says height %d tip %s, HTTP says %d %s", v.Name, s.Height, s.Tip, v.Height, v.Tip)
				}
			}
		}
		if !found {
			t.Errorf("%s (%s) missing from status", v.Name, v.ID)
		}
	}
	if !strings.Contains(string(out), p1.url) {
		t.Errorf("status does not show node-1's URL %s", p1.url)
	}
}

// TestUpStopsCleanly runs `pycotr up`, waits for the three nodes to share
// a tip, then interrupts it: it must exit 0 within 2 s.
func TestUpStopsCleanly(t *testing.T) {
	base := testkit.FreePort(t)
	for i := 1; i < 3; i++ { // the two ports after it must be free too
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i)); err != nil {
			t.Fatalf("port %d busy: %v", base+i, err)
		} else {
			l.Close()
		}
	}
	p := startProc(t, "up", nil, "up", "--base-port", fmt.Sprint(base), "--pause", "0.2,0.3,0.4",
		"--nats-listen", fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), "--log-level", "warn")
	nodes := []*proc{{url: fmt.Sprintf("http://127.0.0.1:%d", base)}, {url: fmt.Sprintf("http://127.0.0.1:%d", base+1)}, {url: fmt.Sprintf("http://127.0.0.1:%d", base+2)}}
	testkit.Eventually(t, 30*time.Second, "three nodes answer and share a tip above height 3", func() bool {
		for _, n := range nodes {
			resp, err := http.Get(n.url + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
		}
		return v1Node(t, nodes[0].url).Height >= 3 && sameTip(t, nodes...)
	})
	start := time.Now()
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("up exited with %v\n%s", err, p.log)
		}
		t.Logf("stopped in %s", time.Since(start))
	case <-ctx.Done():
		p.cmd.Process.Kill()
		t.Fatalf("up did not stop within 2 s\n%s", p.log)
	}
}

func TestBadConfigExitsTwo(t *testing.T) {
	cmd := exec.Command(pycotrBin, "node")
	cmd.Env = append(os.Environ(), "PYCOTR_MINER_MODE=fast")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("want exit 2, got %v: %s", err, out)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "PYCOTR_MINER_MODE") {
		t.Fatalf("want one line naming PYCOTR_MINER_MODE, got:\n%s", out)
	}
}
