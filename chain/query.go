package chain

// Read-only views of the chain, each under the read lock.

// Balance returns an address's confirmed balance in O(1).
func (c *Chain) Balance(a Address) int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ledger.Balance(a)
}

// CheckedBalance checks the address rules (ParseAddress) and returns the
// confirmed balance: the look-up for an address a client sent. An address
// that holds a balance passed those rules when it was paid, so only one
// that holds none is parsed: parsing costs more than the look-up, and
// ParseAddress's cache of parsed keys is bounded, so with more accounts
// than it holds a random look-up would mostly parse.
func (c *Chain) CheckedBalance(a Address) (int64, error) {
	if v := c.Balance(a); v != 0 {
		return v, nil
	}
	if _, err := ParseAddress(a); err != nil {
		return 0, err
	}
	return 0, nil
}

// Spendable returns the confirmed balance less pending debits.
func (c *Chain) Spendable(a Address) int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pool.spendable(c.ledger, a)
}

// Height returns the best chain's height.
func (c *Chain) Height() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return uint64(len(c.main) - 1)
}

// HasBlock reports whether a block is in the tree or held as an orphan.
func (c *Chain) HasBlock(h Hash) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.index[h]
	return ok || c.orphans.has(h)
}

// HasTx reports whether a transaction of any sender with this id is
// pending or on the best chain.
func (c *Chain) HasTx(id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.pool.byID[id]) > 0 || len(c.ledger.txs[id]) > 0
}

// HasTxFrom reports whether the sender's transaction with this id ("" for
// a reward) is pending or on the best chain: whether AcceptTx would refuse
// a transaction of that sender and id as a duplicate.
func (c *Chain) HasTxFrom(from Address, id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.dupLocked(txKey{from: from, id: id}) != nil
}

// BlockByHash returns a block of the tree and whether it is on the best
// chain.
func (c *Chain) BlockByHash(h Hash) (b *Block, onMain bool, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.index[h]
	if !ok {
		return nil, false, false
	}
	return n.block, c.onMainLocked(n), true
}

func (c *Chain) onMainLocked(n *blockNode) bool {
	return n.height < uint64(len(c.main)) && c.main[n.height] == n
}

// BlockAt returns the best chain's block at a height.
func (c *Chain) BlockAt(height uint64) (*Block, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if height >= uint64(len(c.main)) {
		return nil, false
	}
	return c.main[height].block, true
}

// Blocks returns up to limit best-chain blocks from height from.
func (c *Chain) Blocks(from uint64, limit int) []*Block {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Block
	for h := from; h < uint64(len(c.main)) && len(out) < limit; h++ {
		out = append(out, c.main[h].block)
	}
	return out
}

// TxState says where a transaction is.
type TxState int

const (
	TxUnknown TxState = iota
	TxPending
	TxConfirmed
	// TxAmbiguous: transactions of several senders bear the id (ids are
	// unique per sender only); ask FindTxFrom with the sender.
	TxAmbiguous
)

// FindTx looks a transaction up by id in the mempool and on the best
// chain. It answers only when exactly one transaction bears the id, so it
// never shows one sender's transaction under another's id: with several,
// the state is TxAmbiguous and no transaction is returned.
func (c *Chain) FindTx(id string) (Tx, TxState, TxLocation) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	pending, confirmed := c.pool.byID[id], c.ledger.txs[id]
	switch {
	case len(pending)+len(confirmed) > 1:
		return Tx{}, TxAmbiguous, TxLocation{}
	case len(pending) == 1:
		return pending[0].tx, TxPending, TxLocation{}
	case len(confirmed) == 1:
		return c.findTxLocked(confirmed[0].from, id)
	}
	return Tx{}, TxUnknown, TxLocation{}
}

// FindTxFrom looks up the transaction of a sender ("" for a reward) with
// an id, in the mempool and on the best chain.
func (c *Chain) FindTxFrom(from Address, id string) (Tx, TxState, TxLocation) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.findTxLocked(from, id)
}

func (c *Chain) findTxLocked(from Address, id string) (Tx, TxState, TxLocation) {
	if e, ok := c.pool.entries[txKey{from: from, id: id}]; ok {
		return e.tx, TxPending, TxLocation{}
	}
	loc, ok := c.ledger.TxLocation(from, id)
	if !ok {
		return Tx{}, TxUnknown, TxLocation{}
	}
	for _, tx := range c.main[loc.Height].block.Txs {
		if tx.ID == id && tx.From == from {
			return tx, TxConfirmed, loc
		}
	}
	return Tx{}, TxUnknown, TxLocation{}
}

