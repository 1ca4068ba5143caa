package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// Crash faults with real processes: `pycotr node` with a data directory,
// mining and taking transactions over the compatibility API, killed with
// SIGKILL at random (seeded) moments and restarted, while another node
// process keeps the network going.

// faultClient is for requests to a node that may die at any moment: errors
// are answers, not test failures.
var faultClient = &http.Client{Timeout: 2 * time.Second}

// tryNode reads /api/v1/node; ok is false if the node does not answer.
func tryNode(url string) (nodeView, bool) {
	resp, err := faultClient.Get(url + "/api/v1/node")
	if err != nil {
		return nodeView{}, false
	}
	defer resp.Body.Close()
	var v nodeView
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return nodeView{}, false
	}
	return v, true
}

// tryStatus is the status code of a GET, 0 if no answer.
func tryStatus(url string) int {
	resp, err := faultClient.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// tryMint submits a card purchase through the compatibility route and
// returns its id if the node accepted it.
func tryMint(url string, k wallet) (string, bool) {
	body, _ := json.Marshal(map[string]any{
		"from_address": k.pub, "to_address": k.pub, "from_private_key": k.priv,
		"amount": 1, "is_credit_card": true, "credit_card_cc_number": "4111-1111-1111-1111",
		"credit_card_cc_date": "2099-12-31", "credit_card_cc_pict": "123", "credit_card_cc_name": "Crash Test",
	})
	resp, err := faultClient.Post(url+"/add_to_pending_transactions", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var env struct {
		Status string `json:"status"`
		Result struct {
			ID string `json:"transaction_id"`
		} `json:"result"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&env) != nil || env.Status != "success" {
		return "", false
	}
	return env.Result.ID, true
}

// txStatus is a transaction's status on a node: pending, confirmed or "".
func txStatus(url, id string) string {
	resp, err := faultClient.Get(url + "/api/v1/txs/" + id)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return ""
	}
	return v.Status
}

type wallet struct{ pub, priv string }

func newWallet(t *testing.T) wallet {
	t.Helper()
	k, err := chain.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return wallet{pub: string(chain.AddressOf(&k.PublicKey)), priv: chain.EncodePrivateKey(k)}
}

var restoredLine = regexp.MustCompile(`msg="chain restored".* blocks=(\d+) rejected=(\d+) height=(\d+)`)

// crashResult is what the crash rounds measured.
type crashResult struct {
	rounds, accepted, lost int
	maxBehind              uint64 // most blocks a restart restored below the height seen before the kill
	lastRestored           uint64
	catchUp                time.Duration
}

// runCrashRounds runs the crash/restart rounds; seed picks the kill moments.
func runCrashRounds(t *testing.T, rounds int, seed uint64) crashResult {
	natsPort := testkit.FreePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	keeper := startNodeProc(t, 1, testkit.FreePort(t), fmt.Sprintf("PYCOTR_NATS_LISTEN=127.0.0.1:%d", natsPort))
	dataDir := t.TempDir()
	port := testkit.FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	rnd := rand.New(rand.NewPCG(seed, seed^0x5eed))
	w := newWallet(t)

	var (
		mu       sync.Mutex
		accepted []string
	)
	const behindBound = 3 // blocks a kill may lose (queued for the async writer)
	var res crashResult
	var lastSeen uint64
	for round := 1; round <= rounds; round++ {
		p := startNodeProc(t, 2, port, "PYCOTR_NATS_URL="+natsURL, "PYCOTR_DATA_DIR="+dataDir, "PYCOTR_LOG_LEVEL=info")
		// The line is written before /healthz answers, but the process's
		// output reaches p.log through a pipe: wait for it.
		var m []string
		testkit.Eventually(t, 5*time.Second, fmt.Sprintf("round %d: a 'chain restored' line in the log", round), func() bool {
			m = restoredLine.FindStringSubmatch(p.log.String())
			return m != nil
		})
		rejected, _ := strconv.Atoi(m[2])
		restored, _ := strconv.ParseUint(m[3], 10, 64)
		if rejected != 0 {
			t.Errorf("round %d: %d stored blocks rejected on replay", round, rejected)
		}
		if restored+behindBound < lastSeen {
			t.Errorf("round %d: restored height %d, but %d was seen before the kill", round, restored, lastSeen)
		}
		if lastSeen > restored {
			res.maxBehind = max(res.maxBehind, lastSeen-restored)
		}
		if round > 1 && lastSeen > behindBound && restored == 0 {
			t.Errorf("round %d: restored an empty chain", round)
		}
		res.lastRestored = restored

		// Submit purchases and watch the height until a random moment, then
		// kill -9.
		life := time.Duration(300+rnd.IntN(1200)) * time.Millisecond
		stop := time.Now().Add(life)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if id, ok := tryMint(url, w); ok {
					mu.Lock()
					accepted = append(accepted, id)
					mu.Unlock()
				}
				time.Sleep(40 * time.Millisecond) // a client's pace, not a synchronisation
			}
		}()
		for time.Now().Before(stop) {
			if v, ok := tryNode(url); ok && v.Height > lastSeen {
				lastSeen = v.Height
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		wg.Wait()
		res.rounds++
	}

	// A last restart: it catches up with the network, then both stop
	// mining and agree.
	p := startNodeProc(t, 2, port, "PYCOTR_NATS_URL="+natsURL, "PYCOTR_DATA_DIR="+dataDir, "PYCOTR_LOG_LEVEL=info")
	start := time.Now()
	testkit.Eventually(t, 30*time.Second, "the restarted node catches up", func() bool {
		a, ok1 := tryNode(keeper.url)
		b, ok2 := tryNode(p.url)
		return ok1 && ok2 && b.Height+1 >= a.Height
	})
	res.catchUp = time.Since(start)
	for _, q := range []*proc{keeper, p} {
		call(t, "POST", q.url+"/stop_mining", nil)
	}
	testkit.Eventually(t, 15*time.Second, "one tip after mining stopped", func() bool {
		a, ok1 := tryNode(keeper.url)
		b, ok2 := tryNode(p.url)
		return ok1 && ok2 && a.Tip == b.Tip
	})
	testkit.Eventually(t, 30*time.Second, "ready", func() bool { return tryStatus(p.url+"/readyz") == 200 })

	// Every accepted purchase is confirmed or pending on both nodes, the
	// ones accepted in the instant before a kill included: an answer came
	// only once the purchase was on disk and the NATS server had its relay.
	for _, id := range accepted {
		if txStatus(keeper.url, id) == "" || txStatus(p.url, id) == "" {
			res.lost++
			t.Errorf("accepted purchase %s is lost", id)
		}
	}
	res.accepted = len(accepted)
	return res
}

// TestFaultCrashRestart: 20 kill -9 rounds of a persisting node (the soak
// build runs 100: TestFaultCrashRestartSoak).
func TestFaultCrashRestart(t *testing.T) {
	start := time.Now()
	r := runCrashRounds(t, 20, 20260707)
	t.Logf("%d kill -9 rounds in %s: every restart replayed a valid chain (last restored height %d, at most %d blocks behind the height seen before its kill); %d purchases accepted, %d lost; final catch-up %s",
		r.rounds, time.Since(start).Round(time.Second), r.lastRestored, r.maxBehind, r.accepted, r.lost, r.catchUp.Round(time.Millisecond))
}
