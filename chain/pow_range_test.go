package chain

import (
	"context"
	"testing"
)

func TestSolveRangeFindsTheSameNonceAsSolve(t *testing.T) {
	hdr := Header{Version: BlockVersion, Height: 3, Timestamp: t0, Bits: 10}
	var m Miner
	want, err := m.Solve(context.Background(), hdr)
	if err != nil {
		t.Fatal(err)
	}
	// Slices of 100 tries until solved: the first nonce found is the same.
	cur := hdr
	for slices := 0; ; slices++ {
		next, ok, err := m.SolveRange(context.Background(), cur, 100)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if next.Nonce != want.Nonce {
				t.Fatalf("SolveRange found nonce %d, Solve %d", next.Nonce, want.Nonce)
			}
			if !MeetsBits(next.Hash(), next.Bits) {
				t.Fatal("solved header does not meet its bits")
			}
			break
		}
		if next.Nonce != cur.Nonce+100 {
			t.Fatalf("after a slice the nonce is %d, want %d", next.Nonce, cur.Nonce+100)
		}
		cur = next
	}
}
