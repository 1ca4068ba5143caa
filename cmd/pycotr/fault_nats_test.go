package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/internal/testkit"

	"github.com/pycotr/pycotr/events"
)

// TestFaultNATSOutage: two node processes on one NATS server (embedded in
// the test process, on a fixed loopback port); node-2 has a data
// directory. The server dies: both nodes keep answering HTTP, /healthz
// stays 200, /readyz turns 503, each goes on mining alone. node-2 takes a
// card purchase (its disk keeps it); node-1, in memory, refuses one with
// 503 not-connected, since nothing could keep it if it died. The server
// comes back on the same port: both reconnect, /readyz is 200 again,
// node-1 takes a purchase again, they converge on one chain and each knows
// both purchases.
func TestFaultNATSOutage(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	srv, err := events.StartServer(events.ServerConfig{Name: "outage", Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	natsURL := "nats://" + addr
	p1 := startNodeProc(t, 1, testkit.FreePort(t), "PYCOTR_NATS_URL="+natsURL)
	p2 := startNodeProc(t, 2, testkit.FreePort(t), "PYCOTR_NATS_URL="+natsURL, "PYCOTR_DATA_DIR="+t.TempDir())
	nodes := []*proc{p1, p2}
	testkit.Eventually(t, 30*time.Second, "both ready on one tip above height 2", func() bool {
		a, ok1 := tryNode(p1.url)
		b, ok2 := tryNode(p2.url)
		return ok1 && ok2 && a.Height >= 2 && a.Tip == b.Tip &&
			tryStatus(p1.url+"/readyz") == 200 && tryStatus(p2.url+"/readyz") == 200
	})

	down := time.Now()
	srv.Shutdown()
	heights := map[string]uint64{}
	for _, p := range nodes {
		testkit.Eventually(t, 10*time.Second, p.name+" reports not ready", func() bool { return tryStatus(p.url+"/readyz") == 503 })
		if s := tryStatus(p.url + "/healthz"); s != 200 {
			t.Errorf("%s: /healthz %d during the outage", p.name, s)
		}
		v, _ := tryNode(p.url)
		heights[p.name] = v.Height
	}
	notReady := time.Since(down)
	// Each goes on alone: mines, answers; node-2 takes a purchase, node-1
	// (in memory) refuses one.
	ids := map[string]string{}
	for _, p := range nodes {
		testkit.Eventually(t, 15*time.Second, p.name+" mines alone", func() bool {
			v, ok := tryNode(p.url)
			return ok && v.Height >= heights[p.name]+2
		})
		if s := tryStatus(p.url + "/get_blockchain"); s != 200 {
			t.Errorf("%s: /get_blockchain %d during the outage", p.name, s)
		}
	}
	if status, body := mintStatus(p1.url, newWallet(t)); status != 503 || !strings.Contains(body, "not connected") {
		t.Errorf("node-1 (in memory) during the outage: %d %s, want 503, not connected", status, body)
	}
	id, ok := tryMint(p2.url, newWallet(t))
	if !ok {
		t.Fatal("node-2 (data directory) refused a purchase during the outage")
	}
	ids[p2.name] = id

	// NATS returns on the same port.
	up := time.Now()
	srv, err = events.StartServer(events.ServerConfig{Name: "outage", Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, "both ready again", func() bool {
		return tryStatus(p1.url+"/readyz") == 200 && tryStatus(p2.url+"/readyz") == 200
	})
	ready := time.Since(up)
	if id, ok = tryMint(p1.url, newWallet(t)); !ok {
		t.Fatal("node-1 refused a purchase once reconnected")
	}
	ids[p1.name] = id
	testkit.Eventually(t, 30*time.Second, "one chain again, with both purchases everywhere", func() bool {
		a, ok1 := tryNode(p1.url)
		b, ok2 := tryNode(p2.url)
		if !ok1 || !ok2 || a.Tip != b.Tip {
			return false
		}
		for _, id := range ids {
			for _, p := range nodes {
				if txStatus(p.url, id) == "" {
					return false
				}
			}
		}
		return true
	})
	converged := time.Since(up)
	for _, p := range nodes {
		call(t, "POST", p.url+"/stop_mining", nil)
	}
	testkit.Eventually(t, 15*time.Second, "one tip after mining stopped", func() bool {
		a, ok1 := tryNode(p1.url)
		b, ok2 := tryNode(p2.url)
		return ok1 && ok2 && a.Tip == b.Tip
	})
	t.Logf("outage: /readyz 503 within %s of the server dying; after it returned: ready in %s, one chain with both purchases in %s",
		notReady.Round(time.Millisecond), ready.Round(time.Millisecond), converged.Round(time.Millisecond))
}

// mintStatus submits a card purchase through the compatibility route and
// returns the status code and body (0 if no answer).
func mintStatus(url string, k wallet) (int, string) {
	body, _ := json.Marshal(map[string]any{
		"from_address": k.pub, "to_address": k.pub, "from_private_key": k.priv,
		"amount": 1, "is_credit_card": true, "credit_card_cc_number": "4111-1111-1111-1111",
		"credit_card_cc_date": "2099-12-31", "credit_card_cc_pict": "123", "credit_card_cc_name": "Outage Test",
	})
	resp, err := faultClient.Post(url+"/add_to_pending_transactions", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
