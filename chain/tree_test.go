package chain

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

func ids(txs []Tx) []string {
	out := make([]string, len(txs))
	for i := range txs {
		out[i] = txs[i].ID
	}
	slices.Sort(out)
	return out
}

func hashes(bs []*Block) []Hash {
	out := make([]Hash, len(bs))
	for i, b := range bs {
		out[i] = b.Hash()
	}
	return out
}

func balances(h *harness) map[Address]int64 {
	m := make(map[Address]int64)
	for i := range testKeyCount {
		if v := h.c.Balance(addr(i)); v != 0 {
			m[addr(i)] = v
		}
	}
	return m
}

func TestReorgThreeOverTwoAndBack(t *testing.T) {
	h := newHarness(t, nil)
	a1 := h.mine(0) // k0: 50
	shared := transfer(t, 0, 1, 7, 1)
	onlyA := transfer(t, 0, 2, 5, 2)
	conflict := transfer(t, 0, 3, 30, 0) // k0 spends in A what B spends otherwise
	a2 := h.mine(4, shared, onlyA)
	a3 := h.mine(4, conflict)
	balA := balances(h)
	wantA := map[Address]int64{addr(0): 50 - 8 - 7 - 30, addr(1): 7, addr(2): 5, addr(3): 30, addr(4): 50 + 3 + 50}
	if !maps.Equal(balA, wantA) {
		t.Fatalf("branch A balances %v, want %v", balA, wantA)
	}
	pendingA := transfer(t, 1, 2, 2, 1) // pending before the reorg
	h.accept(pendingA)

	// Branch B forks after a1: b2, b3 tie with A (first seen wins), b4 wins.
	spendB := transfer(t, 0, 5, 30, 0)
	b2 := h.build(a1, addr(5), []Tx{shared}, nil)
	b3 := h.build(b2, addr(5), []Tx{spendB}, nil)
	b4 := h.build(b3, addr(5), nil, nil)
	for _, b := range []*Block{b2, b3} {
		out := h.mustProcess(b)
		if out.Status != StatusSideBranch || out.Tip.Hash != a3.Hash() {
			t.Fatalf("side branch: %v tip %v", out.Status, out.Tip.Hash.Short())
		}
	}
	if !maps.Equal(balances(h), balA) {
		t.Fatal("side branch changed balances")
	}
	out := h.mustProcess(b4)
	if out.Status != StatusReorganized || out.Tip.Hash != b4.Hash() || out.Tip.Height != 4 {
		t.Fatalf("reorg: %+v", out)
	}
	if got, want := hashes(out.Disconnected), hashes([]*Block{a3, a2}); !slices.Equal(got, want) {
		t.Fatalf("disconnected %v want %v", got, want)
	}
	if got, want := hashes(out.Connected), hashes([]*Block{b2, b3, b4}); !slices.Equal(got, want) {
		t.Fatalf("connected %v want %v", got, want)
	}
	// onlyA is returned; shared is confirmed on B; conflict no longer fits
	// (k0 has 50-8-30 = 12 left, 7 of which onlyA takes).
	if got, want := ids(out.Returned), ids([]Tx{onlyA}); !slices.Equal(got, want) {
		t.Fatalf("returned %v want %v", got, want)
	}
	if got, want := ids(h.c.Pending()), ids([]Tx{onlyA, pendingA}); !slices.Equal(got, want) {
		t.Fatalf("pending %v want %v", got, want)
	}
	wantB := map[Address]int64{addr(0): 50 - 8 - 30, addr(1): 7, addr(5): 50 + 1 + 50 + 50 + 30}
	if got := balances(h); !maps.Equal(got, wantB) {
		t.Fatalf("branch B balances %v, want %v", got, wantB)
	}
	h.checkConsistent()
	if _, st, _ := h.c.FindTx(conflict.ID); st != TxUnknown {
		t.Fatalf("conflicting tx state %v", st)
	}

	// Back to A: a4, a5 make A longer again.
	a4 := h.build(a3, addr(4), nil, nil)
	a5 := h.build(a4, addr(4), nil, nil)
	if out := h.mustProcess(a4); out.Status != StatusSideBranch {
		t.Fatalf("a4 %v", out.Status)
	}
	out = h.mustProcess(a5)
	if out.Status != StatusReorganized || out.Tip.Hash != a5.Hash() {
		t.Fatalf("reorg back: %v", out.Status)
	}
	if got, want := hashes(out.Disconnected), hashes([]*Block{b4, b3, b2}); !slices.Equal(got, want) {
		t.Fatalf("disconnected %v want %v", got, want)
	}
	// spendB no longer fits (k0 has 5 on A); onlyA is confirmed again.
	if len(out.Returned) != 0 {
		t.Fatalf("returned %v", ids(out.Returned))
	}
	if got, want := ids(h.c.Pending()), ids([]Tx{pendingA}); !slices.Equal(got, want) {
		t.Fatalf("pending %v want %v", got, want)
	}
	wantA[addr(4)] += 100
	if got := balances(h); !maps.Equal(got, wantA) {
		t.Fatalf("back on A: balances %v, want %v", got, wantA)
	}
	h.checkConsistent()
	if _, st, loc := h.c.FindTx(onlyA.ID); st != TxConfirmed || loc.Block != a2.Hash() {
		t.Fatalf("onlyA: %v %v", st, loc)
	}
}

