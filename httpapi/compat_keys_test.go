package httpapi

import (
	"errors"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

// The key ring returns the key chain.ParsePrivateKey would, keeps it for
// its idle time after each use, holds at most its size, and caches no
// failure.
func TestKeyRing(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := newKeyRing(2, time.Minute)
	r.now = func() time.Time { return now }

	k0, k1, k2 := testkit.Key(0), testkit.Key(1), testkit.Key(2)
	hex0 := chain.EncodePrivateKey(k0)
	first, addr, err := r.parse(hex0)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(k0) || addr != chain.AddressOf(&k0.PublicKey) {
		t.Fatal("parsed key or address differs from the sent key's")
	}
	now = now.Add(59 * time.Second)
	again, _, _ := r.parse(" " + hex0 + "\n") // the same key, as ParsePrivateKey trims it
	if again != first {
		t.Fatal("the same key within its idle time was parsed again")
	}
	now = now.Add(59 * time.Second) // 118 s after the first use, 59 s after the last
	if k, _, _ := r.parse(hex0); k != first {
		t.Fatal("a use did not extend the idle time")
	}
	now = now.Add(61 * time.Second)
	expired, _, err := r.parse(hex0)
	if err != nil || expired == first || !expired.Equal(k0) {
		t.Fatalf("after the idle time: same pointer %v, err %v; want a fresh parse", expired == first, err)
	}

	// Bounded: a third key pushes out the least recently used.
	if _, _, err := r.parse(chain.EncodePrivateKey(k1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.parse(chain.EncodePrivateKey(k2)); err != nil {
		t.Fatal(err)
	}
	if r.len() != 2 {
		t.Fatalf("ring holds %d keys, bound 2", r.len())
	}
	if k, _, _ := r.parse(hex0); k == expired {
		t.Fatal("the least recently used key was not pushed out")
	}

	// Bad keys are refused every time and never cached.
	for range 2 {
		if _, _, err := r.parse("zz" + hex0[2:]); !errors.Is(err, chain.ErrBadPrivateKey) {
			t.Fatalf("bad hex: %v, want ErrBadPrivateKey", err)
		}
	}
	if r.len() != 2 {
		t.Fatalf("a refused key changed the ring: %d entries", r.len())
	}
}
