package services

import (
	"errors"
	"slices"

	"github.com/pycotr/pycotr/chain"
)

// Block intake. Every block reaches the chain through processBlock: a
// peer's announcement (onBlock) and the node's own miner (submitMined);
// a sync page's through processRequestedBlock (syncer.accept).

// processBlock is the node's one way to hand a block to the chain: an
// unrequested one, from a peer's announcement or its own miner (the chain
// ignores one whose branch has less work than the tip). The blocks the
// chain stored in its tree are persisted when the node has a data
// directory; orphans and ignored blocks never are.
func (n *Node) processBlock(b *chain.Block) (chain.Outcome, error) {
	return n.persistStored(n.chain.ProcessBlock(b))
}

// processRequestedBlock is processBlock for a block the node asked for (a
// sync page): stored whatever its branch's work, so a deep fork with more
// work syncs.
func (n *Node) processRequestedBlock(b *chain.Block) (chain.Outcome, error) {
	return n.persistStored(n.chain.ProcessRequestedBlock(b))
}

// persistStored writes, with a data directory, the blocks the chain stored
// in its tree and the transactions a reorg returned to the mempool (what
// leaves the pool needs no write: the stored pool is re-checked at start).
func (n *Node) persistStored(out chain.Outcome, err error) (chain.Outcome, error) {
	if n.persist == nil {
		return out, err
	}
	for _, s := range out.Stored {
		n.persist.add(s)
	}
	for i := range out.Returned {
		n.txlog.add(&out.Returned[i], false)
	}
	return out, err
}

// acceptBlock processes an announced block received from source and
// records what it did.
func (n *Node) acceptBlock(source string, b *chain.Block) (chain.Outcome, error) {
	out, err := n.processBlock(b)
	n.afterProcess(source, out, err)
	return out, err
}

// acceptRequestedBlock is acceptBlock for a block of a sync page.
func (n *Node) acceptRequestedBlock(source string, b *chain.Block) (chain.Outcome, error) {
	out, err := n.processRequestedBlock(b)
	n.afterProcess(source, out, err)
	return out, err
}

// onBlock is block intake from a peer's announcement: connect it, or keep
// it as an orphan and sync the missing ancestors from that peer.
func (n *Node) onBlock(from string, b *chain.Block) {
	if n.chain.HasBlock(b.Hash()) {
		return
	}
	out, err := n.acceptBlock(from, b)
	if err == nil && out.Status == chain.StatusOrphan {
		n.sync.request(from, nil)
	}
}

// submitMined is the miner's Submit: a block this node solved goes through
// processBlock like any other, and is announced if it extended the best
// chain. No consensus round follows (one did before issue 19: N − 1
// replies landing on the miner with every block): a better chain than
// ours reaches us by its blocks and beats (consensus.go).
func (n *Node) submitMined(b *chain.Block) {
	out, err := n.processBlock(b)
	if err != nil {
		n.log.Warn("own block rejected", "hash", out.Hash.Short(), "err", err)
		return
	}
	if len(out.Connected) == 0 {
		return // the tip moved just as we solved: our block is a side branch
	}
	n.stats.blocksMined.Add(1)
	n.afterProcess(n.ID(), out, nil)
	n.log.Info("mined block", "height", b.Header.Height, "hash", out.Hash.Short(), "txs", len(b.Txs)-1)
	if err := n.bus.PublishBlock(b); err != nil {
		n.log.Warn("announce block", "err", err)
	}
}

// afterProcess records what a processed block did: metrics, the source
// chain id, events.
func (n *Node) afterProcess(source string, out chain.Outcome, err error) {
	if err != nil {
		if errors.Is(err, chain.ErrDuplicateBlock) {
			return
		}
		n.stats.blockReject(reason(err))
		n.log.Warn("block rejected", "from", source, "hash", out.Hash.Short(), "err", err)
		// A failed reorg may still have moved the tip to a valid prefix.
		if len(out.Connected) == 0 {
			return
		}
	}
	if source != n.ID() {
		n.stats.blocksAccepted.Add(1)
	}
	n.emitSideBlocks(source, out)
	if len(out.Connected) == 0 {
		return
	}
	n.source.Store(source)
	if len(out.Disconnected) > 0 {
		n.stats.reorgs.Add(1)
		n.stats.reorgDepthTotal.Add(uint64(len(out.Disconnected)))
		e := n.reorgEvent(source, out) // reorg.go
		n.emit(e)
		// Transactions of dropped blocks are back in our mempool: relay
		// them, so peers that never saw them (the other side of a healed
		// partition) can mine them too.
		if n.bus != nil && len(out.Returned) > 0 {
			returned := make([]*chain.Tx, len(out.Returned))
			for i := range out.Returned {
				returned[i] = &out.Returned[i]
			}
			if err := n.bus.PublishTxs(returned); err != nil {
				n.log.Debug("relay returned transactions", "err", err)
			}
		}
		n.log.Info("reorganized", "depth", e.Depth, "added", len(e.Added), "returned", e.ReturnedCount,
			"conflicting", e.ConflictingCount, "tip", out.Tip.Hash.Short())
	}
	status := "extended"
	if len(out.Disconnected) > 0 {
		status = "reorganized"
	}
	for _, b := range out.Connected {
		n.emit(Event{Kind: EventBlock, Hash: b.Hash().String(), Height: b.Header.Height,
			Miner: string(b.Miner()), Source: source, Status: status, Txs: len(b.Txs)})
	}
}

// emitSideBlocks reports the blocks the chain stored but did not connect:
// valid, held beside the best chain (a tie first seen elsewhere, or a
// branch behind on work). A learner sees a fork form, and the scale bench
// times a block's arrival at a node that keeps its rival as the tip.
func (n *Node) emitSideBlocks(source string, out chain.Outcome) {
	for _, b := range out.Stored {
		if slices.Contains(out.Connected, b) {
			continue
		}
		n.stats.sideBlocks.Add(1)
		n.emit(Event{Kind: EventSideBlock, Hash: b.Hash().String(), Height: b.Header.Height,
			Miner: string(b.Miner()), Source: source, Status: chain.StatusSideBranch.String(), Txs: len(b.Txs)})
	}
}
