package chain

import (
	"errors"
	"slices"
	"testing"
)

func pendingFees(h *harness) []int64 {
	var fs []int64
	for _, tx := range h.c.Pending() {
		fs = append(fs, tx.Fee)
	}
	return fs
}

func TestMempoolOrderFeeThenArrival(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0)
	h.mine(1)
	a := transfer(t, 0, 2, 1, 1)
	b := transfer(t, 1, 2, 1, 3)
	c := transfer(t, 0, 2, 1, 3)
	d := transfer(t, 1, 2, 1, 2)
	for _, tx := range []Tx{a, b, c, d} {
		h.accept(tx)
	}
	if got, want := ids2(h.c.Pending()), []string{b.ID, c.ID, d.ID, a.ID}; !slices.Equal(got, want) {
		t.Fatalf("order %v want %v", got, want)
	}
	// several pending per sender while the balance covers them
	if got := h.c.Spendable(addr(0)); got != 50-2-4 {
		t.Fatalf("spendable %d", got)
	}
	h.checkConsistent()
}

func ids2(txs []Tx) []string {
	out := make([]string, len(txs))
	for i := range txs {
		out[i] = txs[i].ID
	}
	return out
}

// TestMempoolFullRefusesNewcomers: a full pool refuses a newcomer
// whatever its fee and keeps every transaction it accepted (an accepted
// transaction is a promise to the client).
func TestMempoolFullRefusesNewcomers(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Mempool.MaxTxs = 3 })
	h.mine(0)
	h.mine(0)
	for _, fee := range []int64{2, 1, 3} {
		h.accept(transfer(t, 0, 1, 1, fee))
	}
	before := h.snap()
	for _, fee := range []int64{0, 2, 50} {
		tx := transfer(t, 0, 1, 1, fee)
		if err := h.c.AcceptTx(&tx); !errors.Is(err, ErrMempoolFull) {
			t.Fatalf("fee %d: %v, want ErrMempoolFull", fee, err)
		}
	}
	h.assertUnchanged(before)
	if got := pendingFees(h); !slices.Equal(got, []int64{3, 2, 1}) {
		t.Fatalf("fees %v", got)
	}
	// A block frees room: newcomers are taken again.
	blk := h.build(h.tipBlock(), addr(4), h.c.Pending()[:1], nil)
	h.mustProcess(blk)
	h.accept(transfer(t, 0, 1, 1, 0))
	if n, _ := h.c.MempoolStats(); n != 3 {
		t.Fatalf("count %d", n)
	}
	h.checkConsistent()
}

func TestMempoolBoundedBytesRefuses(t *testing.T) {
	st := transfer(t, 0, 1, 1, 1)
	small := st.Size()
	m := mint(t, 0, 100, 10)
	if m.Size() <= small+20 {
		t.Fatalf("mint %d not larger than transfer %d", m.Size(), small)
	}
	h := newHarness(t, func(c *Config) { c.Mempool.MaxBytes = 2*small + m.Size() - 1 })
	h.mine(0)
	for _, fee := range []int64{1, 2} {
		h.accept(transfer(t, 0, 1, 1, fee))
	}
	before := h.snap()
	if err := h.c.AcceptTx(&m); !errors.Is(err, ErrMempoolFull) {
		t.Fatalf("a newcomer past the byte bound: %v, want ErrMempoolFull", err)
	}
	h.assertUnchanged(before)
	h.accept(transfer(t, 0, 1, 1, 0)) // a smaller one still fits
	if _, bytes := h.c.MempoolStats(); bytes != 3*small || bytes > 2*small+m.Size()-1 {
		t.Fatalf("bytes %d", bytes)
	}
	h.checkConsistent()
}

// TestPoolDigestAndHashes: equal pools have equal digests; the hashes
// name exactly the pending transactions.
func TestPoolDigestAndHashes(t *testing.T) {
	a, b := newHarness(t, nil), newHarness(t, nil)
	a.mine(0)
	b.mustProcess(a.tipBlock())
	x, y := transfer(t, 0, 1, 1, 1), transfer(t, 0, 2, 1, 1)
	a.accept(x)
	a.accept(y)
	b.accept(y)
	if ca, da := a.c.PoolDigest(); ca != 2 || da == (Hash{}) {
		t.Fatalf("count %d digest %s", ca, da)
	}
	_, da := a.c.PoolDigest()
	if _, db := b.c.PoolDigest(); db == da {
		t.Fatal("different pools, same digest")
	}
	b.accept(x)
	if _, db := b.c.PoolDigest(); db != da {
		t.Fatal("same pools, different digests")
	}
	got := a.c.PendingByHash([]Hash{y.Hash(), {1}, x.Hash()})
	if ids := ids2(got); !slices.Equal(ids, []string{y.ID, x.ID}) {
		t.Fatalf("PendingByHash: %v", ids)
	}
	if hs := a.c.PendingHashes(); len(hs) != 2 {
		t.Fatalf("PendingHashes: %d", len(hs))
	}
	a.checkConsistent()
	b.checkConsistent()
}

