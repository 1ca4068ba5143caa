package chain_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/genesis"
)

// newExampleChain is a network at difficulty 8 (a block solves at once)
// whose clock stands an hour after its genesis.
func newExampleChain() (*chain.Chain, chain.Params) {
	p := chain.DefaultParams()
	p.Bits = 8
	g, err := genesis.Generate(context.Background(), p, genesis.Timestamp)
	if err != nil {
		log.Fatal(err)
	}
	c, err := chain.New(chain.Config{Params: p, Genesis: &g.Block,
		Now: func() time.Time { return genesis.Timestamp.Add(time.Hour) }})
	if err != nil {
		log.Fatal(err)
	}
	return c, p
}

func newExampleKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, chain.MinKeyBits)
	if err != nil {
		log.Fatal(err)
	}
	return k
}

// mineNext builds the next block for miner from the mempool, optionally
// edits it, solves it and hands it to ProcessBlock.
func mineNext(c *chain.Chain, miner chain.Address, edit func(*chain.Block)) (*chain.Block, chain.Outcome, error) {
	b := c.Template(miner)
	if edit != nil {
		edit(b)
	}
	var m chain.Miner
	h, err := m.Solve(context.Background(), b.Header)
	if err != nil {
		log.Fatal(err)
	}
	b.Header = h
	out, err := c.ProcessBlock(b)
	return b, out, err
}

// A block, mined here or received from a peer, goes through ProcessBlock:
// the Outcome says what it did to the best chain; a refused block leaves
// the chain as it was, and its error names the rule it broke.
func ExampleChain_ProcessBlock() {
	c, p := newExampleChain()
	miner := chain.AddressOf(&newExampleKey().PublicKey)

	b, out, err := mineNext(c, miner, nil)
	fmt.Println(out.Status, out.Tip.Height, err)
	fmt.Println("miner's balance:", c.Balance(miner) == p.Reward)

	// The same block again.
	_, err = c.ProcessBlock(b)
	fmt.Println(errors.Is(err, chain.ErrDuplicateBlock))

	// A block whose reward pays the miner one coin too many.
	_, _, err = mineNext(c, miner, func(b *chain.Block) {
		b.Txs[0].Amount++
		b.Header.MerkleRoot = b.ComputeMerkleRoot()
	})
	if re, ok := chain.AsRuleError(err); ok {
		fmt.Println(re.Code, re.Kind == chain.KindInvalid)
	}
	fmt.Println("height:", c.Height())
	// Output:
	// extended 1 <nil>
	// miner's balance: true
	// true
	// bad-reward true
	// height: 1
}

// A transaction, from a client or a peer, goes through AcceptTx: it is
// checked in full (signature, funds counting what is already pending) and
// admitted to the mempool, from which Template fills the next block.
func ExampleChain_AcceptTx() {
	c, _ := newExampleChain()
	alice, bob := newExampleKey(), newExampleKey()
	aliceAddr, bobAddr := chain.AddressOf(&alice.PublicKey), chain.AddressOf(&bob.PublicKey)

	card, err := chain.NewCard(chain.CardInput{Number: "4111 1111 1111 1111", Expiry: "2099-12", CVV: "123", Holder: "Alice"})
	if err != nil {
		log.Fatal(err)
	}
	purchase, err := chain.NewMint(alice, card, 100, 0, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("purchase:", c.AcceptTx(&purchase))
	fmt.Println("again:", errors.Is(c.AcceptTx(&purchase), chain.ErrAlreadyPending))

	// Bob has nothing to spend.
	overspend, err := chain.NewTransfer(bob, aliceAddr, 10, 1, "")
	if err != nil {
		log.Fatal(err)
	}
	err = c.AcceptTx(&overspend)
	if re, ok := chain.AsRuleError(err); ok {
		fmt.Println("overspend:", re.Code, re.Kind == chain.KindConflict)
	}

	// Once the purchase is mined, Alice can pay Bob.
	if _, _, err := mineNext(c, bobAddr, nil); err != nil {
		log.Fatal(err)
	}
	pay, err := chain.NewTransfer(alice, bobAddr, 30, 1, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("payment:", c.AcceptTx(&pay))
	fmt.Println("pending:", len(c.Pending()), "alice can still spend:", c.Spendable(aliceAddr))
	// Output:
	// purchase: <nil>
	// again: true
	// overspend: insufficient-funds true
	// payment: <nil>
	// pending: 1 alice can still spend: 69
}
