package chain

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"
)

// Config configures a Chain.
type Config struct {
	Params     Params
	Genesis    *Block
	MaxOrphans int // blocks kept while their parent is missing; 0 = 512
	Mempool    MempoolLimits
	Now        func() time.Time // the node's clock; nil = time.Now
}

// blockNode is a block in the tree of every valid-looking block seen.
type blockNode struct {
	hash    Hash
	block   *Block
	parent  *blockNode
	height  uint64
	work    *big.Int // cumulative, genesis included
	seq     uint64   // first-seen order
	invalid bool
}

// Chain is a node's view of the network's history: the block tree, the
// best chain by cumulative work, its ledger and the mempool, all guarded by
// one lock so that a reorg and its ledger and mempool changes are atomic.
type Chain struct {
	params  Params
	now     func() time.Time
	genesis Hash

	mu       sync.RWMutex
	index    map[Hash]*blockNode
	main     []*blockNode // best chain by height
	ledger   *Ledger
	pool     *Mempool
	orphans  orphanPool
	seq      uint64
	tipWatch chan struct{}

	sigs sigCache // signatures verified at mempool admission
}

// Tip summarises the best chain's last block.
type Tip struct {
	Hash      Hash     `json:"hash"`
	Height    uint64   `json:"height"`
	Work      *big.Int `json:"work"`
	Timestamp int64    `json:"timestamp"`
}

// New builds a chain holding only the genesis block.
func New(cfg Config) (*Chain, error) {
	if cfg.Genesis == nil || cfg.Genesis.Header.Height != 0 || !cfg.Genesis.Header.PrevHash.IsZero() {
		return nil, errors.New("chain: a genesis block at height 0 is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxOrphans <= 0 {
		cfg.MaxOrphans = 512
	}
	g := &blockNode{hash: cfg.Genesis.Hash(), block: cfg.Genesis, work: Work(cfg.Genesis.Header.Bits)}
	c := &Chain{
		params:   cfg.Params,
		now:      cfg.Now,
		genesis:  g.hash,
		index:    map[Hash]*blockNode{g.hash: g},
		main:     []*blockNode{g},
		ledger:   NewLedger(),
		pool:     newMempool(cfg.Mempool),
		orphans:  newOrphanPool(cfg.MaxOrphans),
		tipWatch: make(chan struct{}),
	}
	if err := c.ledger.connect(cfg.Genesis, g.hash); err != nil {
		return nil, fmt.Errorf("chain: connect genesis: %w", err)
	}
	return c, nil
}

// Params returns the consensus parameters.
func (c *Chain) Params() Params { return c.params }

// GenesisHash returns the hash of the genesis block.
func (c *Chain) GenesisHash() Hash { return c.genesis }

func (c *Chain) nowMillis() int64 { return c.now().UnixMilli() }

// Tip returns the best chain's last block.
func (c *Chain) Tip() Tip {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tipLocked()
}

func (c *Chain) tipLocked() Tip {
	n := c.main[len(c.main)-1]
	return Tip{Hash: n.hash, Height: n.height, Work: new(big.Int).Set(n.work), Timestamp: n.block.Header.Timestamp}
}

// TipChanged returns a channel closed at the next change of the best tip.
func (c *Chain) TipChanged() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tipWatch
}

// Status says what ProcessBlock did with a block.
type Status int

const (
	StatusSideBranch  Status = iota + 1 // stored; the best chain did not change
	StatusOrphan                        // stored until its parent arrives
	StatusExtended                      // the best chain grew
	StatusReorganized                   // the best chain switched branches
)

func (s Status) String() string {
	switch s {
	case StatusSideBranch:
		return "side-branch"
	case StatusOrphan:
		return "orphan"
	case StatusExtended:
		return "extended"
	case StatusReorganized:
		return "reorganized"
	}
	return "unknown"
}

// Outcome says what processing a block changed. When the block let stored
// orphans connect, their effects are included.
type Outcome struct {
	Status        Status
	Hash          Hash
	Connected     []*Block // joined the best chain, in order
	Disconnected  []*Block // left the best chain, tip first
	Returned      []Tx     // transactions of disconnected blocks given back to the mempool
	Evicted       []Tx     // pending transactions the new chain invalidated
	MissingParent Hash     // for an orphan: the ancestor to fetch
	Tip           Tip
}

