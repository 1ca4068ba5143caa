package chain

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
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
var ErrNonceSpaceExhausted = errors.New("proof-of-work: nonce space exhausted")

// cancelCheckEvery is how many tries pass between cancellation checks: a
// channel select costs more than a SHA-256 compression.
const cancelCheckEvery = 1 << 14

// midstate hashes the 96-byte header by restoring the SHA-256 state after
// its first 64 bytes and compressing one final 64-byte block: the last 32
// header bytes (merkle tail, timestamp, bits, nonce) plus the fixed padding.
type midstate struct {
	state [8]uint32 // SHA-256 state after the first 64 bytes
	fast  bool      // compress directly (hasSHANI), not through the digest
	saved []byte    // marshalled state after the first 64 bytes
	tail  [64]byte  // final block: header[64:96] + 0x80 + zeros + bit length
	h     hash.Hash // reused digest
	out   []byte
}

func newMidstate(hdr *Header) (*midstate, error) {
	enc := hdr.Encode()
	d := sha256.New()
	d.Write(enc[:64])
	saved, err := d.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("proof-of-work midstate: %w", err)
	}
	m := &midstate{saved: saved, h: d, out: make([]byte, 0, 128), fast: hasSHANI}
	// sha256's marshalled form: a 4-byte magic, then the state words.
	if len(saved) < 36 {
		return nil, fmt.Errorf("proof-of-work midstate: marshalled state of %d bytes", len(saved))
	}
	for i := range m.state {
		m.state[i] = binary.BigEndian.Uint32(saved[4+4*i:])
	}
	copy(m.tail[:32], enc[64:])
	m.tail[32] = 0x80
	binary.BigEndian.PutUint64(m.tail[56:], HeaderSize*8)
	return m, nil
}

// try hashes the header with the given nonce. The digest's state after a
// whole padded block is the SHA-256 result, read back through AppendBinary
// (bytes 4..36 of sha256's marshalled form), which skips Sum's copying and
// re-padding.
func (m *midstate) try(nonce uint64) (Hash, error) {
	if m.fast {
		st := m.tryState(nonce)
		var h Hash
		for i, w := range st {
			binary.BigEndian.PutUint32(h[4*i:], w)
		}
		return h, nil
	}
	binary.BigEndian.PutUint64(m.tail[24:32], nonce)
	if err := m.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(m.saved); err != nil {
		return Hash{}, err
	}
	m.h.Write(m.tail[:])
	var err error
	m.out, err = m.h.(encoding.BinaryAppender).AppendBinary(m.out[:0])
	if err != nil {
		return Hash{}, err
	}
	var h Hash
	copy(h[:], m.out[4:36])
	return h, nil
}

// tryState is try on the SHA-NI path: the hash as the SHA-256 state words
// (big-endian: word 0 holds the hash's first four bytes).
func (m *midstate) tryState(nonce uint64) [8]uint32 {
	binary.BigEndian.PutUint64(m.tail[24:32], nonce)
	st := m.state
	compressBlock(&st, &m.tail)
	return st
}

// stateZeroBits is LeadingZeroBits of the hash the state words spell.
func stateZeroBits(st *[8]uint32) uint32 {
	for i, w := range st {
		if w != 0 {
			return uint32(32*i + bits.LeadingZeros32(w))
		}
	}
	return 256
}

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
	ms, err := newMidstate(&hdr)
	if err != nil {
		return 0, err
	}
	if ms.fast {
		return m.searchFast(ctx, ms, hdr.Bits, start, stride, found)
	}
	done := ctx.Done()
	var tries uint64
	defer func() { m.hashes.Add(tries) }()
	for n := start; ; n += stride {
		h, err := ms.try(n)
		if err != nil {
			return 0, err
		}
		tries++
		if LeadingZeroBits(h) >= hdr.Bits {
			return n, nil
		}
		if tries%cancelCheckEvery == 0 {
			select {
			case <-done:
				return 0, ctx.Err()
			default:
			}
			m.hashes.Add(tries)
			tries = 0
			if found != nil && found.Load() {
				return 0, context.Canceled
			}
		}
		if n > ^uint64(0)-stride {
			return 0, ErrNonceSpaceExhausted
		}
	}
}

// searchFast is search on the SHA-NI path: the assembly loop tries a
// batch of nonces with the midstate in registers and stops at the first
// whose hash's first word has enough leading zeros; a candidate is then
// checked in full (needed only above 32 bits).
func (m *Miner) searchFast(ctx context.Context, ms *midstate, need uint32, start, stride uint64, found *atomic.Bool) (uint64, error) {
	done := ctx.Done()
	for n := start; ; {
		count := uint64(cancelCheckEvery)
		if after := (^uint64(0) - n) / stride; after < count-1 {
			count = after + 1 // never past the last nonce
		}
		k := searchBlocks(&ms.state, &ms.tail, n, stride, count, need)
		tries := min(k+1, count)
		m.hashes.Add(tries)
		if k < count {
			nonce := n + k*stride
			if st := ms.tryState(nonce); stateZeroBits(&st) >= need {
				return nonce, nil
			}
		}
		last := n + (tries-1)*stride
		if last > ^uint64(0)-stride {
			return 0, ErrNonceSpaceExhausted
		}
		n = last + stride
		select {
		case <-done:
			return 0, ctx.Err()
		default:
		}
		if found != nil && found.Load() {
			return 0, context.Canceled
		}
	}
}
