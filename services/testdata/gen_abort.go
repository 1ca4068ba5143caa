//go:build ignore

// gen_abort writes the fixtures of TestMinerAbortsOnNewTip: a genesis file
// at 28 difficulty bits (a template takes ~25 s of one core to solve, so a
// node is surely still solving when the test delivers a block) and a block
// at height 1 on it, solved here once so the test needs no hashing.
//
//	go run ./services/testdata/gen_abort.go
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log"
	"os"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/genesis"
)

func main() {
	ctx := context.Background()
	p := chain.DefaultParams()
	p.Bits = 28
	p.Network = "pycotr-abort-test"
	f, err := genesis.Generate(ctx, p, genesis.Timestamp)
	if err != nil {
		log.Fatal(err)
	}
	m := chain.Miner{Workers: -1}
	data, err := f.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("services/testdata/abort-genesis.json", data, 0o644); err != nil {
		log.Fatal(err)
	}

	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		log.Fatal(err)
	}
	c, err := f.NewChain(chain.Config{})
	if err != nil {
		log.Fatal(err)
	}
	b := c.Template(chain.AddressOf(&k.PublicKey))
	b.Header.Timestamp = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	if b.Header, err = m.Solve(ctx, b.Header); err != nil {
		log.Fatal(err)
	}
	if _, err := c.ProcessBlock(b); err != nil {
		log.Fatal(err)
	}
	data, err = json.MarshalIndent(b, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("services/testdata/abort-block1.json", append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}
