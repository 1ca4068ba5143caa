package chain

import (
	"errors"
	"math/big"
	"testing"
)

func retargetParams() *RetargetParams {
	return &RetargetParams{Every: 4, TargetBlockMillis: 1000, MaxStepBits: 2, MinBits: 2, MaxBits: 12}
}

func TestNextBits(t *testing.T) {
	r := retargetParams() // a window of 4 blocks should take 4 000 ms
	cases := []struct {
		name   string
		last   uint32
		actual int64
		want   uint32
	}{
		{"on target", 6, 4000, 6},
		{"a little fast (x1.3) keeps the bits", 6, 3077, 6},
		{"x1.45 fast is inside the dead band", 6, 2759, 6},
		{"x1.6 fast is outside it: one bit harder", 6, 2500, 7},
		{"x1.45 slow is inside the dead band", 6, 5800, 6},
		{"x1.6 slow: one bit easier", 6, 6400, 5},
		{"twice too fast: one bit harder", 6, 2000, 7},
		{"four times too fast: two bits harder", 6, 1000, 8},
		{"far too fast is clamped to +2", 6, 1, 8},
		{"zero time (equal timestamps) is clamped to +2", 6, 0, 8},
		{"twice too slow: one bit easier", 6, 8000, 5},
		{"far too slow is clamped to -2", 6, 10_000_000, 4},
		{"never below the floor", 3, 10_000_000, 2},
		{"never above the ceiling", 11, 1, 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.NextBits(c.last, c.actual); got != c.want {
				t.Fatalf("NextBits(%d, %d) = %d, want %d", c.last, c.actual, got, c.want)
			}
		})
	}
}

func retargetHarness(t *testing.T) *harness {
	return newHarness(t, func(c *Config) {
		c.Params.Bits = 4
		c.Params.Retarget = retargetParams()
	})
}

// mineAt extends the best chain with a block at the given timestamp and
// the bits the rule asks for.
func (h *harness) mineAt(ts int64) *Block {
	h.t.Helper()
	bits := h.c.NextBits()
	b := h.build(h.tipBlock(), addr(0), nil, func(b *Block) { b.Header.Timestamp = ts; b.Header.Bits = bits })
	h.mustProcess(b)
	return b
}

func TestRetargetFollowsTheWindow(t *testing.T) {
	h := retargetHarness(t)
	ts := h.gen.Header.Timestamp
	// Heights 1..3 keep the genesis bits; height 4 retargets from the
	// window genesis→3 (3 intervals of 250 ms + the first one).
	for i := 1; i <= 3; i++ {
		ts += 250
		if b := h.mineAt(ts); b.Header.Bits != 4 {
			t.Fatalf("height %d has bits %d before the first retarget", i, b.Header.Bits)
		}
	}
	// The window took 750 ms for an expected 4 000: ×5.3 too fast → +2.
	if got := h.c.NextBits(); got != 6 {
		t.Fatalf("bits after a fast window = %d, want 6", got)
	}
	if h.c.BlocksToRetarget() != 0 {
		t.Fatalf("BlocksToRetarget = %d before a retarget height", h.c.BlocksToRetarget())
	}
	ts += 250
	h.mineAt(ts) // height 4, bits 6
	// A slow window (heights 4..7 over 32 s, 8 s a block): -2 bits.
	for i := 5; i <= 7; i++ {
		ts += 8000
		h.mineAt(ts)
	}
	if got := h.c.NextBits(); got != 4 {
		t.Fatalf("bits after a slow window = %d, want 4", got)
	}
}

func TestBlockWithWrongBitsIsRejected(t *testing.T) {
	h := retargetHarness(t)
	ts := h.gen.Header.Timestamp
	for range 3 {
		ts += 250
		h.mineAt(ts)
	}
	want := h.c.NextBits()
	tip := h.c.Tip()
	for _, bits := range []uint32{want - 1, want + 1, h.p.Bits} {
		b := h.build(h.tipBlock(), addr(0), nil, func(b *Block) { b.Header.Timestamp = ts + 250; b.Header.Bits = bits })
		if _, err := h.c.ProcessBlock(b); !errors.Is(err, ErrBadBits) {
			t.Fatalf("bits %d (want %d): err = %v, want ErrBadBits", bits, want, err)
		}
	}
	if h.c.Tip().Hash != tip.Hash {
		t.Fatal("a rejected block moved the tip")
	}
}

func TestTimestampsCannotGameTheRule(t *testing.T) {
	h := retargetHarness(t)
	ts := h.gen.Header.Timestamp
	for range 3 {
		ts += 250
		h.mineAt(ts)
	}
	bits := h.c.NextBits()
	// Back-dating below the median of the last 11 blocks (to make a window
	// look long next time, or short now) is refused.
	old := h.build(h.tipBlock(), addr(0), nil, func(b *Block) { b.Header.Timestamp = h.gen.Header.Timestamp; b.Header.Bits = bits })
	if _, err := h.c.ProcessBlock(old); !errors.Is(err, ErrTimeTooOld) {
		t.Fatalf("back-dated block: %v, want ErrTimeTooOld", err)
	}
	// Far-future dating (to make the window look slow, lowering the
	// difficulty) is refused past the future bound.
	future := h.build(h.tipBlock(), addr(0), nil, func(b *Block) {
		b.Header.Timestamp = h.clock.Now().UnixMilli() + h.p.MaxFutureMillis + 1
		b.Header.Bits = bits
	})
	if _, err := h.c.ProcessBlock(future); !errors.Is(err, ErrTimeTooNew) {
		t.Fatalf("future block: %v, want ErrTimeTooNew", err)
	}
}

func TestWorkFollowsRealDifficulty(t *testing.T) {
	h := retargetHarness(t)
	ts := h.gen.Header.Timestamp
	for range 4 {
		ts += 100
		h.mineAt(ts)
	}
	// genesis (4) + three blocks of 4 bits + one of 6 bits.
	want := new(big.Int).Add(Work(4), Work(4))
	want.Add(want, Work(4))
	want.Add(want, Work(4))
	want.Add(want, Work(6))
	if got := h.c.Tip().Work; got.Cmp(want) != 0 {
		t.Fatalf("work %s, want %s", got, want)
	}
}

// TestRetargetAveragesWindowsOfTheSameBits: one fast window after three
// on target does not move the bits when the four are averaged, but a
// single fast window right after a change would.
func TestRetargetAveragesWindowsOfTheSameBits(t *testing.T) {
	h := retargetHarness(t) // windows of 4 blocks, 1 000 ms a block wanted
	ts := h.gen.Header.Timestamp
	for i := 1; i <= 3; i++ { // heights 1..3 at 250 ms: +2 bits at height 4
		ts += 250
		h.mineAt(ts)
	}
	for h.c.Height() < 15 { // heights 4..15 on target, all at 6 bits
		ts += 1000
		h.mineAt(ts)
	}
	if got := h.c.NextBits(); got != 6 {
		t.Fatalf("bits after windows on target = %d, want 6", got)
	}
	ts += 1000
	h.mineAt(ts)            // height 16 (a retarget height: still 6)
	for h.c.Height() < 19 { // heights 17..19: twice too fast
		ts += 400
		h.mineAt(ts)
	}
	// The last window alone (16 → 19 plus the step from 15) is 2.2x too fast
	// (+1 bit), but averaged with the three before at the same bits it is
	// within the dead band.
	if got := h.c.NextBits(); got != 6 {
		t.Fatalf("bits after one fast window among four = %d, want 6 (averaged)", got)
	}
}
