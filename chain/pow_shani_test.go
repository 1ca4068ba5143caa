package chain

import (
	"context"
	"math/rand/v2"
	"testing"
)

// TestMidstatePaths checks the SHA-NI compression path against
// crypto/sha256 (through the marshalled midstate) and Header.Hash, for
// random headers and nonces; on a CPU without SHA-NI both are the slow path.
func TestMidstatePaths(t *testing.T) {
	if !hasSHANI {
		t.Log("no SHA-NI on this CPU: only the crypto/sha256 path runs")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		h := Header{Version: r.Uint32(), Height: r.Uint64(), Timestamp: r.Int64(), Bits: r.Uint32N(257), Nonce: r.Uint64()}
		for i := range h.PrevHash {
			h.PrevHash[i], h.MerkleRoot[i] = byte(r.Uint32()), byte(r.Uint32())
		}
		want := h.Hash()
		ms, err := newMidstate(&h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ms.try(h.Nonce)
		if err != nil || got != want {
			t.Fatalf("midstate (fast=%v) %v, want %v (%v)", ms.fast, got, want, err)
		}
		if ms.fast {
			st := ms.tryState(h.Nonce)
			if z := stateZeroBits(&st); z != LeadingZeroBits(want) {
				t.Fatalf("stateZeroBits %d, want %d", z, LeadingZeroBits(want))
			}
		}
		ms.fast = false
		if got, err := ms.try(h.Nonce); err != nil || got != want {
			t.Fatalf("midstate (slow) %v, want %v (%v)", got, want, err)
		}
	}
}

// TestSolveBothPaths solves the same header on both paths: same nonce.
func TestSolveBothPaths(t *testing.T) {
	h := Header{Version: 1, Height: 3, Timestamp: 1648339200000, Bits: 14}
	var m Miner
	fast, err := m.Solve(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := newMidstate(&h)
	if err != nil {
		t.Fatal(err)
	}
	ms.fast = false
	for n := uint64(0); ; n++ {
		got, _ := ms.try(n)
		if LeadingZeroBits(got) >= h.Bits {
			if n != fast.Nonce {
				t.Fatalf("slow path finds nonce %d, Solve %d", n, fast.Nonce)
			}
			break
		}
	}
	if !MeetsBits(fast.Hash(), h.Bits) {
		t.Fatal("solved header fails its bits")
	}
}

// TestSearchBlocks checks the assembly loop against tryState: for random
// headers, nonces, strides and limits (each set just above the first word
// of one of the tries), the first try below the limit is the one found.
func TestSearchBlocks(t *testing.T) {
	if !hasSHANI {
		t.Log("no SHA-NI on this CPU: the miner does not use the assembly loop")
		return
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		h := Header{Version: r.Uint32(), Height: r.Uint64(), Timestamp: r.Int64(), Bits: r.Uint32N(257), Nonce: r.Uint64()}
		for i := range h.PrevHash {
			h.PrevHash[i], h.MerkleRoot[i] = byte(r.Uint32()), byte(r.Uint32())
		}
		ms, err := newMidstate(&h)
		if err != nil {
			t.Fatal(err)
		}
		start, stride, count := r.Uint64(), 1+r.Uint64N(5), 1+r.Uint64N(40)
		words := make([]uint32, count)
		for i := range words {
			st := ms.tryState(start + uint64(i)*stride) // wraps like the loop
			words[i] = st[0]
		}
		limit := uint64(words[r.Uint64N(count)]) + uint64(r.Uint32N(2))
		want := count
		for i, w := range words {
			if uint64(w) < limit {
				want = uint64(i)
				break
			}
		}
		if got := searchSHANI(&ms.state, &ms.tail, start, stride, count, limit); got != want {
			t.Fatalf("start %d stride %d count %d limit %#x: index %d, want %d (words %x)", start, stride, count, limit, got, want, words)
		}
	}
}
