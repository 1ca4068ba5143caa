package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pycotr/pycotr/chain"
)

type batchAnswer struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Results  []struct {
		ID     string   `json:"id"`
		Status string   `json:"status"`
		Error  *problem `json:"error"`
	} `json:"results"`
}

// POST /api/v1/txs with an array: each transaction judged on its own, in
// order; the answer has one result per transaction.
func TestV1SubmitBatch(t *testing.T) {
	ta := startAPI(t)
	n := ta.node
	a, b := signedMint(t, 4, 50), signedMint(t, 5, 70)
	badCard := withCard(signedMint(t, 6, 10))
	badCard.CardNumber = "4111 1111 1111 1112" // fails Luhn
	batch := []mintRequest{withCard(a), withCard(b), withCard(a), badCard}

	var got batchAnswer
	ta.v1("POST", "/txs", batch, http.StatusOK, &got)
	if got.Accepted != 2 || got.Rejected != 2 || len(got.Results) != 4 {
		t.Fatalf("answer %+v", got)
	}
	for i, want := range []struct{ id, status, code string }{
		{a.ID, "pending", ""}, {b.ID, "pending", ""},
		{a.ID, "rejected", chain.ErrAlreadyPending.Code}, {badCard.ID, "rejected", chain.ErrBadCardNumber.Code},
	} {
		r := got.Results[i]
		code := ""
		if r.Error != nil {
			code = r.Error.Code
			if r.Error.Status < 400 || r.Error.Detail == "" {
				t.Errorf("result %d: problem %+v", i, r.Error)
			}
		}
		if r.ID != want.id || r.Status != want.status || code != want.code {
			t.Errorf("result %d: %s %s %q, want %s %s %q", i, r.ID, r.Status, code, want.id, want.status, want.code)
		}
	}
	if count, _ := n.Chain().MempoolStats(); count != 2 {
		t.Errorf("mempool holds %d, want the 2 accepted", count)
	}
}

// A malformed batch is refused whole: nothing is submitted.
func TestV1SubmitBatchMalformed(t *testing.T) {
	ta := startAPI(t)
	one := jsonBody(t, withCard(signedMint(t, 4, 50)))
	for name, body := range map[string]string{
		"empty":       `[]`,
		"too many":    "[" + strings.TrimSuffix(strings.Repeat(one+",", maxSubmitBatch+1), ",") + "]",
		"unknown":     "[" + one + `,{"bogus":1}]`,
		"truncated":   "[" + one,
		"not objects": `[1,2]`,
		"trailing":    "[" + one + "] []",
	} {
		res := ta.do("POST", "/api/v1/txs", "application/json", body)
		if res.status != http.StatusBadRequest && res.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 400: %s", name, res.status, res.body)
		}
		if count, _ := ta.node.Chain().MempoolStats(); count != 0 {
			t.Fatalf("%s: the mempool holds %d after a refused batch", name, count)
		}
	}
}
