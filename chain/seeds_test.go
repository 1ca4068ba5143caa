package chain

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWriteFuzzSeeds regenerates the committed seed corpora in
// testdata/fuzz when PYCOTR_WRITE_SEEDS=1; otherwise it is skipped.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("PYCOTR_WRITE_SEEDS") != "1" {
		t.Skip("set PYCOTR_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	k := exampleKey(t)
	a := AddressOf(&k.PublicKey)
	card := exampleCard(t)
	mintTx, err := NewMint(k, card, 250, 1, "5f0c2b9e-8a1d-4e7b-9c3f-2d6a1b0e4f77")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil)
	xfer, _ := NewTransfer(k, addr(1), 10, 2, "0d8a4c1e-2b3f-4a5c-8d9e-7f6a5b4c3d2e")
	reward := NewReward(a, 50)
	reward.ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	txSeeds := map[string]string{
		"valid_mint":       js(mintTx),
		"valid_transfer":   js(xfer),
		"valid_reward":     js(reward),
		"unknown_field":    strings.Replace(js(xfer), `"type"`, `"cvv":"123","type"`, 1),
		"bad_uuid":         strings.Replace(js(xfer), xfer.ID, strings.ToUpper(xfer.ID), 1),
		"negative_amount":  strings.Replace(js(xfer), `"amount":10`, `"amount":-10`, 1),
		"huge_amount":      strings.Replace(js(xfer), `"amount":10`, `"amount":9223372036854775807`, 1),
		"card_on_transfer": strings.Replace(js(xfer), `"signature"`, `"card":`+js(card)+`,"signature"`, 1),
		"garbage":          `{"type":`,
		"null":             `null`,
	}
	blk := h.build(h.gen, a, []Tx{mintTx}, nil)
	blockSeeds := map[string]string{
		"valid_block":   js(blk),
		"genesis":       js(h.gen),
		"no_coinbase":   `{"header":{"version":1,"height":1,"prev_hash":"` + h.gen.Hash().String() + `","merkle_root":"` + ZeroHash.String() + `","timestamp":1704067201000,"bits":0,"nonce":0},"transactions":[]}`,
		"bad_hash_hex":  `{"header":{"prev_hash":"zz"},"transactions":[]}`,
		"two_coinbases": strings.Replace(js(blk), `"transactions":[`, `"transactions":[`+js(reward)+`,`, 1),
		"unknown_field": `{"header":{},"transactions":[],"hash":"00"}`,
	}
	hdr := blk.Header.Encode()
	g := h.gen.Header.Encode()
	headerSeeds := map[string][]byte{
		"block_header":   hdr[:],
		"genesis_header": g[:],
		"short":          hdr[:95],
		"long":           append(hdr[:], 0),
		"empty":          {},
	}
	write := func(fuzz, name string, lit string) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n[]byte("+lit+")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n, s := range txSeeds {
		write("FuzzTxJSON", n, strconv.Quote(s))
	}
	for n, s := range blockSeeds {
		write("FuzzBlockJSON", n, strconv.Quote(s))
	}
	for n, b := range headerSeeds {
		write("FuzzHeaderDecode", n, fmt.Sprintf("%q", b))
	}
}
