package chain

import (
	"crypto/fips140"
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
	// MaxOrphanBytes bounds those blocks' total Block.Size; 0 = 16 MiB.
	MaxOrphanBytes int
	// MaxSideBytes bounds the total Block.Size of the tree's blocks off the
	// best chain (side branches); 0 = 32 MiB. The least-work branches are
	// pruned first; the branch of the block being stored never is.
	MaxSideBytes int
	Mempool      MempoolLimits
	Now          func() time.Time // the node's clock; nil = time.Now
}

// Default bounds of Config.
const (
	DefaultMaxOrphans     = 512
	DefaultMaxOrphanBytes = 16 << 20
	DefaultMaxSideBytes   = 32 << 20
)

// ErrFIPSOnly is New's answer in FIPS 140-3 "only" mode.
var ErrFIPSOnly = errors.New("chain: GODEBUG=fips140=only is not supported: in that mode crypto/rsa " +
	"refuses the 1024-bit keys the consensus rules accept and SHA-1 (transaction ids are UUIDv5), " +
	"so the node would reject valid blocks and fork from its network; run with fips140=on " +
	"(signatures are then verified by the FIPS module, with the same verdicts) or off")

// blockNode is a block in the tree of every valid-looking block seen.
type blockNode struct {
	hash     Hash
	block    *Block
	parent   *blockNode
	height   uint64
	work     *big.Int // cumulative, genesis included
	seq      uint64   // first-seen order
	size     int      // Block.Size
	children int      // nodes of the tree whose parent this is
	invalid  bool
}

// Chain is a node's view of the network's history: the block tree, the
// best chain by cumulative work, its ledger and the mempool, all guarded by
// one lock so that a reorg and its ledger and mempool changes are atomic.
type Chain struct {
	params       Params
	now          func() time.Time
	genesis      Hash
	maxSideBytes int

	mu        sync.RWMutex
	index     map[Hash]*blockNode
	main      []*blockNode // best chain by height
	treeBytes int          // Σ size over index
	mainBytes int          // Σ size over main
	ledger    *Ledger
	pool      *Mempool
	orphans   orphanPool
	seq       uint64
	tipWatch  chan struct{}

	sigs sigCache // signature verdicts, by transaction hash
}

// Tip summarises the best chain's last block.
type Tip struct {
	Hash      Hash     `json:"hash"`
	Height    uint64   `json:"height"`
	Work      *big.Int `json:"work"`
	Timestamp int64    `json:"timestamp"`
}

