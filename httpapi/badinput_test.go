package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pycotr/pycotr/chain"
)

// nodeSnapshot is what bad input must leave alone.
type nodeSnapshot struct {
	tip      chain.Hash
	mempool  int
	balances []int64
	pause    string
	peers    []string
	mining   bool
}

func snapshot(fa *fakeAPI, wallets ...chain.Address) nodeSnapshot {
	count, _ := fa.chain.MempoolStats()
	s := nodeSnapshot{tip: fa.chain.Tip().Hash, mempool: count, pause: fa.miner.Pause().String(), peers: fa.peers.URLs(), mining: fa.miner.Mining()}
	for _, w := range wallets {
		s.balances = append(s.balances, fa.chain.Balance(w))
	}
	return s
}

// TestBadInput sends malformed, ill-typed, oversized, unauthorised and
// rule-breaking requests to compat and v1 routes: each gets its honest
// status in its route's error format, and nothing changes on the node.
// The node is a fake over an in-memory chain: no NATS.
func TestBadInput(t *testing.T) {
	const maxBody = 4096
	ta := newFakeAPI(t, func(c *Config) { c.MaxBodyBytes = maxBody })
	n := ta.fake
	k1, k2 := testKey(t, 1), testKey(t, 2)
	a1, a2 := addr(t, 1), addr(t, 2)

	// Wallet 1 holds 100; one of its transfers is pending.
	mint := signedMint(t, 1, 100)
	if err := n.SubmitTx(&mint); err != nil {
		t.Fatal(err)
	}
	ta.mine(t, addr(t, 0))
	if _, st, _ := ta.chain.FindTx(mint.ID); st != chain.TxConfirmed {
		t.Fatal("the mint is not confirmed")
	}
	pending, err := chain.NewTransfer(k1, a2, 10, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitTx(&pending); err != nil {
		t.Fatal(err)
	}

	compatTx := func(over map[string]any) string {
		m := map[string]any{"from_address": string(a1), "to_address": string(a2),
			"from_private_key": chain.EncodePrivateKey(k1), "amount": 5}
		for k, v := range over {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return jsonBody(t, m)
	}
	card := func(over map[string]any) string {
		m := map[string]any{"to_address": string(a1), "is_credit_card": true, "credit_card_cc_number": "4111 1111 1111 1111",
			"credit_card_cc_date": "2099-12-31", "credit_card_cc_pict": "123", "credit_card_cc_name": "A B"}
		for k, v := range over {
			m[k] = v
		}
		return compatTx(m)
	}
	signed := func(mutate func(tx *chain.Tx), after func(tx *chain.Tx)) string {
		tx := chain.Tx{Type: chain.TxTransfer, ID: chain.NewTxID(), From: a1, To: a2, Amount: 5}
		if mutate != nil {
			mutate(&tx)
		}
		if err := tx.Sign(k1); err != nil {
			t.Fatal(err)
		}
		if after != nil {
			after(&tx)
		}
		return jsonBody(t, tx)
	}
	const js = "application/json"
	big := `{"pad":"` + strings.Repeat("x", maxBody) + `"}`

	cases := []struct {
		name, method, path, ctype, body string
		chunked                         bool
		status                          int
		code                            string // v1 problem code, when checked
	}{
		// Compatibility: decoding and types.
		{"compat malformed JSON", "POST", "/add_to_pending_transactions", js, `{"from_address":`, false, 400, ""},
		{"compat body is an array", "POST", "/add_to_pending_transactions", js, `[1,2]`, false, 400, ""},
		{"compat body is null", "POST", "/add_to_pending_transactions", js, `null`, false, 400, ""},
		{"compat no body", "POST", "/add_to_pending_transactions", js, ``, false, 400, ""},
		{"compat wrong content type", "POST", "/add_to_pending_transactions", "text/plain", compatTx(nil), false, 415, ""},
		{"compat no content type on POST", "POST", "/add_to_pending_transactions", "", compatTx(nil), false, 415, ""},
		{"compat oversized body", "POST", "/add_to_pending_transactions", js, big, false, 413, ""},
		{"compat oversized chunked body", "POST", "/add_to_pending_transactions", js, big, true, 413, ""},
		{"compat missing from_address", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"from_address": nil}), false, 400, ""},
		{"compat missing amount", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": nil}), false, 400, ""},
		{"compat amount not numeric", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": "12abc"}), false, 400, ""},
		{"compat amount a bool", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": true}), false, 400, ""},
		{"compat amount a fraction", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": 1.5}), false, 400, ""},
		{"compat amount an object", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": map[string]int{"v": 1}}), false, 400, ""},
		{"compat from_address a number", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"from_address": 42}), false, 400, ""},
		// Compatibility: keys, rules, conflicts.
		{"compat negative amount", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": -5}), false, 422, ""},
		{"compat zero amount", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": "0"}), false, 422, ""},
		{"compat negative fee", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"attached_fee": -1}), false, 422, ""},
		{"compat private key not hex", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"from_private_key": "zz"}), false, 400, ""},
		{"compat private key not DER", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"from_private_key": "abcd"}), false, 400, ""},
		{"compat key of another wallet", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"from_private_key": chain.EncodePrivateKey(k2)}), false, 422, ""},
		{"compat bad to_address hex", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"to_address": "xyz"}), false, 400, ""},
		{"compat transfer to self", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"to_address": string(a1)}), false, 422, ""},
		{"compat overspend", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"amount": 91}), false, 409, ""},
		{"compat replayed confirmed id", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"transaction_id": mint.ID}), false, 409, ""},
		{"compat replayed pending id", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"transaction_id": pending.ID}), false, 409, ""},
		{"compat bad transaction_id", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"transaction_id": "not-a-uuid"}), false, 400, ""},
		{"compat is_credit_card not a bool", "POST", "/add_to_pending_transactions", js, compatTx(map[string]any{"is_credit_card": "maybe"}), false, 400, ""},
		{"compat card expired", "POST", "/add_to_pending_transactions", js, card(map[string]any{"credit_card_cc_date": "2020-01-31"}), false, 422, ""},
		{"compat card bad Luhn", "POST", "/add_to_pending_transactions", js, card(map[string]any{"credit_card_cc_number": "4111 1111 1111 1112"}), false, 422, ""},
		{"compat card short CVV", "POST", "/add_to_pending_transactions", js, card(map[string]any{"credit_card_cc_pict": "12"}), false, 400, ""},
		{"compat card missing CVV", "POST", "/add_to_pending_transactions", js, card(map[string]any{"credit_card_cc_pict": nil}), false, 400, ""},
		{"compat card date not ISO", "POST", "/add_to_pending_transactions", js, card(map[string]any{"credit_card_cc_date": "31/08/2027"}), false, 400, ""},
		{"compat card to another wallet", "POST", "/add_to_pending_transactions", js, card(map[string]any{"to_address": string(a2)}), false, 422, ""},
		{"compat balance_for no body", "GET", "/balance_for", "", ``, false, 400, ""},
		{"compat balance_for bad wallet", "GET", "/balance_for", js, `{"wallet":"nothex"}`, false, 400, ""},
		{"compat balance_for wallet a number", "GET", "/balance_for", js, `{"wallet":5}`, false, 400, ""},
		{"compat balance_for malformed JSON", "GET", "/balance_for", js, `{wallet}`, false, 400, ""},
		{"compat field sent twice", "GET", "/balance_for", js, `{"wallet":"ab","wallet":"cd"}`, false, 400, ""},
		{"compat get_wallets malformed JSON", "GET", "/get_wallets", js, `{`, false, 400, ""},
		{"compat create_key wrong content type", "GET", "/create_key", "text/xml", `<a/>`, false, 415, ""},
		{"compat pause not numeric", "POST", "/update_miner_pause", js, `{"pause":"abc"}`, false, 400, ""},
		{"compat pause negative", "POST", "/update_miner_pause", js, `{"pause":-1}`, false, 422, ""},
		{"compat pause missing", "POST", "/update_miner_pause", js, `{}`, false, 400, ""},
		{"compat register-node missing url", "POST", "/register-node", js, `{}`, false, 400, ""},
		{"compat register-node not a URL", "POST", "/register-node", js, `{"nodeUrl":"not a url"}`, false, 400, ""},
		{"compat register-node url a number", "POST", "/register-and-broadcast-nodes", js, `{"nodeUrl":3001}`, false, 400, ""},
		{"compat register-all not a list", "POST", "/register-all-nodes", js, `{"network_nodes":"http://a:1"}`, false, 400, ""},
		{"compat register-all a bad URL", "POST", "/register-all-nodes", js, `{"network_nodes":["http://a:1","ftp://b"]}`, false, 400, ""},
		{"compat unknown route", "GET", "/nope", "", ``, false, 404, ""},
		{"compat wrong method", "GET", "/add_to_pending_transactions", "", ``, false, 405, ""},
		{"compat wrong method on status", "POST", "/status", "", ``, false, 405, ""},
		// v1.
		{"v1 malformed JSON", "POST", "/api/v1/txs", js, `{"type":`, false, 400, codeMalformedJSON},
		{"v1 no body", "POST", "/api/v1/txs", js, ``, false, 400, codeMissingArgument},
		{"v1 unknown field", "POST", "/api/v1/txs", js, `{"type":"transfer","bogus":1}`, false, 400, codeBadArgument},
		{"v1 trailing data", "POST", "/api/v1/txs", js, signed(nil, nil) + `{}`, false, 400, codeMalformedJSON},
		{"v1 amount as a string", "POST", "/api/v1/txs", js, `{"type":"transfer","amount":"5"}`, false, 400, codeBadArgument},
		{"v1 wrong content type", "POST", "/api/v1/txs", "text/plain", signed(nil, nil), false, 415, codeUnsupportedMedia},
		{"v1 oversized body", "POST", "/api/v1/txs", js, big, false, 413, codeBodyTooLarge},
		{"v1 oversized chunked body", "POST", "/api/v1/txs", js, big, true, 413, codeBodyTooLarge},
		{"v1 wrong signature", "POST", "/api/v1/txs", js, signed(nil, func(tx *chain.Tx) { tx.Amount = 6 }), false, 422, "bad-signature"},
		{"v1 signature not hex", "POST", "/api/v1/txs", js, signed(nil, func(tx *chain.Tx) { tx.Signature = "zz" }), false, 400, "bad-signature-encoding"},
		// a2 holds nothing: funds are checked before the signature
		{"v1 signed by another key", "POST", "/api/v1/txs", js, signed(func(tx *chain.Tx) { tx.From = a2; tx.To = a1 }, nil), false, 409, "insufficient-funds"},
		{"v1 overspend", "POST", "/api/v1/txs", js, signed(func(tx *chain.Tx) { tx.Amount = 91 }, nil), false, 409, "insufficient-funds"},
		{"v1 replayed pending id", "POST", "/api/v1/txs", js, signed(func(tx *chain.Tx) { tx.ID = pending.ID }, nil), false, 409, "already-pending"},
		{"v1 replayed confirmed id", "POST", "/api/v1/txs", js, signed(func(tx *chain.Tx) { tx.ID = mint.ID }, nil), false, 409, "duplicate-tx"},
		{"v1 negative amount", "POST", "/api/v1/txs", js, signed(func(tx *chain.Tx) { tx.Amount = -1 }, nil), false, 422, "bad-amount"},
		{"v1 reward from a client", "POST", "/api/v1/txs", js, jsonBody(t, chain.NewReward(1, chain.Hash{}, a1, 10)), false, 422, "reward-in-mempool"},
		{"v1 unknown type", "POST", "/api/v1/txs", js, signed(func(tx *chain.Tx) { tx.Type = "gift" }, nil), false, 400, "unknown-tx-type"},
		{"v1 block id not hex", "GET", "/api/v1/blocks/" + strings.Repeat("z", 64), "", ``, false, 400, codeBadArgument},
		{"v1 block id neither", "GET", "/api/v1/blocks/tip", "", ``, false, 400, codeBadArgument},
		{"v1 block height unknown", "GET", "/api/v1/blocks/999999", "", ``, false, 404, codeNotFound},
		{"v1 block hash unknown", "GET", "/api/v1/blocks/" + strings.Repeat("ab", 32), "", ``, false, 404, codeNotFound},
		{"v1 tx unknown", "GET", "/api/v1/txs/" + chain.NewTxID(), "", ``, false, 404, codeNotFound},
		{"v1 balance bad address", "GET", "/api/v1/balances/nothex", "", ``, false, 400, "bad-address"},
		{"v1 chain limit 0", "GET", "/api/v1/chain?limit=0", "", ``, false, 400, codeBadArgument},
		{"v1 chain limit too large", "GET", "/api/v1/chain?limit=501", "", ``, false, 400, codeBadArgument},
		{"v1 chain from negative", "GET", "/api/v1/chain?from=-1", "", ``, false, 400, codeBadArgument},
		{"v1 pause as a string", "PUT", "/api/v1/miner/pause", js, `{"pause":"5"}`, false, 400, codeBadArgument},
		{"v1 pause negative", "PUT", "/api/v1/miner/pause", js, `{"pause":-1}`, false, 422, codeBadPause},
		{"v1 pause too long", "PUT", "/api/v1/miner/pause", js, `{"pause":1e9}`, false, 422, codeBadPause},
		{"v1 pause unknown field", "PUT", "/api/v1/miner/pause", js, `{"pause":5,"mode":"race"}`, false, 400, codeBadArgument},
		{"v1 pause missing", "PUT", "/api/v1/miner/pause", js, `{}`, false, 400, codeMissingArgument},
		{"v1 hash rate negative", "PUT", "/api/v1/miner/hashrate", js, `{"hash_rate":-5}`, false, 422, codeBadHashRate},
		{"v1 hash rate as a string", "PUT", "/api/v1/miner/hashrate", js, `{"hash_rate":"5"}`, false, 400, codeBadArgument},
		{"v1 hash rate missing", "PUT", "/api/v1/miner/hashrate", js, `{}`, false, 400, codeMissingArgument},
		{"v1 unknown route", "GET", "/api/v1/nope", "", ``, false, 404, codeNotFound},
		{"v1 wrong method", "DELETE", "/api/v1/txs", "", ``, false, 405, codeMethodNotAllowed},
		{"v1 wrong method on pause", "POST", "/api/v1/miner/pause", js, `{"pause":5}`, false, 405, codeMethodNotAllowed},
	}

	wallets := []chain.Address{a1, a2, addr(t, 3), ta.miner.Address()}
	before := snapshot(ta, wallets...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
				if tc.chunked {
					body = io.MultiReader(body) // unknown length: sent chunked
				}
			}
			req, err := http.NewRequest(tc.method, ta.srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			res, err := ta.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
			}
			if tc.status == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if strings.HasPrefix(tc.path, "/api/v1") {
				checkProblem(t, res, b, tc.status, tc.code)
			} else {
				checkCompatError(t, res, b)
			}
		})
	}
	if after := snapshot(ta, wallets...); !snapshotsEqual(before, after) {
		t.Errorf("bad input changed the node:\nbefore %+v\nafter  %+v", before, after)
	}
	if len(cases) < 30 {
		t.Errorf("%d cases, want at least 30", len(cases))
	}
}

func snapshotsEqual(a, b nodeSnapshot) bool {
	return a.tip == b.tip && a.mempool == b.mempool && slices.Equal(a.balances, b.balances) &&
		a.pause == b.pause && slices.Equal(a.peers, b.peers) && a.mining == b.mining
}

// checkProblem checks an RFC 9457 answer.
func checkProblem(t *testing.T, res *http.Response, b []byte, status int, code string) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("problem: %v: %s", err, b)
	}
	if p.Status != status || p.Title == "" || p.Code == "" || p.Type != problemTypeBase+p.Code || (code != "" && p.Code != code) {
		t.Errorf("problem %+v, want status %d code %q", p, status, code)
	}
}

// checkCompatError checks the original's error envelope.
func checkCompatError(t *testing.T, res *http.Response, b []byte) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var env map[string]any
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("envelope: %v: %s", err, b)
	}
	if msg, _ := env["error"].(string); len(env) != 2 || env["status"] != "error" || msg == "" {
		t.Errorf("envelope %s", b)
	}
}