// ProcessBlock is the one entry point for a block, mined here or received:
// it checks the block, stores it in the tree (or as an orphan), and moves
// the best chain if the block's branch now has the most work. An invalid
// block changes nothing and the error wraps its rule.
func (c *Chain) ProcessBlock(b *Block) (Outcome, error) {
	hash := b.Hash()
	c.mu.RLock()
	_, known := c.index[hash]
	known = known || c.orphans.has(hash)
	c.mu.RUnlock()
	if known {
		return Outcome{Hash: hash}, fmt.Errorf("block %s: %w", hash.Short(), ErrDuplicateBlock)
	}
	if b.Header.Height == 0 {
		return Outcome{Hash: hash}, fmt.Errorf("block %s: %w", hash.Short(), ErrBadGenesis)
	}
	// The expensive context-free checks (signatures) run outside the lock.
	if err := checkBlockSanity(b, &c.params, c.nowMillis(), &c.sigs); err != nil {
		return Outcome{Hash: hash}, fmt.Errorf("block %s: %w", hash.Short(), err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[hash]; ok || c.orphans.has(hash) {
		return Outcome{Hash: hash}, fmt.Errorf("block %s: %w", hash.Short(), ErrDuplicateBlock)
	}
	oldTip := c.main[len(c.main)-1]
	parent, ok := c.index[b.Header.PrevHash]
	if !ok {
		if b.Header.Height == 1 {
			// The only block at height 0 is the genesis, which is known:
			// this block names no possible parent.
			return Outcome{Hash: hash, Tip: c.tipLocked()}, fmt.Errorf("block %s: prev %s at height 1: %w",
				hash.Short(), b.Header.PrevHash.Short(), ErrBadPrevHash)
		}
		c.orphans.add(hash, b)
		return Outcome{Status: StatusOrphan, Hash: hash, MissingParent: c.orphans.missingRoot(hash), Tip: c.tipLocked()}, nil
	}
	out := Outcome{Status: StatusSideBranch, Hash: hash}
	err := c.acceptLocked(parent, hash, b, &out)
	// Connect the orphans that were waiting for this block, breadth first.
	if err == nil {
		queue := []Hash{hash}
		for len(queue) > 0 {
			ph := queue[0]
			queue = queue[1:]
			for _, ch := range c.orphans.children(ph) {
				ob := c.orphans.take(ch)
				p := c.index[ph]
				if p == nil || ob == nil {
					continue
				}
				if c.acceptLocked(p, ch, ob, &out) == nil {
					queue = append(queue, ch)
				}
			}
		}
	}
	if tip := c.main[len(c.main)-1]; tip != oldTip {
		close(c.tipWatch)
		c.tipWatch = make(chan struct{})
		if len(out.Disconnected) > 0 {
			out.Status = StatusReorganized
		} else {
			out.Status = StatusExtended
		}
	}
	out.Tip = c.tipLocked()
	if err != nil {
		return out, fmt.Errorf("block %s: %w", hash.Short(), err)
	}
	return out, nil
}

// acceptLocked checks a block against its parent, adds it to the tree and
// moves the best chain to it if its branch has more work.
func (c *Chain) acceptLocked(parent *blockNode, hash Hash, b *Block, out *Outcome) error {
	if parent.invalid {
		return ErrKnownInvalid
	}
	h := &b.Header
	if h.Height != parent.height+1 {
		return fmt.Errorf("height %d after %d: %w", h.Height, parent.height, ErrBadHeight)
	}
	if want := c.requiredBits(parent); h.Bits != want {
		return fmt.Errorf("bits %d, want %d: %w", h.Bits, want, ErrBadBits)
	}
	if mtp := medianTimePast(parent); h.Timestamp <= mtp {
		return fmt.Errorf("timestamp %d not after median %d: %w", h.Timestamp, mtp, ErrTimeTooOld)
	}
	c.seq++
	n := &blockNode{hash: hash, block: b, parent: parent, height: h.Height, seq: c.seq,
		work: new(big.Int).Add(parent.work, Work(h.Bits))}
	c.index[hash] = n
	if n.work.Cmp(c.main[len(c.main)-1].work) <= 0 {
		return nil // first seen wins a tie
	}
	return c.reorganizeLocked(n, out)
}

// medianTimePast is the median timestamp of the last 11 blocks up to n.
func medianTimePast(n *blockNode) int64 {
	ts := make([]int64, 0, medianTimeSpan)
	for ; n != nil && len(ts) < medianTimeSpan; n = n.parent {
		ts = append(ts, n.block.Header.Timestamp)
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// reorganizeLocked makes target the best tip: it disconnects the best
// chain down to the fork point and connects target's branch, checking each
// block against the ledger. If a block fails, it and its descendants are
// marked invalid, the old chain is restored, and the valid part of the
// branch is adopted if it still has more work.
func (c *Chain) reorganizeLocked(target *blockNode, out *Outcome) error {
	var branch []*blockNode
	fork := target
	for ; fork.height >= uint64(len(c.main)) || c.main[fork.height] != fork; fork = fork.parent {
		branch = append(branch, fork)
	}
	slices.Reverse(branch)
	oldMain := slices.Clone(c.main[fork.height+1:])

	for i := len(oldMain) - 1; i >= 0; i-- {
		c.ledger.disconnect(oldMain[i].block)
	}
	c.main = c.main[:fork.height+1]
	for i, n := range branch {
		if err := c.ledger.connect(n.block, n.hash); err != nil {
			c.markInvalid(n)
			for j := i - 1; j >= 0; j-- {
				c.ledger.disconnect(branch[j].block)
			}
			c.main = c.main[:fork.height+1]
			for _, o := range oldMain {
				if cerr := c.ledger.connect(o.block, o.hash); cerr != nil {
					panic(fmt.Sprintf("chain: reconnecting the former best chain failed: %v", cerr))
				}
				c.main = append(c.main, o)
			}
			if i > 0 && branch[i-1].work.Cmp(c.main[len(c.main)-1].work) > 0 {
				if rerr := c.reorganizeLocked(branch[i-1], out); rerr != nil {
					return rerr
				}
			}
			return err
		}
		c.main = append(c.main, n)
	}
	c.updatePoolLocked(oldMain, branch, out)
	return nil
}

func (c *Chain) markInvalid(n *blockNode) {
	n.invalid = true
	for _, o := range c.index { // descendants already in the tree
		for p := o.parent; p != nil && p.height >= n.height; p = p.parent {
			if p == n {
				o.invalid = true
				break
			}
		}
	}
}

// updatePoolLocked brings the mempool in line with a move of the best
// chain: confirmed transactions leave it, those of dropped blocks that are
// still valid return to it, and senders who can no longer pay lose their
// cheapest pending transactions.
func (c *Chain) updatePoolLocked(disconnected, connected []*blockNode, out *Outcome) {
	for i := len(disconnected) - 1; i >= 0; i-- {
		out.Disconnected = append(out.Disconnected, disconnected[i].block)
	}
	senders := make(map[Address]struct{})
	for _, n := range connected {
		out.Connected = append(out.Connected, n.block)
		for i := range n.block.Txs {
			tx := &n.block.Txs[i]
			c.pool.remove(tx.ID)
			if tx.From != "" {
				senders[tx.From] = struct{}{}
			}
		}
	}
	if len(disconnected) == 0 {
		out.Evicted = append(out.Evicted, c.pool.fitSenders(c.ledger, senders)...)
		return
	}
	// A reorg: rebuild the pool from the dropped blocks' transactions
	// (older) and what was pending, in arrival order, against the new tip.
	pending := c.pool.byArrival()
	c.pool = newMempool(c.pool.limits)
	now := c.nowMillis()
	for _, n := range disconnected {
		for i := range n.block.Txs {
			tx := &n.block.Txs[i]
			if tx.Type == TxReward {
				continue
			}
			if c.readmitLocked(tx, now) == nil {
				out.Returned = append(out.Returned, *tx)
			}
		}
	}
	for _, e := range pending {
		if c.readmitLocked(&e.tx, now) != nil {
			out.Evicted = append(out.Evicted, e.tx)
		}
	}
}

// readmitLocked re-admits, after a reorg, a transaction the node had
// accepted and whose form and signature were already checked: it must
// still be valid on the new tip, but it is not refused for room.
func (c *Chain) readmitLocked(tx *Tx, now int64) error {
	if _, onChain := c.ledger.TxLocation(tx.ID); onChain || c.pool.has(tx.ID) {
		return ErrDuplicateTx
	}
	if err := checkTxTime(tx, now); err != nil {
		return err
	}
	return c.pool.readd(c.ledger, tx)
}

// AcceptTx is the one entry point for a transaction, from a client or a
// peer: it checks it fully and admits it to the mempool.
func (c *Chain) AcceptTx(tx *Tx) error {
	if tx.Type == TxReward {
		return fmt.Errorf("tx %s: %w", tx.ID, ErrRewardInMempool)
	}
	c.mu.RLock()
	dup := c.dupLocked(tx.ID)
	c.mu.RUnlock()
	if dup != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, dup)
	}
	hash, err := checkTxSanity(tx, &c.params)
	if err != nil {
		return err
	}
	c.sigs.add(hash)
	if err := checkTxTime(tx, c.nowMillis()); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if dup := c.dupLocked(tx.ID); dup != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, dup)
	}
	if err := c.pool.add(c.ledger, tx, hash); err != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	return nil
}