// New builds a chain holding only the genesis block. It refuses to run in
// FIPS 140-3 "only" mode (ErrFIPSOnly).
func New(cfg Config) (*Chain, error) {
	if fips140.Enforced() {
		return nil, ErrFIPSOnly
	}
	if cfg.Genesis == nil || cfg.Genesis.Header.Height != 0 || !cfg.Genesis.Header.PrevHash.IsZero() {
		return nil, errors.New("chain: a genesis block at height 0 is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxOrphans <= 0 {
		cfg.MaxOrphans = DefaultMaxOrphans
	}
	if cfg.MaxOrphanBytes <= 0 {
		cfg.MaxOrphanBytes = DefaultMaxOrphanBytes
	}
	if cfg.MaxSideBytes <= 0 {
		cfg.MaxSideBytes = DefaultMaxSideBytes
	}
	size := cfg.Genesis.Size()
	g := &blockNode{hash: cfg.Genesis.Hash(), block: cfg.Genesis, work: Work(cfg.Genesis.Header.Bits), size: size}
	c := &Chain{
		params:       cfg.Params,
		now:          cfg.Now,
		genesis:      g.hash,
		maxSideBytes: cfg.MaxSideBytes,
		index:        map[Hash]*blockNode{g.hash: g},
		main:         []*blockNode{g},
		treeBytes:    size,
		mainBytes:    size,
		ledger:       NewLedger(),
		pool:         newMempool(cfg.Mempool),
		orphans:      newOrphanPool(cfg.MaxOrphans, cfg.MaxOrphanBytes),
		tipWatch:     make(chan struct{}),
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
	StatusOrphan                        // held until its parent arrives (not in the tree)
	StatusExtended                      // the best chain grew
	StatusReorganized                   // the best chain switched branches
	// StatusIgnored: valid as far as checked, but not stored: it was not
	// requested and its branch has less work than the best chain.
	StatusIgnored
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
	case StatusIgnored:
		return "ignored"
	}
	return "unknown"
}

// Outcome says what processing a block changed. When the block let held
// orphans connect, their effects are included.
type Outcome struct {
	Status Status
	Hash   Hash
	// Stored lists the blocks this call added to the block tree (the
	// block, then the orphans it let connect), parents first: what a node
	// with a data directory writes. An orphan is not stored (it is held
	// in memory, bounded, until its parent arrives); neither is an
	// ignored block nor one found invalid.
	Stored        []*Block
	Connected     []*Block // joined the best chain, in order
	Disconnected  []*Block // left the best chain, tip first
	Returned      []Tx     // transactions of disconnected blocks given back to the mempool
	Evicted       []Tx     // pending transactions the new chain invalidated
	MissingParent Hash     // for an orphan: the ancestor to fetch
	Tip           Tip
}

// ProcessBlock is the one entry point for a block that arrives unasked
// (announced by a peer, or mined here): it checks the block, cheapest
// checks first, stores it in the tree (or holds it as an orphan), and
// moves the best chain if the block's branch now has the most work. A
// block whose branch would have less work than the best chain is not
// stored (StatusIgnored): it costs the node no memory, no disk and no
// signature check. An invalid block changes nothing and the error wraps
// its rule.
func (c *Chain) ProcessBlock(b *Block) (Outcome, error) { return c.process(b, false) }

// ProcessRequestedBlock is ProcessBlock for a block the node asked for (a
// sync page, or its own store at start-up): it is stored even when its
// branch has less work than the best chain so far, so that a branch with
// more work is fetched however deep its fork; the side-branch bound
// (Config.MaxSideBytes) prunes other branches first.
func (c *Chain) ProcessRequestedBlock(b *Block) (Outcome, error) { return c.process(b, true) }

func (c *Chain) process(b *Block, requested bool) (Outcome, error) {
	hash := b.Hash()
	out := Outcome{Hash: hash}
	fail := func(err error) (Outcome, error) {
		out.Tip = c.Tip()
		return out, fmt.Errorf("block %s: %w", hash.Short(), err)
	}
	c.mu.RLock()
	known := c.knownLocked(hash)
	c.mu.RUnlock()
	if known {
		return fail(ErrDuplicateBlock)
	}
	// 1. The header alone: form, the network's minimum difficulty and the
	// proof-of-work, the clock. A header costs one hash to check and a
	// valid one costs its miner at least the minimum difficulty.
	if err := checkHeader(&b.Header, hash, &c.params, c.nowMillis()); err != nil {
		return fail(err)
	}
	if len(b.Txs) > c.params.MaxBlockTxs {
		return fail(ErrTooManyTxs)
	}
	// 2. Its place in the tree: known, orphan, or after a known parent
	// (height, exact bits, median time, and the work of its branch).
	c.mu.RLock()
	parent, extendsTip, ignore, err := c.placeLocked(hash, &b.Header, requested)
	c.mu.RUnlock()
	if err != nil {
		return fail(err)
	}
	if ignore {
		out.Status = StatusIgnored
		out.Tip = c.Tip()
		return out, nil
	}
	if parent == nil {
		// An orphan is held on its header and size alone: its body is
		// checked when it connects.
		size := b.Size()
		if size > c.params.MaxBlockBytes {
			return fail(ErrBlockTooLarge)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.holdOrphanLocked(hash, b, size, out)
	}
	// 3. The body: size, form, merkle root, ids within the block, reward.
	leaves, size, err := checkBlockBody(b, &c.params)
	if err != nil {
		return fail(err)
	}
	// 4. Ids and funds against the ledger, when the block extends the best
	// chain (a side branch's are checked when it would become best).
	if extendsTip {
		c.mu.RLock()
		if c.main[len(c.main)-1] == parent {
			err = c.ledger.checkConnect(b)
		}
		c.mu.RUnlock()
		if err != nil {
			return fail(err)
		}
	}
	// 5. Signatures, nearly all the cost, outside the lock.
	if err := verifyTxSigs(b.Txs, leaves, &c.sigs); err != nil {
		return fail(err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.knownLocked(hash) {
		out.Tip = c.tipLocked()
		return out, fmt.Errorf("block %s: %w", hash.Short(), ErrDuplicateBlock)
	}
	if parent = c.index[b.Header.PrevHash]; parent == nil { // pruned meanwhile
		return c.holdOrphanLocked(hash, b, size, out)
	}
	oldTip := c.main[len(c.main)-1]
	out.Status = StatusSideBranch
	var stored []*blockNode
	n, err := c.acceptLocked(parent, hash, b, size, requested, &out)
	if n != nil {
		stored = append(stored, n)
	} else if err == nil {
		out.Status = StatusIgnored // the best chain moved past it meanwhile
	}
	// Connect the orphans that were waiting for this block, breadth first.
	// Their headers were checked when they arrived; their bodies and
	// signatures are checked now.
	if n != nil && err == nil {
		queue := []Hash{hash}
		for len(queue) > 0 {
			ph := queue[0]
			queue = queue[1:]
			for _, ch := range c.orphans.children(ph) {
				ob, osize := c.orphans.take(ch)
				p := c.index[ph]
				if p == nil || ob == nil {
					continue
				}
				if c.checkContextLocked(p, &ob.Header) != nil {
					continue
				}
				leaves, _, berr := checkBlockBody(ob, &c.params)
				if berr != nil || verifyTxSigs(ob.Txs, leaves, &c.sigs) != nil {
					continue
				}
				on, oerr := c.acceptLocked(p, ch, ob, osize, true, &out)
				if on != nil {
					stored = append(stored, on)
				}
				if oerr == nil && on != nil {
					queue = append(queue, ch)
				}
			}
		}
	}
	if len(stored) > 0 {
		c.pruneSideLocked(stored[len(stored)-1])
	}
	for _, s := range stored {
		if !s.invalid && c.index[s.hash] == s {
			out.Stored = append(out.Stored, s.block)
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

func (c *Chain) knownLocked(h Hash) bool {
	_, ok := c.index[h]
	return ok || c.orphans.has(h)
}

// placeLocked finds where a block whose header passed checkHeader would
// go: after parent (nil for an orphan), on the best tip or not, or nowhere
// (ignore: unrequested, and its branch would have less work than the best
// chain). It applies the rules against the parent.
func (c *Chain) placeLocked(hash Hash, h *Header, requested bool) (parent *blockNode, extendsTip, ignore bool, err error) {
	if c.knownLocked(hash) {
		return nil, false, false, ErrDuplicateBlock
	}
	parent, ok := c.index[h.PrevHash]
	if !ok {
		if h.Height == 1 {
			// The only block at height 0 is the genesis, which is known:
			// this block names no possible parent.
			return nil, false, false, fmt.Errorf("prev %s at height 1: %w", h.PrevHash.Short(), ErrBadPrevHash)
		}
		return nil, false, false, nil
	}
	if err := c.checkContextLocked(parent, h); err != nil {
		return nil, false, false, err
	}
	tip := c.main[len(c.main)-1]
	if !requested && c.lessWorkLocked(parent, h) {
		return nil, false, true, nil
	}
	return parent, parent == tip, false, nil
}

// lessWorkLocked reports whether a block with header h after parent would
// leave its branch with less work than the best chain.
func (c *Chain) lessWorkLocked(parent *blockNode, h *Header) bool {
	w := new(big.Int).Add(parent.work, Work(h.Bits))
	return w.Cmp(c.main[len(c.main)-1].work) < 0
}

// checkContextLocked applies the rules against the parent: not known
// invalid, height, exact bits, median time past.
func (c *Chain) checkContextLocked(parent *blockNode, h *Header) error {
	if parent.invalid {
		return ErrKnownInvalid
	}
	if h.Height != parent.height+1 {
		return fmt.Errorf("height %d after %d: %w", h.Height, parent.height, ErrBadHeight)
	}
	if want := c.requiredBits(parent); h.Bits != want {
		return fmt.Errorf("bits %d, want %d: %w", h.Bits, want, ErrBadBits)
	}
	if mtp := medianTimePast(parent); h.Timestamp <= mtp {
		return fmt.Errorf("timestamp %d not after median %d: %w", h.Timestamp, mtp, ErrTimeTooOld)
	}
	return nil
}

// holdOrphanLocked keeps a block whose parent is unknown, in memory and
// bounded; its header met the minimum difficulty, its body and signatures
// are checked when it connects.
func (c *Chain) holdOrphanLocked(hash Hash, b *Block, size int, out Outcome) (Outcome, error) {
	if c.knownLocked(hash) {
		out.Tip = c.tipLocked()
		return out, fmt.Errorf("block %s: %w", hash.Short(), ErrDuplicateBlock)
	}
	c.orphans.add(hash, b, size)
	out.Status = StatusOrphan
	out.MissingParent = c.orphans.missingRoot(hash)
	out.Tip = c.tipLocked()
	return out, nil
}

// acceptLocked checks a block against its parent, adds it to the tree and
// moves the best chain to it if its branch has more work. It returns the
// new node, or nil when the block was not stored (an error, or an
// unrequested block whose branch now has less work than the best chain).
func (c *Chain) acceptLocked(parent *blockNode, hash Hash, b *Block, size int, requested bool, out *Outcome) (*blockNode, error) {
	h := &b.Header
	if err := c.checkContextLocked(parent, h); err != nil {
		return nil, err
	}
	if !requested && c.lessWorkLocked(parent, h) {
		return nil, nil
	}
	c.seq++
	n := &blockNode{hash: hash, block: b, parent: parent, height: h.Height, seq: c.seq, size: size,
		work: new(big.Int).Add(parent.work, Work(h.Bits))}
	c.index[hash] = n
	parent.children++
	c.treeBytes += size
	if n.work.Cmp(c.main[len(c.main)-1].work) <= 0 {
		return n, nil // first seen wins a tie
	}
	return n, c.reorganizeLocked(n, out)
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
	for _, n := range oldMain {
		c.mainBytes -= n.size
	}
	for _, n := range branch {
		c.mainBytes += n.size
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
			if tx.Type == TxReward {
				continue
			}
			// The pool's entry for this sender and id leaves: confirmed if
			// it is this very transaction, else made unminable (the
			// sender's id is now taken on the chain).
			if e, ok := c.pool.remove(keyOf(tx)); ok && !sameTx(&e.tx, tx) {
				out.Evicted = append(out.Evicted, e.tx)
			}
			senders[tx.From] = struct{}{}
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
	if c.dupLocked(keyOf(tx)) != nil {
		return ErrDuplicateTx
	}
	if err := checkTxTime(tx, now); err != nil {
		return err
	}
	return c.pool.readd(c.ledger, tx)
}

// AcceptTx is the one entry point for a transaction, from a client or a
// peer: it checks it fully, cheapest checks first (size and form, the
// sender's id and funds, then the signature; a signature that failed
// before is a look-up), and admits it to the mempool.
func (c *Chain) AcceptTx(tx *Tx) error {
	if tx.Type == TxReward {
		return fmt.Errorf("tx %s: %w", tx.ID, ErrRewardInMempool)
	}
	msg := tx.SigningBytes()
	if err := checkTxForm(tx, &c.params, sizeOf(msg, tx.Signature)); err != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	if err := checkTxTime(tx, c.nowMillis()); err != nil {
		return err
	}
	k := keyOf(tx)
	c.mu.RLock()
	err := c.dupLocked(k)
	if err == nil && c.pool.spendable(c.ledger, tx.From) < tx.debit() {
		err = ErrInsufficientFund
	}
	c.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	hash := hashOf(msg, tx.Signature)
	if err := verifyTxSig(tx, msg, hash, &c.sigs); err != nil {
		return err
	}
	c.sigs.add(hash)
	c.mu.Lock()
	defer c.mu.Unlock()
	if dup := c.dupLocked(k); dup != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, dup)
	}
	if err := c.pool.add(c.ledger, tx, hash); err != nil {
		return fmt.Errorf("tx %s: %w", tx.ID, err)
	}
	return nil
}

// dupLocked applies the uniqueness rule: a sender's id is pending or on
// the best chain at most once.
func (c *Chain) dupLocked(k txKey) error {
	if c.pool.has(k) {
		return ErrAlreadyPending
	}
	if _, ok := c.ledger.TxLocation(k.from, k.id); ok {
		return ErrDuplicateTx
	}
	return nil
}

// sameTx reports whether a and b are the same transaction, field for
// field (what their Hash commits to), without hashing them.
func sameTx(a, b *Tx) bool {
	if a.Type != b.Type || a.ID != b.ID || a.From != b.From || a.To != b.To || a.Amount != b.Amount ||
		a.Fee != b.Fee || a.Signature != b.Signature || (a.Card == nil) != (b.Card == nil) {
		return false
	}
	return a.Card == nil || *a.Card == *b.Card
}

// Template builds the next block for miner on the best tip: the reward,
// then pending transactions by fee and arrival within the block limits. Its
// nonce is zero; solve it, then hand it to ProcessBlock.
func (c *Chain) Template(miner Address) *Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	tip := c.main[len(c.main)-1]
	ts := max(c.nowMillis(), medianTimePast(tip)+1)
	reward := NewReward(tip.height+1, tip.hash, miner, c.params.Reward)
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
			c.pool.remove(keyOf(&e.tx)) // expired card: it can never be mined
			continue
		}
		txs = append(txs, e.tx)
		room -= e.size
	}
	return NewBlock(Header{Version: BlockVersion, Height: tip.height + 1, PrevHash: tip.hash,
		Timestamp: ts, Bits: c.requiredBits(tip)}, miner, c.params.Reward, txs)
}