// Pending returns the mempool's transactions in priority order (fee, then
// arrival).
func (c *Chain) Pending() []Tx {
	c.mu.RLock()
	defer c.mu.RUnlock()
	es := c.pool.byPriority()
	out := make([]Tx, len(es))
	for i, e := range es {
		out[i] = e.tx
	}
	return out
}

// PoolDigest summarises the mempool for a comparison with a peer's: its
// count and the XOR of its transactions' hashes (Tx.Hash). Two pools with
// the same count and digest hold the same transactions.
func (c *Chain) PoolDigest() (count int, digest Hash) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pool.Len(), c.pool.digest
}

// PendingHashes returns the hashes of the mempool's transactions, in no
// particular order.
func (c *Chain) PendingHashes() []Hash {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Hash, 0, len(c.pool.entries))
	for _, e := range c.pool.entries {
		out = append(out, e.hash)
	}
	return out
}

// PendingByHash returns the pending transactions with the given hashes,
// in the order asked; hashes not pending are skipped.
func (c *Chain) PendingByHash(hashes []Hash) []Tx {
	want := make(map[Hash]int, len(hashes))
	for i, h := range hashes {
		want[h] = i
	}
	found := make([]*poolEntry, len(hashes))
	c.mu.RLock()
	for _, e := range c.pool.entries {
		if i, ok := want[e.hash]; ok {
			found[i] = e
		}
	}
	out := make([]Tx, 0, len(hashes))
	for _, e := range found {
		if e != nil {
			out = append(out, e.tx)
		}
	}
	c.mu.RUnlock()
	return out
}

// MempoolStats returns the mempool's count and bytes.
func (c *Chain) MempoolStats() (count, bytes int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pool.Len(), c.pool.Bytes()
}

// MempoolVersion changes whenever the mempool does (an admission, a
// removal, a rebuild after a reorg) and never takes a value twice: with
// the tip's hash it keys caches of the chain's views.
func (c *Chain) MempoolVersion() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pool.version
}

// Orphans is the number of blocks waiting for their parent.
func (c *Chain) Orphans() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.orphans.len()
}

// Recipients lists every address that received anything on the best chain,
// in order of first appearance (the original's get_wallets).
func (c *Chain) Recipients() []Address {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := make(map[Address]struct{})
	var out []Address
	for _, n := range c.main {
		for _, tx := range n.block.Txs {
			if _, ok := seen[tx.To]; !ok && tx.To != "" {
				seen[tx.To] = struct{}{}
				out = append(out, tx.To)
			}
		}
	}
	return out
}

// CheckInvariant verifies the ledger invariant on the best chain.
func (c *Chain) CheckInvariant() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ledger.CheckInvariant()
}

// RebuildLedger replays the best chain from genesis into a fresh ledger
// and reports whether it equals the incrementally kept one.
func (c *Chain) RebuildLedger() (equal bool, err error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	l := NewLedger()
	for _, n := range c.main {
		if err := l.connect(n.block, n.hash); err != nil {
			return false, err
		}
	}
	return l.Equal(c.ledger), nil
}

// Locator lists best-chain hashes from the tip back to genesis, one apart
// for the first ten, then doubling the step: a peer finds the newest hash
// it shares with us in O(log height) entries.
func (c *Chain) Locator() []Hash {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var loc []Hash
	step := uint64(1)
	h := uint64(len(c.main) - 1)
	for {
		loc = append(loc, c.main[h].hash)
		if h == 0 {
			break
		}
		if len(loc) >= 10 {
			step *= 2
		}
		if h < step {
			h = 0
		} else {
			h -= step
		}
	}
	return loc
}

// BlocksAfter answers a peer's locator: the best-chain blocks after the
// newest locator hash on our best chain (after genesis if none), at most
// maxBlocks and, beyond the first block, maxBytes. more says whether blocks
// remain after the page.
func (c *Chain) BlocksAfter(locator []Hash, maxBlocks, maxBytes int) (blocks []*Block, more bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	start := uint64(1)
	for _, h := range locator {
		if n, ok := c.index[h]; ok && c.onMainLocked(n) {
			start = n.height + 1
			break
		}
	}
	size := 0
	h := start
	for ; h < uint64(len(c.main)) && len(blocks) < maxBlocks; h++ {
		b := c.main[h].block
		s := b.Size()
		if len(blocks) > 0 && size+s > maxBytes {
			break
		}
		size += s
		blocks = append(blocks, b)
	}
	return blocks, h < uint64(len(c.main))
}
