package genesis

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
)

func TestDefaultLoadsAndStartsAChain(t *testing.T) {
	f, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if f.Params != chain.DefaultParams() {
		t.Fatalf("embedded params %+v differ from chain.DefaultParams", f.Params)
	}
	if f.Block.Header.Timestamp != Timestamp.UnixMilli() || !chain.MeetsBits(f.Hash, f.Params.Bits) {
		t.Fatal("genesis header")
	}
	c, err := f.NewChain(chain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.GenesisHash() != f.Hash || c.Height() != 0 || c.Tip().Hash != f.Hash {
		t.Fatal("chain does not start at the genesis")
	}
	if !bytes.Equal(Embedded(), embedded) {
		t.Fatal("Embedded")
	}
	g, err := Load("")
	if err != nil || g.Hash != f.Hash {
		t.Fatalf("Load(\"\"): %v", err)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	p := chain.DefaultParams()
	p.Bits = 8
	p.Network = "testnet"
	p.GenesisMessage = "hello"
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	a, err := Generate(context.Background(), p, at)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(context.Background(), p, at)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash || len(a.Block.Txs) != 1 || a.Block.Txs[0].ID != TxID("hello") ||
		a.Block.Header.MerkleRoot != a.Block.ComputeMerkleRoot() {
		t.Fatal("not deterministic")
	}
	data, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "g.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil || back.Hash != a.Hash || back.Params != p {
		t.Fatalf("Load: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("missing file loaded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Bits = 64
	if _, err := Generate(ctx, p, at); err == nil {
		t.Fatal("cancelled Generate succeeded")
	}
}

func TestParseRejects(t *testing.T) {
	good := string(Embedded())
	edits := map[string]func(string) string{
		"unknown field":    func(s string) string { return strings.Replace(s, `"params": {`, `"params": {"x": 1,`, 1) },
		"trailing garbage": func(s string) string { return "{" },
		"stale hash":       func(s string) string { return strings.Replace(s, `"hash": "0000`, `"hash": "0001`, 1) },
		"nonce changed":    func(s string) string { return strings.Replace(s, `"nonce": `, `"nonce": 1`, 1) },
		"bits differ":      func(s string) string { return strings.Replace(s, `"bits": 16,`, `"bits": 15,`, 1) },
		"message changed":  func(s string) string { return strings.Replace(s, "every chain", "any chain", 1) },
		"height 1":         func(s string) string { return strings.Replace(s, `"height": 0`, `"height": 1`, 1) },
		"version 2":        func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 2`, 1) },
		"zero reward":      func(s string) string { return strings.Replace(s, `"reward": 10`, `"reward": 0`, 1) },
		"empty network":    func(s string) string { return strings.Replace(s, `"network": "pycotr"`, `"network": ""`, 1) },
		"no block txs":     func(s string) string { return strings.Replace(s, `"max_block_txs": 2000`, `"max_block_txs": 0`, 1) },
		"no tx": func(s string) string {
			return s[:strings.Index(s, `"transactions": [`)] + `"transactions": []}, "hash": "` + s[strings.Index(s, `"hash": "`)+9:]
		},
		"genesis tx mints": func(s string) string { return strings.Replace(s, `"amount": 0,`, `"amount": 10,`, 1) },
		"genesis tx id":    func(s string) string { return strings.Replace(s, `"id": "2`, `"id": "3`, 1) },
		"genesis tx to":    func(s string) string { return strings.Replace(s, `"to": "308`, `"to": "309`, 1) },
	}
	for name, edit := range edits {
		data := edit(good)
		if data == good {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := Parse([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatal(err)
	}
}

// TestGenesisTransaction: block 0 holds the original's genesis transaction,
// a reward of 0 (it mints nothing) to an address made from the genesis
// message, in every profile, and a chain built from it lists that address
// as a wallet with balance 0 and keeps the ledger invariant.
func TestGenesisTransaction(t *testing.T) {
	for _, pr := range Profiles {
		t.Run(pr.Name, func(t *testing.T) {
			f, err := Parse(pr.data)
			if err != nil {
				t.Fatal(err)
			}
			p := f.Params
			if len(f.Block.Txs) != 1 {
				t.Fatalf("genesis holds %d transactions, want 1", len(f.Block.Txs))
			}
			tx := f.Block.Txs[0]
			if tx.Type != chain.TxReward || tx.Amount != 0 || tx.Fee != 0 || tx.From != "" || tx.Signature != "" ||
				tx.To != NetworkAddress(p.GenesisMessage) || tx.ID != TxID(p.GenesisMessage) {
				t.Fatalf("genesis tx = %+v", tx)
			}
			pub, err := chain.ParseAddress(tx.To)
			if err != nil {
				t.Fatalf("network address does not parse: %v", err)
			}
			if pub.N.BitLen() != 2048 || pub.E != 65537 {
				t.Fatalf("network address: %d bits, e = %d", pub.N.BitLen(), pub.E)
			}
			c, err := f.NewChain(chain.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Recipients(); len(got) != 1 || got[0] != tx.To {
				t.Fatalf("recipients of a fresh chain = %v, want the network address", got)
			}
			if c.Balance(tx.To) != 0 {
				t.Fatalf("network address balance = %d", c.Balance(tx.To))
			}
			if err := c.CheckInvariant(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if NetworkAddress("a") == NetworkAddress("b") || TxID("a") == TxID("b") {
		t.Fatal("the genesis transaction does not depend on the message")
	}
}

// TestProtocolExampleBuildsOnGenesis: the worked example of block 1 in
// docs/PROTOCOL.md §5.3 (checked byte for byte by chain's
// TestProtocolExample) is built on the default network's genesis hash, so it
// must name the current one.
func TestProtocolExampleBuildsOnGenesis(t *testing.T) {
	f, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(f.Hash.String())) {
		t.Fatalf("docs/PROTOCOL.md §5.3 does not build on the default genesis hash %s; update it and chain/protocol_test.go", f.Hash)
	}
	test, err := os.ReadFile("../chain/protocol_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(test, []byte(f.Hash.String())) {
		t.Fatalf("chain/protocol_test.go does not build on the default genesis hash %s", f.Hash)
	}
}
