package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
)

// The HTTP handlers under arbitrary input: bodies to every POST and PUT
// route (compat and v1), arbitrary paths and queries to GET. Through
// httpapi.New over a real node (mining off, a funded wallet, a pending
// transaction): never a 5xx other than 503, never a panic (the recoverer
// would answer 500), and a rejected request changes nothing.

// fuzzWrites are the routes that take a body. start_mining and
// /miner/start are left out: a miner that runs would move the tip under
// the state checks; the dev key generator is off (DevKeys false).
var fuzzWrites = []struct{ method, path string }{
	{"POST", "/add_to_pending_transactions"},
	{"POST", "/stop_mining"},
	{"POST", "/register-and-broadcast-nodes"},
	{"POST", "/register-node"},
	{"POST", "/register-all-nodes"},
	{"POST", "/update_miner_pause"},
	{"POST", "/api/v1/txs"},
	{"POST", "/api/v1/miner/stop"},
	{"PUT", "/api/v1/miner/pause"},
	{"POST", "/api/v1/keys"},
	{"GET", "/balance_for"}, // the original's GET with a JSON body
	{"GET", "/get_blockchain"},
}

var fuzzContentTypes = []string{"application/json", "", "text/plain", "application/problem+json", "application/json; charset=utf-8", "multipart/form-data; boundary=x"}

type fuzzAPI struct {
	h      http.Handler
	node   *services.Node
	wallet chain.Address
}

func newFuzzAPI(f *testing.F) fuzzAPI {
	n := startNode(f, startServer(f), 0)
	mint := signedMint(f, 1, 100)
	if err := n.SubmitTx(&mint); err != nil {
		f.Fatal(err)
	}
	mineUntil(f, n, "the mint confirmed", func() bool { return confirmed(n, mint.ID) })
	pending := signedMint(f, 2, 5)
	if err := n.SubmitTx(&pending); err != nil {
		f.Fatal(err)
	}
	return fuzzAPI{h: New(func() Config { c := nodeConfig(n); c.MaxBodyBytes = 64 << 10; return c }()), node: n, wallet: addr(f, 1)}
}

type fuzzState struct {
	tip     chain.Hash
	mempool int
	balance int64
	pause   time.Duration
	mining  bool
	peers   []string
}

func (fa fuzzAPI) state() fuzzState {
	c, _ := fa.node.Chain().MempoolStats()
	return fuzzState{tip: fa.node.Chain().Tip().Hash, mempool: c, balance: fa.node.Chain().Balance(fa.wallet),
		pause: fa.node.Miner().Pause(), mining: fa.node.Miner().Mining(), peers: fa.node.Peers().URLs()}
}

func (a fuzzState) equal(b fuzzState) bool {
	return a.tip == b.tip && a.mempool == b.mempool && a.balance == b.balance && a.pause == b.pause &&
		a.mining == b.mining && slices.Equal(a.peers, b.peers)
}

// serve runs one request with a deadline (an event stream ends with it)
// and checks the answer.
func (fa fuzzAPI) serve(t *testing.T, req *http.Request) {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), 200*time.Millisecond)
	defer cancel()
	req = req.WithContext(ctx)
	before := fa.state()
	rec := httptest.NewRecorder()
	fa.h.ServeHTTP(rec, req)
	res := rec.Result()
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s %q: %d %s", req.Method, req.URL.RequestURI(), res.StatusCode, rec.Body.Bytes())
	}
	if res.StatusCode >= 400 {
		if after := fa.state(); !before.equal(after) {
			t.Fatalf("%s %q rejected with %d but the node changed:\n%+v\n%+v", req.Method, req.URL.RequestURI(), res.StatusCode, before, after)
		}
		// (The dashboard's static files answer their 404 in plain text.)
		if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "json") && !strings.HasPrefix(req.URL.Path, "/assets/") {
			t.Fatalf("%s %q: error with Content-Type %q", req.Method, req.URL.RequestURI(), ct)
		}
		if strings.Contains(res.Header.Get("Content-Type"), "json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: error body is not JSON: %q", req.Method, req.URL.RequestURI(), rec.Body.Bytes())
		}
	}
}

