package httpapi

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pycotr/pycotr/chain"
)

// TestNoPrivateKeyLeaks records every response of a session that calls
// every route, and checks that no private key appears in any, except the
// answers of the two key generators: not the miner's key (the original
// leaked it in describe_blockchain), not a wallet key a client sent to
// sign with, and no full card number.
func TestNoPrivateKeyLeaks(t *testing.T) {
	ta := startAPI(t)
	n := ta.node
	minerKey := chain.EncodePrivateKey(testKey(t, 0))
	walletKey := chain.EncodePrivateKey(testKey(t, 1))
	const cardNumber = "4387729175443174"
	a1, a2 := string(addr(t, 1)), string(addr(t, 2))

	// The session: every compat route, every v1 route, the stream,
	// metrics, probes and the dashboard.
	ta.compat("GET", "/status", nil, nil)
	ta.compat("GET", "/create_key", map[string]any{}, nil)
	ta.compat("POST", "/add_to_pending_transactions", map[string]any{
		"from_address": a1, "to_address": a1, "from_private_key": walletKey, "amount": 100,
		"is_credit_card": true, "credit_card_cc_number": cardNumber, "credit_card_cc_date": "2099-08-31",
		"credit_card_cc_pict": "302", "credit_card_cc_name": "John Doe"}, nil)
	mineUntil(t, n, "the card purchase is confirmed", func() bool { return n.Chain().Balance(addr(t, 1)) == 100 })
	ta.compat("POST", "/add_to_pending_transactions", map[string]any{
		"from_address": a1, "to_address": a2, "from_private_key": walletKey, "amount": 10}, nil)
	// A rejected attempt echoes nothing of the key either.
	ta.do("POST", "/add_to_pending_transactions", "application/json", jsonBody(t, map[string]any{
		"from_address": a2, "to_address": a1, "from_private_key": walletKey, "amount": 10}))
	ta.compat("GET", "/get_wallets", nil, nil)
	ta.compat("GET", "/describe_network", nil, nil)
	ta.compat("POST", "/start_mining", nil, nil)
	ta.compat("POST", "/stop_mining", nil, nil)
	ta.compat("GET", "/is_mining", nil, nil)
	ta.compat("POST", "/register-and-broadcast-nodes", map[string]string{"nodeUrl": "http://127.0.0.1:3002"}, nil)
	ta.compat("POST", "/register-node", map[string]string{"nodeUrl": "http://127.0.0.1:3003"}, nil)
	ta.compat("POST", "/register-all-nodes", map[string]any{"network_nodes": []string{"http://127.0.0.1:3002"}}, nil)
	ta.compat("GET", "/get_blockchain", nil, nil)
	ta.compat("GET", "/describe_blockchain", nil, nil)
	ta.compat("GET", "/blockchain_id", nil, nil)
	ta.compat("GET", "/balance_for", map[string]string{"wallet": a1}, nil)
	ta.compat("POST", "/update_miner_pause", map[string]any{"pause": 1}, nil)
	ta.compat("GET", "/get_miner_pause", nil, nil)

	var txs struct {
		Transactions []chain.Tx `json:"transactions"`
	}
	ta.v1("GET", "/mempool", nil, 200, &txs)
	if len(txs.Transactions) != 1 {
		t.Fatalf("mempool: %d transactions", len(txs.Transactions))
	}
	spend, err := chain.NewTransfer(testKey(t, 1), addr(t, 3), 5, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/", nil, 200}, {"GET", "/openapi.json", nil, 200}, {"GET", "/node", nil, 200}, {"GET", "/peers", nil, 200},
		{"GET", "/chain?limit=500", nil, 200}, {"GET", "/blocks/1", nil, 200}, {"GET", "/blocks/" + n.Chain().Tip().Hash.String(), nil, 200},
		{"GET", "/txs/" + txs.Transactions[0].ID, nil, 200}, {"POST", "/txs", spend, 202}, {"GET", "/mempool", nil, 200},
		{"GET", "/balances/" + a1, nil, 200}, {"POST", "/keys", nil, 201}, {"GET", "/miner", nil, 200},
		{"POST", "/miner/start", nil, 200}, {"POST", "/miner/stop", nil, 200}, {"PUT", "/miner/pause", map[string]any{"pause": 1}, 200},
		{"PUT", "/miner/hashrate", map[string]any{"hash_rate": 0}, 200},
		{"PUT", "/node/isolation", map[string]any{"seconds": 5}, 200}, {"GET", "/node/isolation", nil, 200},
		{"DELETE", "/node/isolation", nil, 200},
	} {
		ta.v1(c.method, c.path, c.body, c.status, nil)
	}
	ta.do("GET", "/metrics", "", "")
	ta.do("GET", "/healthz", "", "")
	ta.do("GET", "/readyz", "", "")
	ta.do("GET", "/", "", "")
	ta.do("HEAD", "/", "", "")
	ta.do("GET", "/assets/js/api.js", "", "")
	ta.do("HEAD", "/assets/js/api.js", "", "")
	ta.recordStream(t, "GET /api/v1/events")
	ta.recordTap(t) // lab_test.go

	// Every route was called.
	err = chi.Walk(newRouter(nodeConfig(n)), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		re := regexp.MustCompile("^" + method + " " + strings.NewReplacer("{id}", "[^/?]+", "{address}", "[^/?]+", "/*", "/.*").Replace(route) + `(\?.*)?$`)
		for _, r := range ta.responses {
			if re.MatchString(r.route) {
				return nil
			}
		}
		t.Errorf("the session did not call %s %s", method, route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	generated := 0
	for _, r := range ta.responses {
		keyGen := r.route == "GET /create_key" || r.route == "POST /api/v1/keys"
		body := string(r.body)
		if keyGen && privateField.MatchString(body) {
			generated++ // the check below would see a key if one leaked
		}
		for what, secret := range map[string]string{"the miner's private key": minerKey, "a wallet's private key": walletKey, "a card number": cardNumber} {
			if strings.Contains(body, secret) {
				t.Errorf("%s: response contains %s", r.route, what)
			}
		}
		if !keyGen && (strings.Contains(body, "PRIVATE KEY") || privateField.MatchString(body)) {
			t.Errorf("%s: response holds a private key (PEM or a hex private field)", r.route)
		}
	}
	if generated != 2 {
		t.Errorf("the key generators' answers hold %d private keys, want 2", generated)
	}
}

// privateField is a JSON field that carries a hex private key.
var privateField = regexp.MustCompile(`"private(_key)?"\s*:\s*"[0-9a-f]{64,}"`)

// recordStream reads the event stream while a transaction and a block
// flow, and records what was sent.
func (ta *testAPI) recordStream(t *testing.T, route string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ta.srv.URL+"/api/v1/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	pr, pw := io.Pipe()
	ch := make(chan sseEvent, 256)
	go readSSE(pr, ch)
	var buf strings.Builder
	go func() { _, err := io.Copy(io.MultiWriter(pw, &buf), res.Body); pw.CloseWithError(err) }()
	tx := signedMint(t, 5, 3)
	if err := ta.node.SubmitTx(&tx); err != nil {
		t.Fatal(err)
	}
	ta.node.Miner().Start()
	waitSSE(t, ch, 10*time.Second, "a block event", func(e sseEvent) bool { return e.name == "block" })
	ta.node.Miner().Stop()
	cancel()
	for range ch {
	}
	ta.mu.Lock()
	ta.responses = append(ta.responses, recorded{route: route, body: []byte(buf.String())})
	ta.mu.Unlock()
}
