package powsearch

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// randHeader is a random encoded header: every field (version, height,
// previous hash, merkle root, timestamp, bits, nonce) random.
func randHeader(r *rand.Rand) [HeaderSize]byte {
	var enc [HeaderSize]byte
	for i := 0; i < HeaderSize; i += 8 {
		binary.BigEndian.PutUint64(enc[i:], r.Uint64())
	}
	return enc
}

// nonceOf reads the nonce, the header's last eight bytes.
func nonceOf(enc *[HeaderSize]byte) uint64 { return binary.BigEndian.Uint64(enc[88:]) }

// zeroBits is the reference count of a hash's leading zero bits.
func zeroBits(h [32]byte) uint32 { return uint32(256 - new(big.Int).SetBytes(h[:]).BitLen()) }

// TestMidstateMatchesHash: the midstate's hash of a header, for any
// nonce, is SHA-256 of the whole encoded header.
func TestMidstateMatchesHash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		h := randHeader(r)
		ms, err := New(&h)
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			binary.BigEndian.PutUint64(h[88:], r.Uint64())
			got, err := ms.Hash(nonceOf(&h))
			if err != nil {
				t.Fatal(err)
			}
			if want := sha256.Sum256(h[:]); got != want {
				t.Fatalf("midstate %x != %x", got, want)
			}
		}
	}
}

// TestMidstatePaths checks the SHA-NI compression path against
// crypto/sha256 (through the marshalled midstate) and Header.Hash, for
// random headers and nonces; on a CPU without SHA-NI both are the slow path.
func TestMidstatePaths(t *testing.T) {
	if !hasSHANI {
		t.Log("no SHA-NI on this CPU: only the crypto/sha256 path runs")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		h := randHeader(r)
		want := sha256.Sum256(h[:])
		ms, err := New(&h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ms.Hash(nonceOf(&h))
		if err != nil || got != want {
			t.Fatalf("midstate (fast=%v) %x, want %x (%v)", ms.fast, got, want, err)
		}
		if ms.fast {
			st := ms.tryState(nonceOf(&h))
			if z := stateZeroBits(&st); z != zeroBits(want) {
				t.Fatalf("stateZeroBits %d, want %d", z, zeroBits(want))
			}
		}
		ms.fast = false
		if got, err := ms.Hash(nonceOf(&h)); err != nil || got != want {
			t.Fatalf("midstate (slow) %x, want %x (%v)", got, want, err)
		}
		if st, _ := ms.try(nonceOf(&h)); stateZeroBits(&st) != zeroBits(want) {
			t.Fatalf("stateZeroBits (slow) %d, want %d", stateZeroBits(&st), zeroBits(want))
		}
	}
}

// TestSolveBothPaths solves the same header on both paths: same nonce.
func TestSolveBothPaths(t *testing.T) {
	var h [HeaderSize]byte // version 1, height 3, time 1648339200000, bits 14
	binary.BigEndian.PutUint32(h[0:], 1)
	binary.BigEndian.PutUint64(h[4:], 3)
	binary.BigEndian.PutUint64(h[76:], 1648339200000)
	binary.BigEndian.PutUint32(h[84:], 14)
	const bits = 14
	ms, err := New(&h)
	if err != nil {
		t.Fatal(err)
	}
	var hashes atomic.Uint64
	fast, err := ms.Search(context.Background(), bits, 0, 1, nil, &hashes)
	if err != nil {
		t.Fatal(err)
	}
	ms.fast = false
	for n := uint64(0); ; n++ {
		got, _ := ms.Hash(n)
		if zeroBits(got) >= bits {
			if n != fast {
				t.Fatalf("slow path finds nonce %d, Search %d", n, fast)
			}
			break
		}
	}
	binary.BigEndian.PutUint64(h[88:], fast)
	if zeroBits(sha256.Sum256(h[:])) < bits {
		t.Fatal("solved header fails its bits")
	}
	slow, err := ms.Search(context.Background(), bits, 0, 1, nil, &hashes)
	if err != nil || slow != fast {
		t.Fatalf("slow Search finds nonce %d (%v), fast %d", slow, err, fast)
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
		h := randHeader(r)
		ms, err := New(&h)
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
