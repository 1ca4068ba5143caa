package httpapi

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pycotr/pycotr/chain"
)

// TestV1StrictDecoding: v1 bodies are decoded as docs/PROTOCOL.md §2
// promises: exact member names, no duplicates, no unknown members.
func TestV1StrictDecoding(t *testing.T) {
	var submits atomic.Int64
	fa := newFakeAPI(t, nil)
	fa.fake.SubmitTxFn = func(*chain.Tx) error { submits.Add(1); return nil }
	tx, err := chain.NewTransfer(testKey(t, 1), addr(t, 2), 77, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	good := jsonBody(t, tx)
	if !strings.Contains(good, `"amount":77`) {
		t.Fatalf("unexpected encoding %s", good)
	}
	cases := []struct{ name, method, path, body string }{
		{"case variant and exact name", "POST", "/api/v1/txs", strings.Replace(good, `"amount":77`, `"AMOUNT":999999,"amount":77`, 1)},
		{"case variant alone", "POST", "/api/v1/txs", strings.Replace(good, `"amount":77`, `"Amount":77`, 1)},
		{"duplicate name", "POST", "/api/v1/txs", strings.Replace(good, `"amount":77`, `"amount":999999,"amount":77`, 1)},
		{"unknown name", "POST", "/api/v1/txs", strings.Replace(good, `"amount":77`, `"amount":77,"memo":"x"`, 1)},
		{"trailing data", "POST", "/api/v1/txs", good + ` {}`},
		{"pause: case variant", "PUT", "/api/v1/miner/pause", `{"Pause": 1}`},
		{"pause: duplicate", "PUT", "/api/v1/miner/pause", `{"pause": 1, "pause": 2}`},
		{"hashrate: case variant", "PUT", "/api/v1/miner/hashrate", `{"Hash_Rate": 5}`},
	}
	pause := fa.miner.Pause()
	for _, tc := range cases {
		res, hr := fa.doWith(tc.method, tc.path, tc.body, nil)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tc.name, res.status, res.body)
			continue
		}
		checkProblem(t, hr, res.body, 400, "")
	}
	if submits.Load() != 0 || fa.miner.Pause() != pause || fa.miner.HashRateLimit() != 0 {
		t.Errorf("refused bodies changed the node: %d submits, pause %s", submits.Load(), fa.miner.Pause())
	}
	if res, _ := fa.doWith("POST", "/api/v1/txs", good, nil); res.status != http.StatusAccepted || submits.Load() != 1 {
		t.Errorf("the exact body: %d %s", res.status, res.body)
	}
}
