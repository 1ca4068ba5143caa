package httpapi

import (
	"github.com/pycotr/pycotr/internal/testkit"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
)

// TestV1 walks the REST API: node, peers, a client-signed transaction
// from pending to confirmed, blocks by height and hash, chain paging,
// mempool, balances, keys and miner control.
func TestV1(t *testing.T) {
	ta := startAPI(t)
	n := ta.node

	var node nodeView
	ta.v1("GET", "/node", nil, 200, &node)
	if node.NodeID != n.ID() || node.SourceChainID != n.ID() || node.MinerAddress != string(n.Miner().Address()) ||
		node.Params.Bits != 8 || node.Genesis != n.Chain().GenesisHash() || node.Name != "node-1" {
		t.Errorf("node %+v", node)
	}
	var peers struct{ Peers []services.NodeState }
	ta.v1("GET", "/peers", nil, 200, &peers)
	if peers.Peers == nil || len(peers.Peers) != 0 {
		t.Errorf("peers of a lone node: %v", peers.Peers)
	}

	// A card purchase signed by the client.
	mint := signedMint(t, 4, 50)
	res := ta.v1("POST", "/txs", withCard(mint), http.StatusAccepted, nil)
	if loc := res.header.Get("Location"); loc != "/api/v1/txs/"+mint.ID {
		t.Errorf("Location %q", loc)
	}
	var st txView
	ta.v1("GET", "/txs/"+mint.ID, nil, 200, &st)
	if st.Status != "pending" || st.Tx.ID != mint.ID || st.Height != nil {
		t.Errorf("pending tx %+v", st)
	}
	var pool struct {
		Count        int        `json:"count"`
		Bytes        int        `json:"bytes"`
		Transactions []chain.Tx `json:"transactions"`
	}
	ta.v1("GET", "/mempool", nil, 200, &pool)
	if pool.Count != 1 || pool.Bytes != mint.Size() || len(pool.Transactions) != 1 || pool.Transactions[0].ID != mint.ID {
		t.Errorf("mempool %+v", pool)
	}

	mineUntil(t, n, "the mint is confirmed and the chain is 3 blocks long", func() bool {
		return confirmed(n, mint.ID) && n.Chain().Height() >= 3
	})
	ta.v1("GET", "/txs/"+mint.ID, nil, 200, &st)
	if st.Status != "confirmed" || st.Height == nil || st.Block == nil {
		t.Fatalf("confirmed tx %+v", st)
	}
	var byHeight, byHash blockView
	ta.v1("GET", "/blocks/"+strconv.FormatUint(*st.Height, 10), nil, 200, &byHeight)
	ta.v1("GET", "/blocks/"+st.Block.String(), nil, 200, &byHash)
	if byHeight.Hash != *st.Block || byHash.Hash != *st.Block || !byHash.Main || byHash.Height != *st.Height ||
		len(byHash.Transactions) < 2 || byHash.Transactions[1].ID != mint.ID || byHash.Header.Height != byHash.Height {
		t.Errorf("block by height %+v, by hash %+v", byHeight, byHash)
	}

	// Paging.
	var page struct {
		Height uint64      `json:"height"`
		Next   *uint64     `json:"next"`
		Blocks []blockView `json:"blocks"`
	}
	ta.v1("GET", "/chain?from=1&limit=2", nil, 200, &page)
	if len(page.Blocks) != 2 || page.Blocks[0].Height != 1 || page.Blocks[1].Height != 2 || page.Next == nil || *page.Next != 3 {
		t.Errorf("page from 1: %+v", page)
	}
	if page.Blocks[1].Header.PrevHash != page.Blocks[0].Hash {
		t.Error("page blocks do not chain")
	}
	page.Next = nil
	ta.v1("GET", "/chain?from="+strconv.FormatUint(page.Height, 10), nil, 200, &page)
	if len(page.Blocks) != 1 || page.Next != nil {
		t.Errorf("last page: %d blocks, next %v", len(page.Blocks), page.Next)
	}
	ta.v1("GET", "/chain", nil, 200, &page)
	if len(page.Blocks) == 0 || page.Blocks[0].Height != 0 {
		t.Errorf("default page starts at %d", page.Blocks[0].Height)
	}

	// Balances: a pending spend lowers what may be spent, not the balance.
	spend, err := chain.NewTransfer(testKey(t, 4), addr(t, 5), 20, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	ta.v1("POST", "/txs", spend, http.StatusAccepted, nil)
	var bal struct {
		Address   string `json:"address"`
		Balance   int64  `json:"balance"`
		Spendable int64  `json:"spendable"`
	}
	ta.v1("GET", "/balances/"+string(addr(t, 4)), nil, 200, &bal)
	if bal.Balance != 50 || bal.Spendable != 28 || bal.Address != string(addr(t, 4)) {
		t.Errorf("balance %+v", bal)
	}

	// Keys, development only.
	var key struct {
		Address    string `json:"address"`
		PrivateKey string `json:"private_key"`
	}
	ta.v1("POST", "/keys", nil, http.StatusCreated, &key)
	if k, err := chain.ParsePrivateKey(key.PrivateKey); err != nil || string(chain.AddressOf(&k.PublicKey)) != key.Address {
		t.Errorf("keys: %v", err)
	}
	off := newTestAPI(t, n, nil)
	off.v1("GET", "/node", nil, 200, nil)
	prod := newTestAPI(t, n, func(c *Config) { c.DevKeys = false })
	prod.v1("POST", "/keys", nil, http.StatusNotFound, nil)

	// Miner.
	var m minerView
	ta.v1("POST", "/miner/start", nil, 200, &m)
	if !m.Mining || !n.Miner().Mining() {
		t.Error("miner/start")
	}
	ta.v1("POST", "/miner/stop", nil, 200, &m)
	if m.Mining || n.Miner().Mining() {
		t.Error("miner/stop")
	}
	ta.v1("PUT", "/miner/pause", map[string]any{"pause": 2.5}, 200, &m)
	if m.Pause != 2.5 || n.Miner().Pause() != 2500*time.Millisecond || m.Mode != "paced" || m.Address != string(n.Miner().Address()) {
		t.Errorf("miner/pause: %+v, node %s", m, n.Miner().Pause())
	}
	ta.v1("GET", "/miner", nil, 200, &m)
	if m.Pause != 2.5 {
		t.Errorf("miner %+v", m)
	}
	var hr struct {
		Limit float64 `json:"hash_rate_limit"`
	}
	ta.v1("PUT", "/miner/hashrate", map[string]any{"hash_rate": 25000}, 200, &hr)
	if hr.Limit != 25000 || n.Miner().HashRateLimit() != 25000 {
		t.Errorf("miner/hashrate: %+v, node %g", hr, n.Miner().HashRateLimit())
	}

	var idx map[string]string
	ta.v1("GET", "/", nil, 200, &idx)
	if idx["openapi"] != "/api/v1/openapi.json" {
		t.Errorf("index %v", idx)
	}
}

func TestV1PeersOnCluster(t *testing.T) {
	srv := startServer(t)
	n1, n2 := startNode(t, srv, 0), startNode(t, srv, 1)
	ta := newTestAPI(t, n1, nil)
	testkit.Eventually(t, 5*time.Second, "node 2 appears in node 1's peers", func() bool {
		var peers struct{ Peers []services.NodeState }
		ta.v1("GET", "/peers", nil, 200, &peers)
		return len(peers.Peers) == 1 && peers.Peers[0].NodeID == n2.ID() && peers.Peers[0].URL == n2.PublicURL()
	})
}

// notReady is a node that says it is not ready: the interface makes a
// node's answers easy to replace in a test.
type notReady struct{ *services.Node }

func (notReady) Ready() (bool, string) { return false, "initial sync not finished" }

func TestHealth(t *testing.T) {
	// Two nodes: a lone node never becomes ready today (its consensus
	// gather fails with no responders; reported to services).
	srv := startServer(t)
	ta := newTestAPI(t, startNode(t, srv, 0), nil)
	startNode(t, srv, 1)
	if res := ta.do("GET", "/healthz", "", ""); res.status != 200 {
		t.Errorf("healthz %d", res.status)
	}
	testkit.Eventually(t, 5*time.Second, "readyz answers 200", func() bool { return ta.do("GET", "/readyz", "", "").status == 200 })
	nr := newTestAPI(t, ta.node, func(c *Config) { c.Node = notReady{ta.node} })
	res := nr.do("GET", "/readyz", "", "")
	if res.status != http.StatusServiceUnavailable || !strings.Contains(string(res.body), "initial sync not finished") {
		t.Errorf("readyz of a node not ready: %d %s", res.status, res.body)
	}
}

func TestCORS(t *testing.T) {
	ta := newTestAPI(t, startNode(t, startServer(t), 0), func(c *Config) { c.CORSOrigins = []string{"http://localhost:3000"} })
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, ta.srv.URL+"/add_to_pending_transactions", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		res, err := ta.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := preflight("http://localhost:3000")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		res.Header.Get("Access-Control-Allow-Headers") != "content-type" || res.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight from the frontend: %d %v", res.StatusCode, res.Header)
	}
	if res := preflight("http://evil.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin allowed: %v", res.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, ta.srv.URL+"/status", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	got, err := ta.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if got.StatusCode != 200 || got.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("GET with Origin: %d %v", got.StatusCode, got.Header)
	}
}
