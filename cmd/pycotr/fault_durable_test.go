package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pycotr/pycotr/internal/testkit"
)

// pendingIDs returns the ids in a node's mempool (nil if it does not
// answer).
func pendingIDs(url string) map[string]bool {
	resp, err := faultClient.Get(url + "/api/v1/mempool")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var v struct {
		Transactions []struct {
			ID string `json:"id"`
		} `json:"transactions"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return nil
	}
	out := make(map[string]bool, len(v.Transactions))
	for _, tx := range v.Transactions {
		out[tx.ID] = true
	}
	return out
}

// countIn counts the ids held in set.
func countIn(ids []string, set map[string]bool) int {
	n := 0
	for _, id := range ids {
		if set[id] {
			n++
		}
	}
	return n
}

var poolRestoredLine = regexp.MustCompile(`msg="mempool restored".* pending=(\d+) dropped=(\d+)`)

// TestFaultAcceptedSurvivesKill: an accepted transaction outlives the
// process that accepted it. node-1 embeds NATS, node-2 has a data
// directory; both miners are stopped. 500 card purchases go through
// node-2's compatibility route (8 clients at once), then node-2 is killed
// (SIGKILL) right after the last answer: every one of the 500 is in
// node-1's pool (each answer waited for the NATS server's flush). Then
// node-1 stops too, node-2 starts alone from its data directory: all 500
// are in its pool (each answer waited for the fsync), and mined, all 500
// are confirmed.
func TestFaultAcceptedSurvivesKill(t *testing.T) {
	const total, clients = 500, 8
	natsPort := testkit.FreePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	off := "PYCOTR_MINER_AUTOSTART=false"
	p1 := startNodeProc(t, 1, testkit.FreePort(t), fmt.Sprintf("PYCOTR_NATS_LISTEN=127.0.0.1:%d", natsPort), off)
	dataDir := t.TempDir()
	port2 := testkit.FreePort(t)
	p2 := startNodeProc(t, 2, port2, "PYCOTR_NATS_URL="+natsURL, "PYCOTR_DATA_DIR="+dataDir, off)
	testkit.Eventually(t, 20*time.Second, "node-2 ready", func() bool { return tryStatus(p2.url+"/readyz") == http.StatusOK })

	var wallets []wallet
	for range clients {
		wallets = append(wallets, newWallet(t))
	}
	var (
		mu       sync.Mutex
		accepted []string
		refused  int
		last     time.Time
		wg       sync.WaitGroup
	)
	next := make(chan struct{}, total)
	for range total {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for range next {
				id, ok := tryMint(p2.url, wallets[c])
				mu.Lock()
				if ok {
					accepted = append(accepted, id)
				} else {
					refused++
				}
				last = time.Now()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := p2.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killGap := time.Since(last)
	took := last.Sub(start)
	p2.cmd.Wait()
	if refused != 0 || len(accepted) != total {
		t.Fatalf("node-2 accepted %d of %d purchases (%d refused)", len(accepted), total, refused)
	}
	if killGap > time.Millisecond {
		t.Logf("note: the kill came %s after the last answer", killGap)
	}

	var onNode1 int
	testkit.Eventually(t, 10*time.Second, "every accepted purchase in node-1's pool", func() bool {
		onNode1 = countIn(accepted, pendingIDs(p1.url))
		return onNode1 == total
	})

	// node-1 stops too; node-2 starts alone, from its data directory.
	p1.cmd.Process.Signal(syscall.SIGTERM)
	p1.cmd.Wait()
	alone := startNodeProc(t, 2, port2, "PYCOTR_DATA_DIR="+dataDir, off, "PYCOTR_LOG_LEVEL=info",
		fmt.Sprintf("PYCOTR_NATS_LISTEN=127.0.0.1:%d", testkit.FreePort(t)))
	var m []string
	testkit.Eventually(t, 5*time.Second, "a 'mempool restored' line in the log", func() bool {
		m = poolRestoredLine.FindStringSubmatch(alone.log.String())
		return m != nil
	})
	if m[1] != fmt.Sprint(total) || m[2] != "0" {
		t.Errorf("restored pending=%s dropped=%s, want %d and 0", m[1], m[2], total)
	}
	if got := countIn(accepted, pendingIDs(alone.url)); got != total {
		t.Fatalf("%d of %d purchases in the restarted node-2's pool", got, total)
	}
	call(t, "POST", alone.url+"/start_mining", nil)
	testkit.Eventually(t, 60*time.Second, "all 500 confirmed", func() bool {
		for _, id := range accepted {
			if txStatus(alone.url, id) != "confirmed" {
				return false
			}
		}
		return true
	})
	t.Logf("%d purchases accepted by node-2 in %s (%.0f/s, %d clients); SIGKILL %s after the last answer; "+
		"%d/%d in node-1's pool; node-2 restarted alone: %s pending restored, %s dropped; all %d confirmed",
		total, took.Round(time.Millisecond), float64(total)/took.Seconds(), clients, killGap, onNode1, total, m[1], m[2], total)
}
