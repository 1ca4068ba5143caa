package services

import "github.com/pycotr/pycotr/chain"

// maxEventTxs bounds the transaction lists of a reorg event; the counts
// are exact.
const maxEventTxs = 64

// ConflictingTx is a transaction a reorg dropped because the winning
// branch makes it invalid: most often a double spend, its coins spent by
// another transaction of the same sender on that branch (With).
type ConflictingTx struct {
	ID     string        `json:"id"`
	From   chain.Address `json:"from"`
	To     chain.Address `json:"to"`
	Amount int64         `json:"amount"`
	// With is a transaction of the same sender on the winning branch, the
	// likely conflict; "" when there is none.
	With string `json:"with,omitempty"`
}

// reorgEvent tells what a reorg did: blocks dropped and adopted, where the
// branches met, how many dropped blocks this node had mined, which
// transactions went back to the pool and which were dropped as
// conflicting (those of dropped blocks neither returned nor on the new
// branch, and pending ones the new branch invalidated).
func (n *Node) reorgEvent(source string, out chain.Outcome) Event {
	e := Event{Kind: EventReorg, Depth: len(out.Disconnected), Source: source, Height: out.Tip.Height,
		Hash: out.Tip.Hash.String(), ReturnedCount: len(out.Returned)}
	self := n.miner.Address()
	for _, b := range out.Disconnected {
		e.Dropped = append(e.Dropped, b.Hash().String())
		if b.Miner() == self {
			e.DroppedMined++
		}
	}
	if k := len(out.Disconnected); k > 0 {
		if h := out.Disconnected[k-1].Header.Height; h > 0 {
			e.ForkHeight = h - 1
		}
	}
	onNew := make(map[string]bool)
	bySender := make(map[chain.Address]string)
	for _, b := range out.Connected {
		e.Added = append(e.Added, b.Hash().String())
		for _, tx := range b.Txs {
			onNew[tx.ID] = true
			if _, ok := bySender[tx.From]; !ok && tx.Type == chain.TxTransfer {
				bySender[tx.From] = tx.ID
			}
		}
	}
	returned := make(map[string]bool, len(out.Returned))
	for _, tx := range out.Returned {
		returned[tx.ID] = true
		if len(e.Returned) < maxEventTxs {
			e.Returned = append(e.Returned, tx.ID)
		}
	}
	conflict := func(tx *chain.Tx) {
		if tx.Type == chain.TxReward || returned[tx.ID] || onNew[tx.ID] {
			return
		}
		returned[tx.ID] = true // counted once
		e.ConflictingCount++
		if len(e.Conflicting) < maxEventTxs {
			e.Conflicting = append(e.Conflicting, ConflictingTx{ID: tx.ID, From: tx.From, To: tx.To, Amount: tx.Amount, With: bySender[tx.From]})
		}
	}
	for _, b := range out.Disconnected {
		for i := range b.Txs {
			conflict(&b.Txs[i])
		}
	}
	for i := range out.Evicted {
		conflict(&out.Evicted[i])
	}
	return e
}
