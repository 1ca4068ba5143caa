package chain

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func randHeader(r *rand.Rand) Header {
	h := Header{Version: r.Uint32(), Height: r.Uint64(), Timestamp: r.Int64(), Bits: r.Uint32(), Nonce: r.Uint64()}
	for i := range h.PrevHash {
		h.PrevHash[i] = byte(r.Uint32())
		h.MerkleRoot[i] = byte(r.Uint32())
	}
	return h
}

func TestHeaderEncodeDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		h := randHeader(r)
		enc := h.Encode()
		got, err := DecodeHeader(enc[:])
		if err != nil || got != h {
			t.Fatalf("round trip: %v", err)
		}
	}
	if _, err := DecodeHeader(make([]byte, 95)); !errors.Is(err, ErrMalformedBlock) {
		t.Fatal(err)
	}
}

func TestLeadingZeroBits(t *testing.T) {
	var h Hash
	if LeadingZeroBits(h) != 256 || !MeetsBits(h, 256) {
		t.Fatal("zero hash")
	}
	h[0] = 0x80
	if LeadingZeroBits(h) != 0 {
		t.Fatal("0x80")
	}
	h[0], h[9] = 0, 0x10 // 64 + 8 + 3
	if LeadingZeroBits(h) != 75 || !MeetsBits(h, 75) || MeetsBits(h, 76) {
		t.Fatal(LeadingZeroBits(h))
	}
	if Work(10).Int64() != 1024 {
		t.Fatal("work")
	}
}

func TestSolve(t *testing.T) {
	for _, workers := range []int{1, 2, -1} {
		m := &Miner{Workers: workers}
		hdr := Header{Version: 1, Height: 3, Timestamp: t0, Bits: 14, Nonce: 12345}
		got, err := m.Solve(context.Background(), hdr)
		if err != nil {
			t.Fatal(err)
		}
		if !MeetsBits(got.Hash(), 14) || got.Nonce < 12345 || m.Hashes() == 0 {
			t.Fatalf("workers %d: nonce %d hash %v", workers, got.Nonce, got.Hash())
		}
		got.Nonce = hdr.Nonce
		if got != hdr {
			t.Fatal("Solve changed more than the nonce")
		}
	}
}

func TestSolveCancelled(t *testing.T) {
	hdr := Header{Version: 1, Bits: 200}
	for _, workers := range []int{1, 2} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := (&Miner{Workers: workers}).Solve(ctx, hdr); !errors.Is(err, context.Canceled) {
			t.Fatalf("pre-cancelled, workers %d: %v", workers, err)
		}
		// cancel while it runs, once it has hashed
		m := &Miner{Workers: workers}
		ctx, cancel = context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := m.Solve(ctx, hdr); done <- err }()
		deadline := time.Now().Add(10 * time.Second)
		for m.Hashes() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no hashes")
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("workers %d: %v", workers, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Solve did not return after cancel")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := (&Miner{Workers: 2}).Solve(ctx, hdr); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
}

func TestSolveNonceExhausted(t *testing.T) {
	for _, workers := range []int{1, 2} {
		hdr := Header{Version: 1, Bits: 200, Nonce: math.MaxUint64 - 100}
		if _, err := (&Miner{Workers: workers}).Solve(context.Background(), hdr); !errors.Is(err, ErrNonceSpaceExhausted) {
			t.Fatalf("workers %d: %v", workers, err)
		}
	}
}
