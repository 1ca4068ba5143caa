package chain

import (
	"context"
	"encoding/binary"
	"errors"
	"math/big"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pycotr/pycotr/chain/internal/powsearch"
)

// MeetsBits reports whether h, read as a 256-bit big-endian number, has at
// least n leading zero bits.
func MeetsBits(h Hash, n uint32) bool {
	return LeadingZeroBits(h) >= n
}

// LeadingZeroBits counts the leading zero bits of h.
func LeadingZeroBits(h Hash) uint32 {
	var n uint32
	for i := 0; i < 32; i += 8 {
		w := binary.BigEndian.Uint64(h[i:])
		if w != 0 {
			return n + uint32(bits.LeadingZeros64(w))
		}
		n += 64
	}
	return n
}

// Work is the expected number of hashes to find a block with the given
// bits: 2^bits. Fork choice sums it along a branch.
func Work(b uint32) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(b))
}

// ErrNonceSpaceExhausted: every nonce was tried without success; the
// caller should build a new template (a new timestamp).
var ErrNonceSpaceExhausted = powsearch.ErrNonceSpaceExhausted

// Miner solves proof-of-work. The zero value uses one core.
type Miner struct {
	Workers int           // goroutines hashing in parallel; 0 = 1, <0 = all cores
	hashes  atomic.Uint64 // tries made, for hash-rate metrics
}

// Hashes returns the total number of tries made so far.
func (m *Miner) Hashes() uint64 { return m.hashes.Load() }

// Solve searches nonces from hdr.Nonce upward (each worker its own stride)
// until the header's hash meets hdr.Bits, and returns the solved header. It
// returns ctx.Err() promptly when ctx is cancelled.
func (m *Miner) Solve(ctx context.Context, hdr Header) (Header, error) {
	workers := m.Workers
	if workers < 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers <= 1 {
		n, err := m.search(ctx, hdr, hdr.Nonce, 1, nil)
		if err != nil {
			return hdr, err
		}
		hdr.Nonce = n
		return hdr, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		found atomic.Bool
		once  sync.Once
		nonce uint64
		ferr  error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(start uint64) {
			defer wg.Done()
			n, err := m.search(ctx, hdr, start, uint64(workers), &found)
			if err == nil {
				once.Do(func() { nonce = n; found.Store(true); cancel() })
			} else if !errors.Is(err, context.Canceled) || ctx.Err() == nil {
				once.Do(func() { ferr = err; cancel() })
			}
		}(hdr.Nonce + uint64(w))
	}
	wg.Wait()
	if found.Load() {
		hdr.Nonce = nonce
		return hdr, nil
	}
	if ferr != nil {
		return hdr, ferr
	}
	return hdr, ctx.Err()
}

func (m *Miner) search(ctx context.Context, hdr Header, start, stride uint64, found *atomic.Bool) (uint64, error) {
	enc := hdr.Encode()
	ms, err := powsearch.New(&enc)
	if err != nil {
		return 0, err
	}
	return ms.Search(ctx, hdr.Bits, start, stride, found, &m.hashes)
}

// SolveRange tries the nonces [hdr.Nonce, hdr.Nonce+tries) on one core and
// reports whether one solved the header. A hash-rate-limited miner (the
// race mode) calls it in small slices and sleeps between them.
func (m *Miner) SolveRange(ctx context.Context, hdr Header, tries uint64) (Header, bool, error) {
	enc := hdr.Encode()
	ms, err := powsearch.New(&enc)
	if err != nil {
		return hdr, false, err
	}
	n, ok, err := ms.Range(ctx, hdr.Bits, hdr.Nonce, tries, &m.hashes)
	if err != nil {
		return hdr, false, err
	}
	hdr.Nonce = n
	return hdr, ok, nil
}
