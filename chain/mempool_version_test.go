package chain

import "testing"

// MempoolVersion changes with every change to the pool, stays put
// otherwise, and never takes a value twice (httpapi caches on it).
func TestMempoolVersion(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0)
	seen := map[uint64]bool{}
	step := func(what string, wantChange bool) {
		t.Helper()
		v := h.c.MempoolVersion()
		if seen[v] == wantChange {
			t.Fatalf("%s: version %d, want changed %v", what, v, wantChange)
		}
		seen[v] = true
	}
	step("start", true)
	tx := transfer(t, 0, 1, 1, 0)
	h.accept(tx)
	step("admission", true)
	if err := h.c.AcceptTx(&tx); err == nil {
		t.Fatal("a duplicate was admitted")
	}
	step("refused duplicate", false)
	h.c.Pending()
	h.c.Template(addr(0))
	step("reads", false)
	h.mine(0, tx)
	step("confirmation empties the pool", true)
	h.mine(0)
	step("a block without pool changes", false)
}
