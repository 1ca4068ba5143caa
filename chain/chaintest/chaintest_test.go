package chaintest_test

import (
	"testing"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
)

// TestNextBlockExtendsTheChain: a genesis, then blocks built by NextBlock
// with signed transactions, are accepted by a chain as extensions.
func TestNextBlockExtendsTheChain(t *testing.T) {
	p := chaintest.Params(8)
	g := chaintest.Genesis(t, p)
	if again := chaintest.Genesis(t, p); again.Hash != g.Hash {
		t.Fatal("Genesis is not deterministic")
	}
	c, err := chain.New(chain.Config{Params: p, Genesis: &g.Block})
	if err != nil {
		t.Fatal(err)
	}
	b1 := chaintest.NextBlock(t, p, &g.Block, chaintest.Addr(0), chaintest.Mint(t, chaintest.Key(1), 100, 0))
	b2 := chaintest.NextBlock(t, p, b1, chaintest.Addr(0), chaintest.Transfer(t, chaintest.Key(1), chaintest.Addr(2), 30, 5))
	for _, b := range []*chain.Block{b1, b2} {
		if out, err := c.ProcessBlock(b); err != nil || out.Status != chain.StatusExtended {
			t.Fatalf("block %d: %v, %v", b.Header.Height, out.Status, err)
		}
	}
	if got := c.Balance(chaintest.Addr(2)); got != 30 {
		t.Fatalf("recipient balance %d, want 30", got)
	}
	if got := c.Balance(chaintest.Addr(0)); got != 2*p.Reward+5 {
		t.Fatalf("miner balance %d, want %d", got, 2*p.Reward+5)
	}
}
