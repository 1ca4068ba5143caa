package chain

import (
	"slices"
	"strings"
	"testing"
)

func TestLocatorAndBlocksAfter(t *testing.T) {
	h := newHarness(t, nil)
	var main []*Block
	main = append(main, h.gen)
	for range 40 {
		main = append(main, h.mine(0))
	}
	loc := h.c.Locator()
	var heights []uint64
	for _, hs := range loc {
		b, onMain, ok := h.c.BlockByHash(hs)
		if !ok || !onMain {
			t.Fatal("locator hash not on main")
		}
		heights = append(heights, b.Header.Height)
	}
	want := []uint64{40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 29, 25, 17, 1, 0}
	if !slices.Equal(heights, want) {
		t.Fatalf("locator heights %v want %v", heights, want)
	}
	if loc[len(loc)-1] != h.c.GenesisHash() {
		t.Fatal("locator does not end at genesis")
	}

	// A peer that shares up to height 20 and then forked.
	peer := newHarness(t, func(c *Config) { c.Genesis = h.gen })
	for _, b := range main[1:21] {
		peer.mustProcess(b)
	}
	for range 5 {
		peer.mine(3)
	}
	blocks, more := h.c.BlocksAfter(peer.c.Locator(), 100, 1<<30)
	if more || len(blocks) != 20 || blocks[0] != main[21] || blocks[19] != main[40] {
		t.Fatalf("got %d blocks, more %v", len(blocks), more)
	}
	for _, b := range blocks {
		peer.mustProcess(b)
	}
	if peer.c.Tip().Hash != h.c.Tip().Hash {
		t.Fatal("peer did not sync")
	}
	// page limits
	blocks, more = h.c.BlocksAfter([]Hash{main[10].Hash()}, 5, 1<<30)
	if !more || len(blocks) != 5 || blocks[0] != main[11] {
		t.Fatalf("maxBlocks: %d %v", len(blocks), more)
	}
	sz := main[11].Size()
	blocks, more = h.c.BlocksAfter([]Hash{main[10].Hash()}, 100, 2*sz+sz/2)
	if !more || len(blocks) != 2 {
		t.Fatalf("maxBytes: %d %v", len(blocks), more)
	}
	blocks, _ = h.c.BlocksAfter([]Hash{main[10].Hash()}, 100, 1) // the first block always fits
	if len(blocks) != 1 {
		t.Fatalf("tiny maxBytes: %d", len(blocks))
	}
	blocks, _ = h.c.BlocksAfter([]Hash{{1, 2, 3}}, 3, 1<<30) // nothing shared: from height 1
	if blocks[0] != main[1] {
		t.Fatal("unknown locator should start after genesis")
	}
	if bs := h.c.Blocks(38, 10); len(bs) != 3 || bs[2] != main[40] {
		t.Fatal("Blocks")
	}
	if rs := h.c.Recipients(); len(rs) != 1 || rs[0] != addr(0) {
		t.Fatalf("recipients %d", len(rs))
	}
}

// CheckedBalance applies the address rules to an address without a
// balance, and answers an address with one without parsing it again.
func TestCheckedBalance(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0)
	want := h.c.Balance(addr(0))
	if want == 0 {
		t.Fatal("the miner holds nothing after its block")
	}
	if got, err := h.c.CheckedBalance(addr(0)); err != nil || got != want {
		t.Fatalf("funded address: %d, %v; want %d", got, err, want)
	}
	if got, err := h.c.CheckedBalance(addr(1)); err != nil || got != 0 {
		t.Fatalf("valid address with nothing: %d, %v; want 0, nil", got, err)
	}
	for name, a := range map[string]Address{
		"empty":     "",
		"not hex":   "zz" + addr(1)[2:],
		"uppercase": Address(strings.ToUpper(string(addr(1)))),
		"truncated": addr(1)[:40],
		"weak key":  weakAddress(),
	} {
		if _, err := h.c.CheckedBalance(a); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
