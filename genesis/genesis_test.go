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
	if a.Hash != b.Hash || a.Block.Header.MerkleRoot != MessageRoot("hello") {
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
		"with a tx": func(s string) string {
			return strings.Replace(s, `"transactions": []`, `"transactions": [{"type":"reward","id":"x","to":"","amount":1,"fee":0}]`, 1)
		},
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
