package chain

import "context"

// SolveRange tries the nonces [hdr.Nonce, hdr.Nonce+tries) on one core and
// reports whether one solved the header. A hash-rate-limited miner (the
// race mode) calls it in small slices and sleeps between them.
func (m *Miner) SolveRange(ctx context.Context, hdr Header, tries uint64) (Header, bool, error) {
	ms, err := newMidstate(&hdr)
	if err != nil {
		return hdr, false, err
	}
	var done uint64
	defer func() { m.hashes.Add(done) }()
	start := hdr.Nonce
	for ; done < tries; done++ {
		if done%cancelCheckEvery == cancelCheckEvery-1 && ctx.Err() != nil {
			return hdr, false, ctx.Err()
		}
		n := start + done
		h, err := ms.try(n)
		if err != nil {
			return hdr, false, err
		}
		if LeadingZeroBits(h) >= hdr.Bits {
			done++
			hdr.Nonce = n
			return hdr, true, nil
		}
		if n == ^uint64(0) {
			return hdr, false, ErrNonceSpaceExhausted
		}
	}
	hdr.Nonce = start + tries
	return hdr, false, nil
}