func TestMempoolConfirmedAndInvalidatedLeave(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0) // k0: 50
	a := transfer(t, 0, 1, 20, 1)
	b := transfer(t, 0, 2, 20, 2)
	h.accept(a)
	h.accept(b)
	// a block mined elsewhere confirms a, and spends k0's money otherwise
	other := transfer(t, 0, 3, 15, 0)
	blk := h.build(h.tipBlock(), addr(4), []Tx{a, other}, nil)
	out := h.mustProcess(blk)
	if h.c.HasTx(b.ID) && h.c.Spendable(addr(0)) < 0 {
		t.Fatal("overspent pool")
	}
	if got := ids2(out.Evicted); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("evicted %v", got)
	}
	if len(h.c.Pending()) != 0 {
		t.Fatalf("pending %v", ids2(h.c.Pending()))
	}
	if _, st, _ := h.c.FindTx(a.ID); st != TxConfirmed {
		t.Fatal("a not confirmed")
	}
	h.checkConsistent()
	// a mined template empties the pool
	h.accept(transfer(t, 0, 1, 3, 1))
	h.accept(transfer(t, 1, 2, 3, 1))
	tmpl := h.c.Template(addr(5))
	solve(t, tmpl)
	h.mustProcess(tmpl)
	if n, bytes := h.c.MempoolStats(); n != 0 || bytes != 0 {
		t.Fatalf("pool %d/%d after mining it", n, bytes)
	}
	if h.c.Balance(addr(5)) != 52 {
		t.Fatalf("miner %d", h.c.Balance(addr(5)))
	}
	h.checkConsistent()
}

func TestTemplateRespectsLimits(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Params.MaxBlockTxs = 4 })
	h.mine(0)
	h.mine(1)
	for i, fee := range []int64{5, 1, 4, 2, 3, 6} {
		h.accept(transfer(t, i%2, 2+i%3, 1, fee))
	}
	tmpl := h.c.Template(addr(7))
	if len(tmpl.Txs) != 4 || tmpl.Txs[0].Type != TxReward {
		t.Fatalf("%d txs", len(tmpl.Txs))
	}
	var fees []int64
	for _, tx := range tmpl.Txs[1:] {
		fees = append(fees, tx.Fee)
	}
	if !slices.Equal(fees, []int64{6, 5, 4}) || tmpl.Txs[0].Amount != h.p.Reward+15 {
		t.Fatalf("fees %v reward %d", fees, tmpl.Txs[0].Amount)
	}
	solve(t, tmpl)
	h.mustProcess(tmpl)
	if got := pendingFees(h); !slices.Equal(got, []int64{3, 2, 1}) {
		t.Fatalf("left %v", got)
	}

	// bytes: room for the reward and two transfers only
	st := transfer(t, 0, 1, 1, 1)
	sz := st.Size()
	h2 := newHarness(t, func(c *Config) {
		rw := NewReward(1, Hash{}, addr(7), 99)
		c.Params.MaxBlockBytes = HeaderSize + rw.Size() + 32 + 2*sz + sz/2
	})
	h2.mine(0)
	for _, fee := range []int64{1, 2, 3} {
		h2.accept(transfer(t, 0, 1, 1, fee))
	}
	tmpl = h2.c.Template(addr(7))
	if len(tmpl.Txs) != 3 || tmpl.Size() > h2.p.MaxBlockBytes {
		t.Fatalf("%d txs, %d bytes of %d", len(tmpl.Txs), tmpl.Size(), h2.p.MaxBlockBytes)
	}
	solve(t, tmpl)
	h2.mustProcess(tmpl)
	h2.checkConsistent()
}

func TestTemplateDropsExpiredCard(t *testing.T) {
	h := newHarness(t, nil)
	h.clock.ms.Store(t0 + 10*day) // 2024-01-11
	tx, _ := NewMint(key(0), testCard(t, "2024-01-11"), 10, 0, "")
	h.accept(tx)
	h.clock.ms.Store(t0 + 11*day)
	tmpl := h.c.Template(addr(1))
	if len(tmpl.Txs) != 1 || h.c.HasTx(tx.ID) {
		t.Fatal("expired mint kept")
	}
}

// TestReorgNeverEvictsAcceptedTransactions: with the pool full, a reorg
// that returns a dropped block's transactions keeps every pending one too,
// over the bound, and refuses new ones until blocks drain it.
func TestReorgNeverEvictsAcceptedTransactions(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Mempool = MempoolLimits{MaxTxs: 3} })
	fork := h.mine(0, mint(t, 1, 100, 0), mint(t, 2, 100, 0), mint(t, 3, 100, 0))
	dropped := []Tx{transfer(t, 1, 4, 5, 0), transfer(t, 2, 4, 5, 0)}
	h.mine(0, dropped...)
	pending := []Tx{transfer(t, 3, 4, 1, 0), transfer(t, 3, 4, 2, 0), transfer(t, 1, 4, 3, 0)}
	for _, tx := range pending {
		h.accept(tx)
	}
	b2 := h.build(fork, addr(5), nil, nil)
	h.mustProcess(b2) // a tie: first seen stays
	out := h.mustProcess(h.build(b2, addr(5), nil, nil))
	if out.Status != StatusReorganized {
		t.Fatalf("status %v, want a reorg", out.Status)
	}
	if len(out.Evicted) != 0 {
		t.Fatalf("the reorg evicted %d accepted transactions", len(out.Evicted))
	}
	if len(out.Returned) != len(dropped) {
		t.Fatalf("%d returned, want %d", len(out.Returned), len(dropped))
	}
	for _, tx := range append(dropped, pending...) {
		if _, st, _ := h.c.FindTx(tx.ID); st != TxPending {
			t.Errorf("tx %s is not pending after the reorg", tx.ID)
		}
	}
	if n, _ := h.c.MempoolStats(); n != 5 {
		t.Fatalf("pool holds %d, want all 5 (over its bound of 3)", n)
	}
	extra := transfer(t, 2, 4, 1, 0)
	if err := h.c.AcceptTx(&extra); !errors.Is(err, ErrMempoolFull) {
		t.Fatalf("a new transaction into the over-full pool: %v, want ErrMempoolFull", err)
	}
}
