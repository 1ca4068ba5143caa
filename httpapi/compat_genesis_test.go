package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pycotr/pycotr/genesis"
)

// TestCompatFreshNetworkShowsGenesisTx: as on the original, a fresh
// network's genesis block holds one transaction (amount 0 to the network
// address), so before any block is mined /get_wallets lists one wallet and
// describe_blockchain shows block 0's transaction in the original's field
// layout.
func TestCompatFreshNetworkShowsGenesisTx(t *testing.T) {
	ta := startAPI(t)
	msg := testGenesis(t).Params.GenesisMessage
	network, id := string(genesis.NetworkAddress(msg)), genesis.TxID(msg)

	var wallets []string
	ta.compat("GET", "/get_wallets", nil, &wallets)
	if len(wallets) != 1 || wallets[0] != network {
		t.Fatalf("a fresh network's get_wallets = %d wallets %.24q, want the network address", len(wallets), wallets)
	}

	var d struct {
		Chain []struct {
			Index        uint64                       `json:"index"`
			Transactions []map[string]json.RawMessage `json:"transactions"`
		} `json:"chain"`
	}
	ta.compat("GET", "/describe_blockchain", nil, &d)
	if len(d.Chain) != 1 || d.Chain[0].Index != 0 || len(d.Chain[0].Transactions) != 1 {
		t.Fatalf("a fresh describe_blockchain: %+v", d.Chain)
	}
	tx := d.Chain[0].Transactions[0]
	want := map[string]string{
		"uuid": `"` + id + `"`, "type": `"reward"`, "amount": "0", "attached_fee": "0",
		"from_address": `""`, "to_address": `"` + network + `"`, "signature": `""`,
		"reward": "true", "credit_card": "false",
		"credit_card_cc_number": `""`, "credit_card_cc_date": `""`, "credit_card_cc_pict": `""`, "credit_card_cc_name": `""`,
	}
	if len(tx) != len(want) {
		t.Errorf("genesis tx has %d fields, want %d: %v", len(tx), len(want), keysOfMap(tx))
	}
	for k, v := range want {
		if got := string(tx[k]); got != v {
			t.Errorf("genesis tx %s = %.40s, want %.40s", k, got, v)
		}
	}

	var balance int64
	ta.compat("GET", "/balance_for", map[string]any{"wallet": network}, &balance)
	if balance != 0 {
		t.Errorf("network address balance = %d, want 0", balance)
	}
	if res := ta.do(http.MethodGet, "/api/v1/txs/"+id, "", ""); res.status != http.StatusOK {
		t.Errorf("GET /api/v1/txs/<genesis tx> = %d: %s", res.status, res.body)
	}
}

func keysOfMap(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
