// Package powsearch is the proof-of-work search: it hashes a 96-byte block
// header for nonce after nonce as fast as this CPU allows. The rule it
// serves (a header's SHA-256 has at least n leading zero bits) is
// chain's; this package holds only the speed: the SHA-256 midstate of the
// header's first 64 bytes, and on amd64 with the SHA extensions an
// assembly loop (shani_amd64.s) that tries a batch of nonces with the
// midstate in registers.
//
// It imports only the standard library; chain.Miner is its one user.
package powsearch

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"sync/atomic"
)

// HeaderSize is the length of the headers searched; their last eight
// bytes are the nonce, big-endian.
const HeaderSize = 96

// ErrNonceSpaceExhausted: every nonce was tried without success; the
// caller should build a new template (a new timestamp).
var ErrNonceSpaceExhausted = errors.New("proof-of-work: nonce space exhausted")

// CancelCheckEvery is how many tries pass between cancellation checks: a
// channel select costs more than a SHA-256 compression.
const CancelCheckEvery = 1 << 14

// Midstate hashes the 96-byte header by restoring the SHA-256 state after
// its first 64 bytes and compressing one final 64-byte block: the last 32
// header bytes (merkle tail, timestamp, bits, nonce) plus the fixed padding.
// It is for one goroutine.
type Midstate struct {
	state [8]uint32 // SHA-256 state after the first 64 bytes
	fast  bool      // compress directly (hasSHANI), not through the digest
	saved []byte    // marshalled state after the first 64 bytes
	tail  [64]byte  // final block: header[64:96] + 0x80 + zeros + bit length
	h     hash.Hash // reused digest
	out   []byte
}

// New prepares the midstate of an encoded header.
func New(enc *[HeaderSize]byte) (*Midstate, error) {
	d := sha256.New()
	d.Write(enc[:64])
	saved, err := d.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("proof-of-work midstate: %w", err)
	}
	m := &Midstate{saved: saved, h: d, out: make([]byte, 0, 128), fast: hasSHANI}
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

// Hash is the SHA-256 of the header with the given nonce.
func (m *Midstate) Hash(nonce uint64) ([32]byte, error) {
	var h [32]byte
	if m.fast {
		st := m.tryState(nonce)
		for i, w := range st {
			binary.BigEndian.PutUint32(h[4*i:], w)
		}
		return h, nil
	}
	out, err := m.digest(nonce)
	if err != nil {
		return h, err
	}
	copy(h[:], out[4:36])
	return h, nil
}

// try hashes the header with the given nonce and returns the hash as the
// SHA-256 state words (big-endian: word 0 holds the hash's first four
// bytes).
func (m *Midstate) try(nonce uint64) ([8]uint32, error) {
	if m.fast {
		return m.tryState(nonce), nil
	}
	var st [8]uint32
	out, err := m.digest(nonce)
	if err != nil {
		return st, err
	}
	for i := range st {
		st[i] = binary.BigEndian.Uint32(out[4+4*i:])
	}
	return st, nil
}

// digest hashes the header with the given nonce off the SHA-NI path. The
// digest's state after a whole padded block is the SHA-256 result, read
// back through AppendBinary (bytes 4..36 of sha256's marshalled form),
// which skips Sum's copying and re-padding.
func (m *Midstate) digest(nonce uint64) ([]byte, error) {
	binary.BigEndian.PutUint64(m.tail[24:32], nonce)
	if err := m.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(m.saved); err != nil {
		return nil, err
	}
	m.h.Write(m.tail[:])
	var err error
	m.out, err = m.h.(encoding.BinaryAppender).AppendBinary(m.out[:0])
	return m.out, err
}

// tryState is try on the SHA-NI path.
func (m *Midstate) tryState(nonce uint64) [8]uint32 {
	binary.BigEndian.PutUint64(m.tail[24:32], nonce)
	st := m.state
	compressBlock(&st, &m.tail)
	return st
}

// stateZeroBits is the leading zero bits of the hash the state words spell.
func stateZeroBits(st *[8]uint32) uint32 {
	for i, w := range st {
		if w != 0 {
			return uint32(32*i + bits.LeadingZeros32(w))
		}
	}
	return 256
}

// Search tries the nonces start, start+stride, ... until a hash has at
// least need leading zero bits, and returns that nonce. It adds the tries
// it makes to hashes as it goes, returns ctx.Err() promptly when ctx is
// cancelled, and context.Canceled once found (if not nil) is set by
// another searcher.
func (m *Midstate) Search(ctx context.Context, need uint32, start, stride uint64, found *atomic.Bool, hashes *atomic.Uint64) (uint64, error) {
	if m.fast {
		return m.searchFast(ctx, need, start, stride, found, hashes)
	}
	done := ctx.Done()
	var tries uint64
	defer func() { hashes.Add(tries) }()
	for n := start; ; n += stride {
		st, err := m.try(n)
		if err != nil {
			return 0, err
		}
		tries++
		if stateZeroBits(&st) >= need {
			return n, nil
		}
		if tries%CancelCheckEvery == 0 {
			select {
			case <-done:
				return 0, ctx.Err()
			default:
			}
			hashes.Add(tries)
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

// searchFast is Search on the SHA-NI path: the assembly loop tries a
// batch of nonces with the midstate in registers and stops at the first
// whose hash's first word has enough leading zeros; a candidate is then
// checked in full (needed only above 32 bits).
func (m *Midstate) searchFast(ctx context.Context, need uint32, start, stride uint64, found *atomic.Bool, hashes *atomic.Uint64) (uint64, error) {
	done := ctx.Done()
	for n := start; ; {
		count := uint64(CancelCheckEvery)
		if after := (^uint64(0) - n) / stride; after < count-1 {
			count = after + 1 // never past the last nonce
		}
		k := searchBlocks(&m.state, &m.tail, n, stride, count, need)
		tries := min(k+1, count)
		hashes.Add(tries)
		if k < count {
			nonce := n + k*stride
			if st := m.tryState(nonce); stateZeroBits(&st) >= need {
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

// Range tries the nonces [start, start+tries) in order and returns the
// first whose hash has at least need leading zero bits (ok), or
// start+tries (not ok). It adds the tries it makes to hashes, and checks
// ctx every CancelCheckEvery tries.
func (m *Midstate) Range(ctx context.Context, need uint32, start, tries uint64, hashes *atomic.Uint64) (nonce uint64, ok bool, err error) {
	var done uint64
	defer func() { hashes.Add(done) }()
	for ; done < tries; done++ {
		if done%CancelCheckEvery == CancelCheckEvery-1 && ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		n := start + done
		st, err := m.try(n)
		if err != nil {
			return 0, false, err
		}
		if stateZeroBits(&st) >= need {
			done++
			return n, true, nil
		}
		if n == ^uint64(0) {
			return 0, false, ErrNonceSpaceExhausted
		}
	}
	return start + tries, false, nil
}
