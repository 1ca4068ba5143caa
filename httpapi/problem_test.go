package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pycotr/pycotr/chain"
)

// TestProblemMapping: whatever error the node's submit path returns, the
// API answers with the one kind→status table (problem.go), in the style
// of the route, and never shows an internal error's text.
func TestProblemMapping(t *testing.T) {
	fa := newFakeAPI(t, nil)
	k1 := testKey(t, 1)
	// Wallet 1 can pay: the compat route checks funds before it signs.
	mint := signedMint(t, 1, 100)
	if err := fa.chain.AcceptTx(&mint); err != nil {
		t.Fatal(err)
	}
	fa.mine(t, addr(t, 0))
	tx, err := chain.NewTransfer(k1, addr(t, 2), 5, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	v1Body := jsonBody(t, tx)
	compatBody := jsonBody(t, map[string]any{"from_address": string(addr(t, 1)), "to_address": string(addr(t, 2)),
		"from_private_key": chain.EncodePrivateKey(k1), "amount": 5})

	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"malformed", chain.ErrBadAddress, 400, "bad-address"},
		{"invalid", chain.ErrBadSignature, 422, "bad-signature"},
		{"conflict", chain.ErrInsufficientFund, 409, "insufficient-funds"},
		{"conflict wrapped", fmt.Errorf("relay: %w", chain.ErrAlreadyPending), 409, "already-pending"},
		{"unavailable", chain.ErrMempoolFull, 503, "mempool-full"},
		{"internal", errors.New("disk on fire at /var/secret"), 500, codeInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fa.fake.SubmitTxFn = func(*chain.Tx) error { return tc.err }
			for _, route := range []struct{ path, body string }{{"/api/v1/txs", v1Body}, {"/add_to_pending_transactions", compatBody}} {
				req, err := http.NewRequest("POST", fa.srv.URL+route.path, strings.NewReader(route.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				res, err := fa.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != tc.status {
					t.Fatalf("%s: status %d, want %d: %s", route.path, res.StatusCode, tc.status, b)
				}
				if strings.HasPrefix(route.path, "/api/v1") {
					checkProblem(t, res, b, tc.status, tc.code)
				} else {
					checkCompatError(t, res, b)
				}
				if tc.status == 500 && strings.Contains(string(b), "secret") {
					t.Errorf("%s: internal error shown to the client: %s", route.path, b)
				}
			}
		})
	}
}
