package httpapi

import (
	"encoding/json"
	"github.com/pycotr/pycotr/internal/testkit"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// keysOf returns an object's keys, sorted.
func keysOf(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sorted(s ...string) []string { sort.Strings(s); return s }

// TestCompatFrontendFlow drives the original routes as the frontend does:
// a new key, a card purchase, a block, a transfer, a block, balances, the
// explorer's views and the miner controls.
func TestCompatFrontendFlow(t *testing.T) {
	ta := startAPI(t)
	n := ta.node

	var status struct {
		Status     string `json:"status"`
		Mining     bool   `json:"mining"`
		MinerPause int    `json:"miner_pause"`
	}
	ta.compat("GET", "/status", nil, &status)
	if status.Status != "started" || status.Mining {
		t.Fatalf("status %+v", status)
	}

	// create_key: the frontend sends a GET with a JSON body.
	var key struct{ Private, Public string }
	ta.compat("GET", "/create_key", map[string]any{}, &key)
	k, err := chain.ParsePrivateKey(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	if k.N.BitLen() != chain.KeyBits || string(chain.AddressOf(&k.PublicKey)) != key.Public {
		t.Fatalf("create_key: %d bits, public matches private: %v", k.N.BitLen(), string(chain.AddressOf(&k.PublicKey)) == key.Public)
	}

	// A card purchase, numbers as the forms send them (strings), the CVV
	// as a number, the card number with spaces and dashes.
	var added struct {
		TransactionID string `json:"transaction_id"`
		Amount        int64  `json:"amount"`
	}
	msg := ta.compat("POST", "/add_to_pending_transactions", map[string]any{
		"from_address": key.Public, "to_address": key.Public, "from_private_key": key.Private,
		"amount": "122", "is_credit_card": true, "credit_card_cc_number": "4387-7291 7544 3174",
		"credit_card_cc_date": "2099-08-31", "credit_card_cc_pict": 302, "credit_card_cc_name": "John Doe",
		"no_forward_transaction": true,
	}, &added)
	if msg != "Credit Card Transaction added" || added.Amount != 122 || added.TransactionID == "" {
		t.Fatalf("card purchase: %q %+v", msg, added)
	}
	mineUntil(t, n, "the card purchase is confirmed", func() bool { return confirmed(n, added.TransactionID) })
	var bal int64
	ta.compat("GET", "/balance_for", map[string]string{"wallet": key.Public}, &bal)
	if bal != 122 {
		t.Fatalf("balance after the card purchase: %d", bal)
	}

	// A transfer with a fee and a client-chosen id in upper case (Python's
	// uuid.UUID accepted it): after a block, the balances differ by it.
	to := string(addr(t, 3))
	msg = ta.compat("POST", "/add_to_pending_transactions", map[string]any{
		"from_address": key.Public, "to_address": to, "from_private_key": key.Private,
		"amount": 22, "attached_fee": "1", "transaction_id": "6F1C7E0A-3B5D-4C8E-9A2B-1D3E5F7A9C0B",
	}, &added)
	if msg != "Transaction added" || added.TransactionID != "6f1c7e0a-3b5d-4c8e-9a2b-1d3e5f7a9c0b" || added.Amount != 22 {
		t.Fatalf("transfer: %q %+v", msg, added)
	}
	mineUntil(t, n, "the transfer is confirmed", func() bool { return confirmed(n, added.TransactionID) })
	var from, got int64
	ta.compat("GET", "/balance_for", map[string]string{"wallet": key.Public}, &from)
	ta.compat("GET", "/balance_for", map[string]string{"wallet": to}, &got)
	if from != 122-22-1 || got != 22 {
		t.Fatalf("balances after the transfer: sender %d, recipient %d", from, got)
	}

	var wallets []string
	ta.compat("GET", "/get_wallets", map[string]any{}, &wallets)
	for _, w := range []string{key.Public, to, string(n.Miner().Address())} {
		if !slices.Contains(wallets, w) {
			t.Errorf("get_wallets lacks %.16s…", w)
		}
	}

	checkDescribeBlockchain(t, ta, key.Public, to)

	// get_blockchain: the same chain, encoded as a JSON string.
	var s string
	ta.compat("GET", "/get_blockchain", nil, &s)
	var doubled compatChain
	if err := json.Unmarshal([]byte(s), &doubled); err != nil {
		t.Fatalf("get_blockchain result is not a JSON string of the chain: %v", err)
	}
	if doubled.ID != n.ID() || uint64(len(doubled.Chain)) != n.Chain().Height()+1 {
		t.Errorf("get_blockchain: id %s, %d blocks", doubled.ID, len(doubled.Chain))
	}

	var id string
	ta.compat("GET", "/blockchain_id", nil, &id)
	if id != n.ID() {
		t.Errorf("blockchain_id %q, want %q", id, n.ID())
	}

	// Miner controls.
	var mining bool
	if m := ta.compat("POST", "/start_mining", nil, nil); m != "Miner started" {
		t.Errorf("start_mining: %q", m)
	}
	ta.compat("GET", "/is_mining", nil, &mining)
	if !mining || !n.Miner().Mining() {
		t.Error("is_mining false after start_mining")
	}
	if m := ta.compat("POST", "/stop_mining", nil, nil); m != "Miner stopped" {
		t.Errorf("stop_mining: %q", m)
	}
	ta.compat("GET", "/is_mining", nil, &mining)
	if mining {
		t.Error("is_mining true after stop_mining")
	}
	if m := ta.compat("POST", "/update_miner_pause", map[string]any{"pause": "7"}, nil); m != "Miner pause updated with: 7" {
		t.Errorf("update_miner_pause: %q", m)
	}
	var pause int
	ta.compat("GET", "/get_miner_pause", nil, &pause)
	ta.compat("GET", "/status", nil, &status)
	var network struct {
		URL        string   `json:"url"`
		OtherNodes []string `json:"other_nodes"`
		Pause      int      `json:"pause"`
	}
	ta.compat("GET", "/describe_network", nil, &network)
	if pause != 7 || status.MinerPause != 7 || network.Pause != 7 || n.Miner().Pause() != 7*time.Second {
		t.Errorf("pause: get_miner_pause %d, status %d, describe_network %d, node %s", pause, status.MinerPause, network.Pause, n.Miner().Pause())
	}

	// Registration: the exact messages of the original.
	if m := ta.compat("POST", "/register-node", map[string]string{"nodeUrl": "http://10.0.0.9:3009"}, nil); m != "Node registered: http://10.0.0.9:3009" {
		t.Errorf("register-node: %q", m)
	}
	if m := ta.compat("POST", "/register-and-broadcast-nodes", map[string]string{"nodeUrl": "http://10.0.0.8:3008"}, nil); m != "Node added and broadcast: http://10.0.0.8:3008" {
		t.Errorf("register-and-broadcast-nodes: %q", m)
	}
	if m := ta.compat("POST", "/register-all-nodes", map[string]any{"network_nodes": []string{"http://10.0.0.7:3007", "http://10.0.0.9:3009"}}, nil); m != "Nodes all registered: ['http://10.0.0.7:3007', 'http://10.0.0.9:3009']" {
		t.Errorf("register-all-nodes: %q", m)
	}
	ta.compat("GET", "/describe_network", nil, &network)
	if network.URL != n.PublicURL() || !slices.Equal(sorted(network.OtherNodes...), sorted("http://10.0.0.7:3007", "http://10.0.0.8:3008", "http://10.0.0.9:3009")) {
		t.Errorf("describe_network %+v", network)
	}
}

// checkDescribeBlockchain checks describe_blockchain's shape field by
// field against the node's chain.
func checkDescribeBlockchain(t *testing.T, ta *testAPI, cardWallet, recipient string) {
	t.Helper()
	n := ta.node
	var raw json.RawMessage
	ta.compat("GET", "/describe_blockchain", map[string]any{}, &raw)
	if got, want := keysOf(t, raw), sorted("id", "source_blockchain_id", "chain", "pool_transactions", "difficulty", "mining_reward_amount"); !slices.Equal(got, want) {
		t.Fatalf("describe_blockchain keys %v, want %v", got, want)
	}
	var d struct {
		ID                 string            `json:"id"`
		SourceBlockchainID string            `json:"source_blockchain_id"`
		Chain              []json.RawMessage `json:"chain"`
		PoolTransactions   []json.RawMessage `json:"pool_transactions"`
		Difficulty         uint32            `json:"difficulty"`
		MiningRewardAmount int64             `json:"mining_reward_amount"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != n.ID() || d.SourceBlockchainID != n.ID() || d.Difficulty != 8 || d.MiningRewardAmount != 10 || d.PoolTransactions == nil {
		t.Errorf("describe_blockchain: id %s source %s difficulty %d reward %d pool %v", d.ID, d.SourceBlockchainID, d.Difficulty, d.MiningRewardAmount, d.PoolTransactions)
	}
	if uint64(len(d.Chain)) != n.Chain().Height()+1 {
		t.Fatalf("%d blocks, height %d", len(d.Chain), n.Chain().Height())
	}
	blockKeys := sorted("index", "nonce", "timestamp", "previous_hash", "hash", "transactions")
	txKeys := sorted("uuid", "type", "amount", "attached_fee", "from_address", "to_address", "signature", "reward",
		"credit_card", "credit_card_cc_number", "credit_card_cc_date", "credit_card_cc_pict", "credit_card_cc_name")
	seen := map[string]bool{}
	for i, rb := range d.Chain {
		if got := keysOf(t, rb); !slices.Equal(got, blockKeys) {
			t.Fatalf("block %d keys %v, want %v", i, got, blockKeys)
		}
		var b struct {
			Index        uint64            `json:"index"`
			Nonce        uint64            `json:"nonce"`
			Timestamp    string            `json:"timestamp"`
			PreviousHash string            `json:"previous_hash"`
			Hash         string            `json:"hash"`
			Transactions []json.RawMessage `json:"transactions"`
		}
		if err := json.Unmarshal(rb, &b); err != nil {
			t.Fatal(err)
		}
		want, _ := n.Chain().BlockAt(uint64(i))
		ts, err := time.Parse(time.RFC3339Nano, b.Timestamp)
		if b.Index != uint64(i) || b.Hash != want.Hash().String() || b.PreviousHash != want.Header.PrevHash.String() ||
			b.Nonce != want.Header.Nonce || err != nil || ts.UnixMilli() != want.Header.Timestamp || len(b.Transactions) != len(want.Txs) {
			t.Errorf("block %d: %s", i, rb)
		}
		for j, rt := range b.Transactions {
			if got := keysOf(t, rt); !slices.Equal(got, txKeys) {
				t.Fatalf("block %d tx %d keys %v, want %v", i, j, got, txKeys)
			}
			var tx map[string]any
			if err := json.Unmarshal(rt, &tx); err != nil {
				t.Fatal(err)
			}
			wt := want.Txs[j]
			for _, f := range []string{"uuid", "type", "from_address", "to_address", "signature", "credit_card_cc_number", "credit_card_cc_date", "credit_card_cc_pict", "credit_card_cc_name"} {
				if _, ok := tx[f].(string); !ok {
					t.Errorf("block %d tx %d: %s is %T, want a string", i, j, f, tx[f])
				}
			}
			if tx["uuid"] != wt.ID || tx["amount"] != float64(wt.Amount) || tx["attached_fee"] != float64(wt.Fee) ||
				tx["to_address"] != string(wt.To) || tx["from_address"] != string(wt.From) || tx["signature"] != wt.Signature ||
				tx["reward"] != (wt.Type == chain.TxReward) || tx["credit_card"] != (wt.Type == chain.TxMint) || tx["credit_card_cc_pict"] != "" {
				t.Errorf("block %d tx %d: %s", i, j, rt)
			}
			switch wt.Type {
			case chain.TxReward:
				seen["reward"] = true
				if tx["from_address"] != "" || tx["credit_card_cc_number"] != "" {
					t.Errorf("reward: %s", rt)
				}
			case chain.TxMint:
				seen["mint"] = true
				if tx["to_address"] != cardWallet || tx["credit_card_cc_number"] != "************3174" ||
					tx["credit_card_cc_date"] != "2099-08-31" || tx["credit_card_cc_name"] != "" { // the holder is not kept
					t.Errorf("card purchase: %s", rt)
				}
			case chain.TxTransfer:
				seen["transfer"] = true
				if tx["from_address"] != cardWallet || tx["to_address"] != recipient || tx["amount"] != 22.0 || tx["attached_fee"] != 1.0 {
					t.Errorf("transfer: %s", rt)
				}
			}
		}
	}
	if !seen["reward"] || !seen["mint"] || !seen["transfer"] {
		t.Errorf("kinds of transaction seen: %v", seen)
	}
}

// TestCompatDescribeNetworkCluster: on three nodes sharing a NATS server,
// each node's describe_network lists exactly the two others' public URLs,
// before and after the frontend's registration calls.
func TestCompatDescribeNetworkCluster(t *testing.T) {
	srv := startServer(t)
	var apis []*testAPI
	var urls []string
	for i := range 3 {
		ta := newTestAPI(t, startNode(t, srv, i), nil)
		apis = append(apis, ta)
		urls = append(urls, ta.node.PublicURL())
	}
	others := func(i int) []string {
		var o []string
		for j, u := range urls {
			if j != i {
				o = append(o, u)
			}
		}
		return sorted(o...)
	}
	type network struct {
		URL        string   `json:"url"`
		OtherNodes []string `json:"other_nodes"`
		Pause      int      `json:"pause"`
	}
	for i, ta := range apis {
		testkit.Eventually(t, 5*time.Second, "presence fills describe_network", func() bool {
			var nw network
			ta.compat("GET", "/describe_network", nil, &nw)
			return nw.URL == urls[i] && slices.Equal(sorted(nw.OtherNodes...), others(i))
		})
	}
	for i, ta := range apis {
		for _, u := range others(i) {
			ta.compat("POST", "/register-and-broadcast-nodes", map[string]string{"nodeUrl": u}, nil)
		}
		var nw network
		ta.compat("GET", "/describe_network", nil, &nw)
		if nw.URL != urls[i] || !slices.Equal(sorted(nw.OtherNodes...), others(i)) {
			t.Errorf("node %d after registration: %+v", i+1, nw)
		}
	}

	// The explorer compares source_blockchain_id with each blockchain_id:
	// after node 1 mines, the others' chains come from node 1.
	n1 := apis[0].node
	mineUntil(t, n1, "every node adopts node 1's block", func() bool {
		h := n1.Chain().Height()
		return h > 0 && apis[1].node.Chain().Height() >= h && apis[2].node.Chain().Height() >= h
	})
	for _, ta := range apis[1:] {
		var d struct {
			SourceBlockchainID string `json:"source_blockchain_id"`
		}
		testkit.Eventually(t, 5*time.Second, "source_blockchain_id names node 1", func() bool {
			ta.compat("GET", "/describe_blockchain", nil, &d)
			return d.SourceBlockchainID == n1.ID()
		})
	}
	res := apis[0].do("GET", "/describe_network", "", "")
	if res.status != http.StatusOK {
		t.Fatal(res.status)
	}
}
