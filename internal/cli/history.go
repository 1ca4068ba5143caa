package cli

import (
	"context"
	"fmt"

	"github.com/pycotr/pycotr/chain"
)

// HistoryEntry is one transaction of a wallet's history.
type HistoryEntry struct {
	Status string      `json:"status"` // pending | confirmed
	Height *uint64     `json:"height,omitempty"`
	Block  *chain.Hash `json:"block,omitempty"`
	Time   int64       `json:"time,omitempty"` // the block's, unix ms
	Change int64       `json:"change"`         // what it does to the wallet's balance
	Tx     chain.Tx    `json:"tx"`
}

// change is what tx does to a's balance: a transfer takes amount and fee
// from its sender and gives amount to its recipient; a purchase gives
// amount and takes the fee; a reward gives amount (fees included).
func change(tx chain.Tx, a chain.Address) int64 {
	var d int64
	if tx.To == a {
		d += tx.Amount
	}
	if tx.From == a && tx.Type != chain.TxReward {
		d -= tx.Fee
		if tx.Type == chain.TxTransfer {
			d -= tx.Amount
		}
	}
	return d
}

func involves(tx chain.Tx, a chain.Address) bool { return tx.From == a || tx.To == a }

// history walks the last n blocks of the best chain, newest first, and the
// mempool, for a's transactions: there is no per-address index on a node,
// so the client reads /api/v1/chain pages and filters. It returns the
// entries (pending first) and the lowest height it read.
func history(ctx context.Context, c *Client, a chain.Address, n int) ([]HistoryEntry, uint64, error) {
	var out []HistoryEntry
	m, _, err := c.Mempool(ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, tx := range m.Transactions {
		if involves(tx, a) {
			out = append(out, HistoryEntry{Status: "pending", Change: change(tx, a), Tx: tx})
		}
	}
	info, _, err := c.Node(ctx)
	if err != nil {
		return nil, 0, err
	}
	from := uint64(0)
	if info.Height+1 > uint64(n) {
		from = info.Height + 1 - uint64(n)
	}
	var confirmed []HistoryEntry
	for next := from; next <= info.Height; {
		limit := min(uint64(maxPage), info.Height+1-next)
		page, err := c.Chain(ctx, next, int(limit))
		if err != nil {
			return nil, 0, fmt.Errorf("read blocks from %d: %w", next, err)
		}
		for _, b := range page.Blocks {
			for _, tx := range b.Transactions {
				if involves(tx, a) {
					h, hash := b.Height, b.Hash
					confirmed = append(confirmed, HistoryEntry{Status: "confirmed", Height: &h, Block: &hash,
						Time: b.Header.Timestamp, Change: change(tx, a), Tx: tx})
				}
			}
		}
		if page.Next == nil || len(page.Blocks) == 0 {
			break
		}
		next = *page.Next
	}
	for i := len(confirmed) - 1; i >= 0; i-- {
		out = append(out, confirmed[i])
	}
	return out, from, nil
}
