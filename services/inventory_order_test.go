package services

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/pycotr/pycotr/chain"
)

// hashCmp must order as bytes.Compare: listings page by it.
func TestHashCmpIsBytesOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var a, b chain.Hash
	for i := range 20000 {
		for j := range a {
			a[j] = byte(r.IntN(3)) // small alphabet: long common prefixes
		}
		b = a
		if i%2 == 0 {
			b[r.IntN(len(b))] = byte(r.IntN(3))
		}
		if got, want := hashCmp(a, b), bytes.Compare(a[:], b[:]); got != want {
			t.Fatalf("hashCmp(%x, %x) = %d, bytes.Compare %d", a, b, got, want)
		}
	}
}