func (c *Chain) dupLocked(id string) error {
	if c.pool.has(id) {
		return ErrAlreadyPending
	}
	if _, ok := c.ledger.TxLocation(id); ok {
		return ErrDuplicateTx
	}
	return nil
}

// Template builds the next block for miner on the best tip: the reward,
// then pending transactions by fee and arrival within the block limits. Its
// nonce is zero; solve it, then hand it to ProcessBlock.
func (c *Chain) Template(miner Address) *Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	tip := c.main[len(c.main)-1]
	ts := max(c.nowMillis(), medianTimePast(tip)+1)
	reward := NewReward(miner, c.params.Reward)
	room := c.params.MaxBlockBytes - HeaderSize - reward.Size() - 32 // the reward grows with the fees' digits
	var txs []Tx
	for _, e := range c.pool.byPriority() {
		if len(txs)+2 > c.params.MaxBlockTxs {
			break
		}
		if e.size > room {
			continue
		}
		if checkTxTime(&e.tx, ts) != nil {
			c.pool.remove(e.tx.ID) // expired card: it can never be mined
			continue
		}
		txs = append(txs, e.tx)
		room -= e.size
	}
	return NewBlock(Header{Version: BlockVersion, Height: tip.height + 1, PrevHash: tip.hash,
		Timestamp: ts, Bits: c.requiredBits(tip)}, miner, c.params.Reward, txs)
}
