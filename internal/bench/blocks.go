package bench

import (
	"context"

	"github.com/pycotr/pycotr/chain"
)

// The benchmark's one way to make blocks without the network: build the
// next block on a chain's tip (chain.NewBlock, the builder the chain's own
// template and chain/chaintest use) and solve it here, then hand it to
// every chain that should hold it. The phases use it for fixtures (funding
// wallets, filler and sync chains, the memory phase's 100 000 blocks).

// nextBlock builds and solves the block after c's tip paying miner, with
// txs, its timestamp one millisecond after the tip's.
func nextBlock(ctx context.Context, c *chain.Chain, miner chain.Address, txs []chain.Tx) (*chain.Block, error) {
	tip := c.Tip()
	p := c.Params()
	blk := chain.NewBlock(chain.Header{Version: chain.BlockVersion, Height: tip.Height + 1, PrevHash: tip.Hash,
		Timestamp: tip.Timestamp + 1, Bits: p.Bits}, miner, p.Reward, txs)
	var m chain.Miner
	h, err := m.Solve(ctx, blk.Header)
	if err != nil {
		return nil, err
	}
	blk.Header = h
	return blk, nil
}

// extend builds and solves the next block on the first chain and
// processes it on all of them.
func extend(ctx context.Context, chains []*chain.Chain, miner chain.Address, txs []chain.Tx) (*chain.Block, error) {
	blk, err := nextBlock(ctx, chains[0], miner, txs)
	if err != nil {
		return nil, err
	}
	for _, c := range chains {
		if _, err := c.ProcessBlock(blk); err != nil {
			return nil, err
		}
	}
	return blk, nil
}
