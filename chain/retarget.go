package chain

import (
	"errors"
	"math/big"
)

// RetargetParams turn on difficulty retargeting (DESIGN §3, issue 9): every
// Every blocks, the bits of the next block are computed from how long the
// last window took against TargetBlockMillis × Every. Every node computes
// the same answer from the chain alone, so a block carrying other bits is
// rejected (ErrBadBits).
type RetargetParams struct {
	Every             uint64 `json:"every"`               // blocks per window
	TargetBlockMillis int64  `json:"target_block_millis"` // wanted time between blocks
	MaxStepBits       uint32 `json:"max_step_bits"`       // largest change per retarget: 2 = at most ×4 or ÷4 in work
	MinBits           uint32 `json:"min_bits"`            // the floor
	MaxBits           uint32 `json:"max_bits"`            // the ceiling
}

// Check reports parameters that cannot work.
func (r *RetargetParams) Check() error {
	switch {
	case r.Every < 2:
		return errors.New("retarget: every must be at least 2 blocks")
	case r.TargetBlockMillis < 1:
		return errors.New("retarget: target_block_millis must be positive")
	case r.MaxStepBits < 1 || r.MaxStepBits > 8:
		return errors.New("retarget: max_step_bits must be 1 to 8")
	case r.MinBits > r.MaxBits || r.MaxBits > 64:
		return errors.New("retarget: want min_bits <= max_bits <= 64")
	}
	return nil
}

// NextBits is the retarget rule for one window. Given the bits of the
// window's last block and the time the window took (the timestamp of its
// last block minus that of the block before its first), it returns the
// bits of the next block: the work per block scales by expected/actual,
// rounded to a whole bit (a block's work is 2^bits, so difficulty moves in
// powers of two), unchanged inside the dead band (a factor 1.5 either
// way), clamped to ±MaxStepBits and to [MinBits, MaxBits].
func (r *RetargetParams) NextBits(lastBits uint32, actualMillis int64) uint32 {
	return r.nextBits(lastBits, r.Every, actualMillis)
}

// nextBits is NextBits for a span of any number of block intervals. It is
// integer arithmetic only (a consensus rule must not depend on how a CPU
// rounds a logarithm): with E = expected and A = actual milliseconds,
//
//   - the dead band, |log2(E/A)| < log2(1.5), is 2E < 3A and 2A < 3E;
//   - otherwise, when E > A, step = round(log2(E/A)) is the largest k with
//     A²·4^k ≤ 2E² (log2(E/A) + ½ ≥ k); when A > E, step = −(the largest k
//     with E²·4^k ≤ 2A²). E/A is rational and 2^(k+½) is not, so no value
//     lies on a rounding boundary.
func (r *RetargetParams) nextBits(lastBits uint32, intervals uint64, actualMillis int64) uint32 {
	e := new(big.Int).Mul(big.NewInt(r.TargetBlockMillis), new(big.Int).SetUint64(intervals))
	a := big.NewInt(max(actualMillis, 1))
	var step int64
	two, three := big.NewInt(2), big.NewInt(3)
	inBand := new(big.Int).Mul(two, e).Cmp(new(big.Int).Mul(three, a)) < 0 &&
		new(big.Int).Mul(two, a).Cmp(new(big.Int).Mul(three, e)) < 0
	if !inBand {
		hi, lo, sign := e, a, int64(1) // harder: E > A
		if a.Cmp(e) > 0 {
			hi, lo, sign = a, e, -1
		}
		twiceHi2 := new(big.Int).Mul(hi, hi)
		twiceHi2.Lsh(twiceHi2, 1)
		lo2 := new(big.Int).Mul(lo, lo)
		k := int64(0)
		for k < int64(r.MaxStepBits) && new(big.Int).Lsh(lo2, uint(2*(k+1))).Cmp(twiceHi2) <= 0 {
			k++
		}
		step = sign * k // the loop stops at MaxStepBits: the clamp
	}
	next := int64(lastBits) + step
	next = max(int64(r.MinBits), min(int64(r.MaxBits), next))
	return uint32(next)
}

// maxSpanWindows is how many windows the retarget rule may average over.
const maxSpanWindows = 4

// requiredBits is the difficulty rule: the bits the child of parent must
// carry. Without retargeting it is the network's fixed bits. With it, the
// bits change only at heights that are multiples of Every. The time
// measured is that of the last window, extended back over up to
// maxSpanWindows windows as long as they were mined at the same bits: a
// longer span measures the hash rate more precisely (one 20-block window
// is off by ±22 % on its own) without mixing in blocks of another
// difficulty. Timestamps feeding the rule are bounded by the
// median-time-past rule below and the future bound above, so a miner
// cannot move them far.
func (c *Chain) requiredBits(parent *blockNode) uint32 {
	r := c.params.Retarget
	if r == nil {
		return c.params.Bits
	}
	height := parent.height + 1
	if height%r.Every != 0 {
		return parent.block.Header.Bits
	}
	bits := parent.block.Header.Bits
	first := parent
	for windows := 0; windows < maxSpanWindows && first.height > 0; windows++ {
		n, same := first, true
		for i := uint64(0); i < r.Every && n.height > 1; i++ {
			if n.block.Header.Bits != bits {
				same = false
				break
			}
			n = n.parent
		}
		if n == first || (windows > 0 && !same) {
			break
		}
		first = n
	}
	// The genesis block's timestamp is when the network was defined, not
	// when it started: spans begin at block 1 at the earliest.
	intervals := parent.height - first.height
	if intervals == 0 {
		return bits
	}
	return r.nextBits(bits, intervals, parent.block.Header.Timestamp-first.block.Header.Timestamp)
}

// NextBits returns the bits the next block on the best tip must carry.
func (c *Chain) NextBits() uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.requiredBits(c.main[len(c.main)-1])
}

// BlocksToRetarget is how many blocks remain until the next retarget, 0
// when retargeting is off.
func (c *Chain) BlocksToRetarget() uint64 {
	r := c.params.Retarget
	if r == nil {
		return 0
	}
	next := c.Height() + 1
	return (r.Every - next%r.Every) % r.Every
}