func TestReorgInvalidBranchRestoresTip(t *testing.T) {
	h := newHarness(t, nil)
	a1 := h.mine(0)
	a2 := h.mine(0)
	h.accept(transfer(t, 0, 1, 10, 1))
	before := h.snap()
	// A side branch whose middle block overspends: stored while it has
	// less work, rejected when its descendant would make it best.
	b2 := h.build(a1, addr(3), []Tx{transfer(t, 0, 2, 80, 0)}, nil) // k0 has 50 on this branch
	b3 := h.build(b2, addr(3), nil, nil)
	if out := h.mustProcess(b2); out.Status != StatusSideBranch {
		t.Fatalf("b2 %v", out.Status)
	}
	if _, err := h.c.ProcessBlock(b3); !errors.Is(err, ErrInsufficientFund) {
		t.Fatalf("b3: %v", err)
	}
	h.assertUnchanged(before)
	if h.c.Tip().Hash != a2.Hash() {
		t.Fatal("tip moved")
	}
	b4 := h.build(b3, addr(3), nil, nil)
	if _, err := h.c.ProcessBlock(b4); !errors.Is(err, ErrKnownInvalid) {
		t.Fatalf("b4: %v", err)
	}
	h.assertUnchanged(before)
}

func TestOrphansConnectWhenParentArrives(t *testing.T) {
	h := newHarness(t, nil)
	b1 := h.build(h.gen, addr(0), nil, nil)
	b2 := h.build(b1, addr(0), []Tx{transfer(t, 0, 1, 5, 1)}, nil)
	b3 := h.build(b2, addr(1), []Tx{transfer(t, 1, 2, 2, 0)}, nil)
	b3x := h.build(b2, addr(2), nil, nil) // sibling of b3, seen later

	out := h.mustProcess(b3)
	if out.Status != StatusOrphan || out.MissingParent != b2.Hash() || out.Tip.Hash != h.gen.Hash() {
		t.Fatalf("b3: %v missing %v", out.Status, out.MissingParent.Short())
	}
	out = h.mustProcess(b3x)
	if out.Status != StatusOrphan {
		t.Fatalf("b3x: %v", out.Status)
	}
	out = h.mustProcess(b2)
	if out.Status != StatusOrphan || out.MissingParent != b1.Hash() {
		t.Fatalf("b2: %v missing %v", out.Status, out.MissingParent.Short())
	}
	if h.c.Orphans() != 3 || !h.c.HasBlock(b3.Hash()) || h.c.Height() != 0 {
		t.Fatalf("orphans %d height %d", h.c.Orphans(), h.c.Height())
	}
	out = h.mustProcess(b1)
	if out.Status != StatusExtended || out.Tip.Hash != b3.Hash() {
		t.Fatalf("b1: %v tip %v", out.Status, out.Tip.Hash.Short())
	}
	if got, want := hashes(out.Connected), hashes([]*Block{b1, b2, b3}); !slices.Equal(got, want) {
		t.Fatalf("connected %v want %v", got, want)
	}
	if h.c.Orphans() != 0 {
		t.Fatalf("%d orphans left", h.c.Orphans())
	}
	if _, onMain, ok := h.c.BlockByHash(b3x.Hash()); !ok || onMain {
		t.Fatalf("b3x: known %v onMain %v", ok, onMain)
	}
	h.checkConsistent()
	if h.c.Balance(addr(2)) != 2 || h.c.Balance(addr(1)) != 5-2+50 {
		t.Fatal("balances after orphan connection")
	}
}

func TestOrphanPoolBounded(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxOrphans = 2 })
	b1 := h.build(h.gen, addr(0), nil, nil)
	var orphans []*Block
	for range 3 {
		orphans = append(orphans, h.build(b1, addr(len(orphans)), nil, nil))
	}
	for _, o := range orphans {
		if out := h.mustProcess(o); out.Status != StatusOrphan {
			t.Fatal(out.Status)
		}
	}
	if h.c.Orphans() != 2 || h.c.HasBlock(orphans[0].Hash()) {
		t.Fatalf("orphans %d; oldest kept %v", h.c.Orphans(), h.c.HasBlock(orphans[0].Hash()))
	}
	out := h.mustProcess(b1)
	if out.Tip.Hash != orphans[1].Hash() {
		t.Fatal("first seen remaining orphan should win the tie")
	}
}

func TestFirstSeenWinsTies(t *testing.T) {
	h := newHarness(t, nil)
	x := h.build(h.gen, addr(0), nil, nil)
	y := h.build(h.gen, addr(1), nil, nil)
	if out := h.mustProcess(x); out.Status != StatusExtended {
		t.Fatal(out.Status)
	}
	before := h.snap()
	if out := h.mustProcess(y); out.Status != StatusSideBranch || out.Tip.Hash != x.Hash() {
		t.Fatalf("y: %v", out.Status)
	}
	h.assertUnchanged(before)
	// y's child gives y's branch more work
	y2 := h.build(y, addr(1), nil, nil)
	out := h.mustProcess(y2)
	if out.Status != StatusReorganized || out.Tip.Hash != y2.Hash() {
		t.Fatalf("y2: %v", out.Status)
	}
	// x's child now only ties
	x2 := h.build(x, addr(0), nil, nil)
	if out := h.mustProcess(x2); out.Status != StatusSideBranch {
		t.Fatalf("x2: %v", out.Status)
	}
	if h.c.Balance(addr(0)) != 0 || h.c.Balance(addr(1)) != 100 {
		t.Fatal("balances")
	}
	h.checkConsistent()
}

func TestTipChanged(t *testing.T) {
	h := newHarness(t, nil)
	ch := h.c.TipChanged()
	select {
	case <-ch:
		t.Fatal("closed early")
	default:
	}
	h.mine(0)
	select {
	case <-ch:
	default:
		t.Fatal("not closed on a new tip")
	}
}
