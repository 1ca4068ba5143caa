// Package chaintest builds what tests feed a chain: a test network's
// genesis, solved blocks, and signed transactions made with the test
// binary's keys. Every package's tests use it (chain's own in-package
// tests excepted: chaintest imports chain, so they keep a harness of
// their own built on the same chain.NewBlock).
//
// It is for tests and benchmarks only: every helper fails the test it is
// given rather than return an error.
package chaintest

import (
	"context"
	"crypto/rsa"
	"testing"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/internal/testkit"
)

// Params are the default network's parameters at the given difficulty: at
// 8 bits a block is solved at once.
func Params(bits uint32) chain.Params {
	p := chain.DefaultParams()
	p.Bits = bits
	return p
}

// Genesis generates the genesis file of a network with parameters p at
// the default network's genesis time (deterministic: the same p gives
// the same file).
func Genesis(t testing.TB, p chain.Params) *genesis.File {
	t.Helper()
	f, err := genesis.Generate(context.Background(), p, genesis.Timestamp)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Solve solves b's proof-of-work in place, from its current nonce, and
// returns b.
func Solve(t testing.TB, b *chain.Block) *chain.Block {
	t.Helper()
	var m chain.Miner
	h, err := m.Solve(context.Background(), b.Header)
	if err != nil {
		t.Fatal(err)
	}
	b.Header = h
	return b
}

// NextBlock builds and solves the block after parent on a network with
// parameters p: a reward to miner of p.Reward plus the fees, then txs, one
// second after the parent, at p.Bits.
func NextBlock(t testing.TB, p chain.Params, parent *chain.Block, miner chain.Address, txs ...chain.Tx) *chain.Block {
	t.Helper()
	return Solve(t, chain.NewBlock(chain.Header{Version: chain.BlockVersion, Height: parent.Header.Height + 1,
		PrevHash: parent.Hash(), Timestamp: parent.Header.Timestamp + 1000, Bits: p.Bits}, miner, p.Reward, txs))
}

// Key is one of the test binary's eight 1024-bit keys (i wraps around).
func Key(i int) *rsa.PrivateKey { return testkit.Key(i) }

// Addr is the address of Key(i).
func Addr(i int) chain.Address { return chain.AddressOf(&Key(i).PublicKey) }

// CardInput is a valid card for purchases: it passes the Luhn check and
// expires in 2099.
var CardInput = chain.CardInput{Number: "4111 1111 1111 1111", Expiry: "2099-12", CVV: "123", Holder: "Test"}

// Card is CardInput, checked.
func Card(t testing.TB) chain.Card {
	t.Helper()
	c, err := chain.NewCard(CardInput)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Mint is a card purchase of amount with fee by k, with Card, signed.
func Mint(t testing.TB, k *rsa.PrivateKey, amount, fee int64) chain.Tx {
	t.Helper()
	tx, err := chain.NewMint(k, Card(t), amount, fee, "")
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// Transfer is a transfer of amount with fee from k to to, signed.
func Transfer(t testing.TB, k *rsa.PrivateKey, to chain.Address, amount, fee int64) chain.Tx {
	t.Helper()
	tx, err := chain.NewTransfer(k, to, amount, fee, "")
	if err != nil {
		t.Fatal(err)
	}
	return tx
}
