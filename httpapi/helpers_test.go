package httpapi

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

var (
	genesisOnce sync.Once
	testGen     *genesis.File
)

func addr(t testing.TB, i int) chain.Address { return chain.AddressOf(&testKey(t, i).PublicKey) }

// testGenesis is a network with 8-bit difficulty, so blocks come at once.
func testGenesis(t testing.TB) *genesis.File {
	t.Helper()
	genesisOnce.Do(func() { testGen = chaintest.Genesis(t, chaintest.Params(8)) })
	return testGen
}

func startServer(t testing.TB) *events.Server {
	t.Helper()
	srv, err := events.StartServer(events.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// startNode starts node i (miner key testKey(i), public URL :300<i+1>) on
// srv, mining off, and closes it at the end of the test.
func startNode(t testing.TB, srv *events.Server, i int) *services.Node {
	t.Helper()
	n, err := services.New(services.Config{
		Name:              fmt.Sprintf("node-%d", i+1),
		PublicURL:         fmt.Sprintf("http://127.0.0.1:%d", 3001+i),
		MinerKey:          testKey(t, i),
		Genesis:           testGenesis(t),
		Embedded:          srv,
		PresenceInterval:  100 * time.Millisecond,
		ConsensusInterval: time.Second,
		GatherStall:       100 * time.Millisecond,
		Miner:             miner.Settings{Mode: miner.ModePaced, Pause: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// testAPI is a node behind an httptest server, with a client that keeps
// every response for the tests that inspect a whole session.
type testAPI struct {
	t    testing.TB
	node *services.Node
	srv  *httptest.Server

	mu        sync.Mutex
	responses []recorded
}

type recorded struct {
	route string // "METHOD /path"
	body  []byte
}

func newTestAPI(t testing.TB, n *services.Node, mutate func(*Config)) *testAPI {
	t.Helper()
	cfg := nodeConfig(n)
	cfg.DevKeys = true
	if mutate != nil {
		mutate(&cfg)
	}
	ta := &testAPI{t: t, node: n, srv: httptest.NewServer(New(cfg))}
	t.Cleanup(ta.srv.Close)
	return ta
}

// startAPI is one node with its API: the common case.
func startAPI(t testing.TB) *testAPI {
	t.Helper()
	return newTestAPI(t, startNode(t, startServer(t), 0), nil)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; a non-empty body goes with contentType (if any).
func (ta *testAPI) do(method, path, contentType, body string) response {
	ta.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := ta.srv.Client().Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ta.t.Fatal(err)
	}
	ta.mu.Lock()
	ta.responses = append(ta.responses, recorded{route: method + " " + path, body: b})
	ta.mu.Unlock()
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// jsonBody encodes v for a request.
func jsonBody(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compat sends a compatibility request (JSON body if v != nil) and
// decodes a success envelope's result into out; it fails the test on
// anything but 200 and "success".
func (ta *testAPI) compat(method, path string, v any, out any) (message string) {
	ta.t.Helper()
	body := ""
	if v != nil {
		body = jsonBody(ta.t, v)
	}
	res := ta.do(method, path, "application/json", body)
	if res.status != http.StatusOK {
		ta.t.Fatalf("%s %s: status %d: %s", method, path, res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		ta.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var env struct {
		Status  string          `json:"status"`
		Message *string         `json:"message"`
		Result  json.RawMessage `json:"result"`
	}
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		ta.t.Fatalf("%s %s: envelope: %v: %s", method, path, err, res.body)
	}
	if env.Status != "success" || env.Message == nil || env.Result == nil {
		ta.t.Fatalf("%s %s: envelope %s", method, path, res.body)
	}
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			ta.t.Fatalf("%s %s: result: %v: %s", method, path, err, env.Result)
		}
	}
	return *env.Message
}

// v1 sends a v1 request and decodes a JSON answer with the wanted status.
func (ta *testAPI) v1(method, path string, v any, want int, out any) response {
	ta.t.Helper()
	body := ""
	if v != nil {
		body = jsonBody(ta.t, v)
	}
	res := ta.do(method, "/api/v1"+path, "application/json", body)
	if res.status != want {
		ta.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.status, want, res.body)
	}
	if out != nil {
		if err := json.Unmarshal(res.body, out); err != nil {
			ta.t.Fatalf("%s %s: %v: %s", method, path, err, res.body)
		}
	}
	return res
}

// mineUntil runs n's miner until cond holds, then stops it.
func mineUntil(t testing.TB, n *services.Node, what string, cond func() bool) {
	t.Helper()
	n.Miner().Start()
	defer n.Miner().Stop()
	testkit.Eventually(t, 15*time.Second, what, cond)
}

// confirmed reports whether a transaction is on n's best chain.
func confirmed(n *services.Node, id string) bool {
	_, st, _ := n.Chain().FindTx(id)
	return st == chain.TxConfirmed
}

// testCard is a valid card for mints.
var testCard = chaintest.CardInput

// signedMint builds a card purchase of amount by key i, signed.
func signedMint(t testing.TB, i int, amount int64) chain.Tx {
	t.Helper()
	return chaintest.Mint(t, testKey(t, i), amount, 0)
}

// mintRequest is the v1 submission of a card purchase: the signed
// transaction plus the card number and CVV the node checks it against.
type mintRequest struct {
	chain.Tx
	CardNumber string `json:"card_number"`
	CardCVV    string `json:"card_cvv"`
}

func withCard(tx chain.Tx) mintRequest {
	return mintRequest{Tx: tx, CardNumber: testCard.Number, CardCVV: testCard.CVV}
}

// testKey returns one of the test binary's 1024-bit keys.
func testKey(_ testing.TB, i int) *rsa.PrivateKey { return testkit.Key(i) }

// doWith sends a request with a body (as JSON when not empty) and headers.
func (ta *testAPI) doWith(method, path, body string, header map[string]string) (response, *http.Response) {
	ta.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := ta.srv.Client().Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ta.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}, res
}

// checkStyle checks an error answer's format: a problem document with
// code on /api/v1, the original's envelope elsewhere.
func checkStyle(t *testing.T, path string, res *http.Response, b []byte, status int, code string) {
	t.Helper()
	if strings.HasPrefix(path, "/api/v1") {
		checkProblem(t, res, b, status, code)
	} else {
		checkCompatError(t, res, b)
	}
}