func FuzzHTTPWrite(f *testing.F) {
	fa := newFuzzAPI(f)
	k1 := testKey(f, 1)
	compatTx := func(amount string) []byte {
		return fmt.Appendf(nil, `{"from_address":%q,"to_address":%q,"from_private_key":%q,"amount":%s}`,
			addr(f, 1), addr(f, 3), chain.EncodePrivateKey(k1), amount)
	}
	signed, err := chain.NewTransfer(k1, addr(f, 3), 2, 1, "")
	if err != nil {
		f.Fatal(err)
	}
	signedJSON, _ := json.Marshal(signed)
	for i := range fuzzWrites {
		f.Add(uint8(i), uint8(0), []byte(`{}`))
		f.Add(uint8(i), uint8(1), []byte(`not json`))
	}
	f.Add(uint8(0), uint8(0), compatTx("7"))
	f.Add(uint8(0), uint8(0), compatTx(`"1e3"`))
	f.Add(uint8(0), uint8(0), compatTx("-1"))
	f.Add(uint8(0), uint8(0), compatTx("99999999999999999999"))
	f.Add(uint8(0), uint8(0), []byte(`{"to_address":"ab","is_credit_card":true,"credit_card_cc_number":"4111 1111 1111 1111","credit_card_cc_date":"2099-12-31","credit_card_cc_pict":"123","credit_card_cc_name":"A"}`))
	f.Add(uint8(3), uint8(0), []byte(`{"new_node_url":"http://127.0.0.1:9"}`))
	f.Add(uint8(2), uint8(0), []byte(`{"new_node_url":"javascript:alert(1)"}`))
	f.Add(uint8(5), uint8(0), []byte(`{"pause":"NaN"}`))
	f.Add(uint8(8), uint8(0), []byte(`{"pause":1e308}`))
	f.Add(uint8(6), uint8(0), signedJSON)
	f.Add(uint8(6), uint8(4), append(signedJSON, ` {}`...))
	f.Add(uint8(10), uint8(2), []byte(`{"wallet":"zz"}`))
	f.Fuzz(func(t *testing.T, route, ctype uint8, body []byte) {
		r := fuzzWrites[int(route)%len(fuzzWrites)]
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(string(body)))
		if ct := fuzzContentTypes[int(ctype)%len(fuzzContentTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		fa.serve(t, req)
	})
}

func FuzzHTTPRead(f *testing.F) {
	fa := newFuzzAPI(f)
	for _, p := range []string{
		"/", "/status", "/get_wallets", "/describe_network", "/is_mining", "/get_blockchain", "/describe_blockchain",
		"/blockchain_id", "/balance_for?wallet=" + string(addr(f, 1)), "/get_miner_pause", "/healthz", "/readyz", "/metrics",
		"/api/v1/", "/api/v1/openapi.json", "/api/v1/node", "/api/v1/peers", "/api/v1/chain?from=0&limit=2",
		"/api/v1/chain?from=-1", "/api/v1/chain?limit=99999999999999999999", "/api/v1/blocks/1", "/api/v1/blocks/zz",
		"/api/v1/blocks/" + strings.Repeat("0", 64), "/api/v1/txs/x", "/api/v1/mempool", "/api/v1/balances/zz",
		"/api/v1/miner", "/api/v1/events", "/assets/app.js", "/assets/../../etc/passwd", "/%2e%2e/", "/api/v1/chain?from=1&from=2",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(http.MethodGet, "http://node.test"+target, nil)
		if err != nil || req.URL.Host != "node.test" {
			return // not a request a client can send
		}
		req.RequestURI = target
		req.Body = http.NoBody // as a server's request has
		fa.serve(t, req)
	})
}
