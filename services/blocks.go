package services

import (
	"errors"

	"github.com/pycotr/pycotr/chain"
)

// Block intake. Every block reaches the chain through processBlock: a
// peer's announcement (onBlock), a sync page (syncer.accept) and the
// node's own miner (submitMined).

// processBlock is the node's one way to hand a block to the chain. Blocks
// the chain keeps are persisted when the node has a data directory, and so
// are the transactions a reorg returned to the mempool (what leaves the
// pool needs no write: the stored pool is re-checked at start).
func (n *Node) processBlock(b *chain.Block) (chain.Outcome, error) {
	out, err := n.chain.ProcessBlock(b)
	if n.persist == nil {
		return out, err
	}
	if err == nil {
		n.persist.add(b)
	}
	for i := range out.Returned {
		n.txlog.add(&out.Returned[i], false)
	}
	return out, err
}

// acceptBlock processes a block received from source and records what it
// did.
func (n *Node) acceptBlock(source string, b *chain.Block) (chain.Outcome, error) {
	out, err := n.processBlock(b)
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
		n.sync.request(from)
	}
}

// submitMined is the miner's Submit: a block this node solved goes through
// processBlock like any other, and is announced if it extended the best
// chain.
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
	n.afterProcess(n.cfg.ID, out, nil)
	n.log.Info("mined block", "height", b.Header.Height, "hash", out.Hash.Short(), "txs", len(b.Txs)-1)
	if err := n.bus.PublishBlock(b); err != nil {
		n.log.Warn("announce block", "err", err)
	}
	n.requestConsensus()
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
	if source != n.cfg.ID {
		n.stats.blocksAccepted.Add(1)
	}
	if len(out.Connected) == 0 {
		return
	}
	n.source.Store(source)
	if len(out.Disconnected) > 0 {
		n.stats.reorgs.Add(1)
		n.stats.reorgDepthTotal.Add(uint64(len(out.Disconnected)))
		e := Event{Kind: EventReorg, Depth: len(out.Disconnected), Source: source}
		for _, b := range out.Disconnected {
			e.Dropped = append(e.Dropped, b.Hash().String())
		}
		for _, b := range out.Connected {
			e.Added = append(e.Added, b.Hash().String())
		}
		for _, tx := range out.Returned {
			e.Returned = append(e.Returned, tx.ID)
		}
		n.emit(e)
		// Transactions of dropped blocks are back in our mempool: relay
		// them, so peers that never saw them (the other side of a healed
		// partition) can mine them too.
		if n.bus != nil {
			for i := range out.Returned {
				if err := n.bus.PublishTx(&out.Returned[i]); err != nil {
					n.log.Debug("relay returned transaction", "err", err)
				}
			}
		}
		n.log.Info("reorganized", "depth", e.Depth, "added", len(e.Added), "returned", len(e.Returned), "tip", out.Tip.Hash.Short())
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
