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

func walletHistory(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "wallet history", args: "NAME|ADDRESS [--blocks N] [--json] [--node URL]",
		summary: "List a wallet's transactions: pending ones, then those of the last N blocks of the best\n" +
			"chain, newest first. CHANGE is what each did to the balance."})
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	n := fs.Int("blocks", 1000, "how many of the latest blocks to read")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *n < 1 {
		return Usagef("bad --blocks=%d: want 1 or more", *n)
	}
	s, err := openStore()
	if err != nil {
		return err
	}
	a, err := s.Resolve(pos[0])
	if err != nil {
		return usageOf(err)
	}
	c, err := NewClient(*node)
	if err != nil {
		return err
	}
	entries, from, err := history(ctx, c, a, *n)
	if err != nil {
		return err
	}
	if *asJSON {
		if entries == nil {
			entries = []HistoryEntry{}
		}
		return writeJSON(e.stdout, entries)
	}
	names := namer{s}
	tw := table(e.stdout, "HEIGHT", "TIME", "TX", "TYPE", "WITH", "CHANGE", "FEE")
	for _, h := range entries {
		height, when := "pending", "-"
		if h.Height != nil {
			height, when = fmt.Sprint(*h.Height), blockTime(h.Time)
		}
		row(tw, height, when, h.Tx.ID, h.Tx.Type, counterparty(names, h.Tx, a), signed(h.Change), h.Tx.Fee)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d transactions, blocks %d and above\n", len(entries), from)
	return nil
}

// counterparty is who a transaction is with, seen from a.
func counterparty(names namer, tx chain.Tx, a chain.Address) string {
	switch {
	case tx.Type == chain.TxReward:
		return "(mining reward)"
	case tx.Type == chain.TxMint:
		if tx.Card != nil {
			return "card " + tx.Card.Masked[max(0, len(tx.Card.Masked)-8):]
		}
		return "(card)"
	case tx.From == a && tx.To == a:
		return "(self)"
	case tx.From == a:
		return names.name(tx.To)
	}
	return names.name(tx.From)
}

func signed(v int64) string {
	if v > 0 {
		return fmt.Sprintf("+%d", v)
	}
	return fmt.Sprint(v)
}
