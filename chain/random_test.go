package chain

import (
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// mblock is the test's own model of a block: the balances and confirmed
// ids of its branch after it, computed by a naive replay independent of
// Ledger.
type mblock struct {
	b      *Block
	parent *mblock
	bal    map[Address]int64
	ids    map[string]bool
	seq    int // connection order, for first-seen ties
}

// modelApply returns the state after b on parent, or ok=false when the
// block breaks a ledger rule.
func modelApply(parent *mblock, b *Block) (bal map[Address]int64, ids map[string]bool, ok bool) {
	bal = maps.Clone(parent.bal)
	ids = maps.Clone(parent.ids)
	var reward *Tx
	for _, tx := range b.Txs {
		id := string(tx.From) + "/" + tx.ID // ids are unique per sender
		if ids[id] {
			return nil, nil, false
		}
		ids[id] = true
		switch tx.Type {
		case TxReward: // not spendable in its own block (PROTOCOL §7)
			reward = &tx
		case TxMint:
			if bal[tx.From]+tx.Amount < tx.Fee {
				return nil, nil, false
			}
			bal[tx.From] += tx.Amount - tx.Fee
		case TxTransfer:
			if bal[tx.From] < tx.Amount+tx.Fee {
				return nil, nil, false
			}
			bal[tx.From] -= tx.Amount + tx.Fee
			bal[tx.To] += tx.Amount
		}
	}
	if reward != nil {
		bal[reward.To] += reward.Amount
	}
	for a, v := range bal {
		if v == 0 {
			delete(bal, a)
		}
	}
	return bal, ids, true
}

type randWorld struct {
	t      *testing.T
	h      *harness
	r      *rand.Rand
	blocks []*mblock // valid blocks, connection order
	byHash map[Hash]*mblock
	seq    int
}

func (w *randWorld) tip() *mblock {
	best := w.blocks[0]
	for _, m := range w.blocks {
		if m.b.Header.Height > best.b.Header.Height ||
			(m.b.Header.Height == best.b.Header.Height && m.seq < best.seq) {
			best = m
		}
	}
	return best
}

// randTxs makes n transactions valid on top of state bal (spending at most
// what each sender has, in order).
func (w *randWorld) randTxs(bal map[Address]int64, n int) []Tx {
	bal = maps.Clone(bal)
	var txs []Tx
	for range n {
		if w.r.IntN(8) == 0 {
			k := w.r.IntN(testKeyCount)
			amount := 1 + w.r.Int64N(500)
			fee := w.r.Int64N(min(bal[addr(k)]+amount, 5) + 1)
			txs = append(txs, mint(w.t, k, amount, fee))
			bal[addr(k)] += amount - fee
			continue
		}
		from := w.r.IntN(testKeyCount)
		if bal[addr(from)] < 2 {
			continue
		}
		to := (from + 1 + w.r.IntN(testKeyCount-1)) % testKeyCount
		fee := w.r.Int64N(min(bal[addr(from)]-1, 4) + 1)
		amount := 1 + w.r.Int64N(bal[addr(from)]-fee)
		txs = append(txs, transfer(w.t, from, to, amount, fee))
		bal[addr(from)] -= amount + fee
		bal[addr(to)] += amount
	}
	return txs
}

// pickParent: mostly the tip, sometimes an ancestor a few blocks back (a
// fork), sometimes any valid block.
func (w *randWorld) pickParent() *mblock {
	m := w.tip()
	switch x := w.r.IntN(10); {
	case x < 6:
	case x < 9:
		for d := w.r.IntN(6); d > 0 && m.parent != nil; d-- {
			m = m.parent
		}
	default:
		m = w.blocks[w.r.IntN(len(w.blocks))]
	}
	return m
}

func (w *randWorld) add(parent *mblock, b *Block) {
	bal, ids, ok := modelApply(parent, b)
	if !ok {
		w.t.Fatalf("model rejects a block meant to be valid")
	}
	w.seq++
	m := &mblock{b: b, parent: parent, bal: bal, ids: ids, seq: w.seq}
	w.blocks = append(w.blocks, m)
	w.byHash[b.Hash()] = m
}

// modelMTP is the median of the last 11 timestamps up to m, computed
// independently of medianTimePast.
func modelMTP(m *mblock) int64 {
	var ts []int64
	for ; m != nil && len(ts) < 11; m = m.parent {
		ts = append(ts, m.b.Header.Timestamp)
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

func (w *randWorld) check(step int) {
	w.t.Helper()
	w.h.checkConsistent()
	want := w.tip()
	tip := w.h.c.Tip()
	if tip.Hash != want.b.Hash() {
		w.t.Fatalf("step %d: tip %s@%d, model %s@%d", step, tip.Hash.Short(), tip.Height, want.b.Hash().Short(), want.b.Header.Height)
	}
	for i := range testKeyCount {
		if got := w.h.c.Balance(addr(i)); got != want.bal[addr(i)] {
			w.t.Fatalf("step %d: balance of key %d is %d, model %d", step, i, got, want.bal[addr(i)])
		}
	}
}

func TestRandomChains(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Params.MaxBlockTxs = 8; c.Mempool.MaxTxs = 12 })
	w := &randWorld{t: t, h: h, r: rand.New(rand.NewPCG(2022, 327)), byHash: map[Hash]*mblock{}}
	g := &mblock{b: h.gen, bal: map[Address]int64{}, ids: map[string]bool{}}
	w.blocks = []*mblock{g}
	w.byHash[h.gen.Hash()] = g

	const steps = 700
	var stats struct{ valid, orphanPairs, ledgerBad, sanityBad, template, pool, reorgs int }
	for step := range steps {
		h.clock.ms.Add(1000)
		miner := addr(w.r.IntN(testKeyCount))
		switch x := w.r.IntN(20); {
		case x < 10: // valid blocks: one on the tip or a branch from a fork
			p := w.pickParent()
			n := 1
			if depth := h.c.Height() - p.b.Header.Height; depth > 0 && w.r.IntN(2) == 0 {
				n = int(depth) + w.r.IntN(3) // a branch that may tie or overtake
			}
			for range n {
				b := h.build(p.b, miner, w.randTxs(p.bal, w.r.IntN(5)), nil)
				out := h.mustProcess(b)
				if out.Status == StatusReorganized {
					stats.reorgs++
				}
				w.add(p, b)
				p = w.byHash[b.Hash()]
				stats.valid++
				w.check(step)
			}
		case x < 12: // two blocks delivered child first
			p := w.pickParent()
			b1 := h.build(p.b, miner, w.randTxs(p.bal, w.r.IntN(3)), nil)
			bal1, _, _ := modelApply(p, b1)
			b2 := h.build(b1, miner, w.randTxs(bal1, w.r.IntN(3)), nil)
			if out := h.mustProcess(b2); out.Status != StatusOrphan || out.MissingParent != b1.Hash() {
				t.Fatalf("step %d: child first: %v", step, out.Status)
			}
			h.mustProcess(b1)
			w.add(p, b1)
			w.add(w.byHash[b1.Hash()], b2)
			stats.orphanPairs++
		case x < 14: // a block breaking a ledger rule: overspend or replay
			p := w.pickParent()
			var bad Tx
			if anc := p; w.r.IntN(2) == 0 && len(anc.b.Txs) > 1 {
				bad = anc.b.Txs[1+w.r.IntN(len(anc.b.Txs)-1)]
			} else {
				k := w.r.IntN(testKeyCount)
				bad = transfer(t, k, (k+1)%testKeyCount, p.bal[addr(k)]+1, 0)
			}
			b := h.build(p.b, miner, []Tx{bad}, nil)
			before := h.snap()
			_, err := h.c.ProcessBlock(b)
			if err != nil && !errors.Is(err, ErrDuplicateTx) && !errors.Is(err, ErrInsufficientFund) {
				t.Fatalf("step %d: ledger-invalid block: %v", step, err)
			}
			h.assertUnchanged(before)
			stats.ledgerBad++
		case x < 16: // a block breaking a context-free or header rule
			p := w.pickParent()
			type mut struct {
				err error
				f   func(*Block)
			}
			muts := []mut{
				{ErrBadMerkleRoot, func(b *Block) { b.Header.MerkleRoot[31] ^= 1 }},
				{ErrBadReward, func(b *Block) { b.Txs[0].Amount--; remerkle(b) }},
				{ErrBadBits, func(b *Block) { b.Header.Bits++ }},
				{ErrBadHeight, func(b *Block) { b.Header.Height++ }},
				{ErrTimeTooOld, func(b *Block) { b.Header.Timestamp = modelMTP(p) - w.r.Int64N(2000) }},
				{ErrExtraCoinbase, func(b *Block) {
					b.Txs = append(b.Txs, NewReward(b.Header.Height, b.Header.PrevHash, miner, 1))
					remerkle(b)
				}},
			}
			m := muts[w.r.IntN(len(muts))]
			if p.parent == nil && errors.Is(m.err, ErrBadHeight) {
				m.err = ErrBadHeight // height 2 on genesis: parent known, so a height error
			}
			b := h.build(p.b, miner, w.randTxs(p.bal, w.r.IntN(3)), m.f)
			before := h.snap()
			if _, err := h.c.ProcessRequestedBlock(b); !errors.Is(err, m.err) {
				t.Fatalf("step %d: %v, want %v", step, err, m.err)
			}
			h.assertUnchanged(before)
			stats.sanityBad++
		case x < 18: // transactions to the mempool (some may not fit)
			tip := w.tip()
			for _, tx := range w.randTxs(tip.bal, 1+w.r.IntN(4)) {
				err := h.c.AcceptTx(&tx)
				if err != nil && !errors.Is(err, ErrInsufficientFund) && !errors.Is(err, ErrMempoolFull) {
					t.Fatalf("step %d: AcceptTx: %v", step, err)
				}
				stats.pool++
			}
		default: // mine the mempool through Template
			b := h.c.Template(miner)
			solve(t, b)
			if out := h.mustProcess(b); out.Status != StatusExtended {
				t.Fatalf("step %d: template block %v", step, out.Status)
			}
			w.add(w.tip(), b)
			stats.template++
		}
		w.check(step)
	}
	if stats.valid+2*stats.orphanPairs+stats.template < 500 {
		t.Fatalf("only %d valid blocks", stats.valid+2*stats.orphanPairs+stats.template)
	}
	if stats.reorgs == 0 {
		t.Fatal("no reorg happened")
	}
	t.Logf("%d steps: %+v; height %d, %d blocks in the tree", steps, stats, h.c.Height(), len(w.blocks))
}
