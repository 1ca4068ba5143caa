package chain

import "sync"

// sigCache remembers the transactions whose signature a chain verified
// when they entered its mempool. A block's transactions were nearly all
// verified then, and verifying them again when the block arrives (or when
// the node mines its own block) would double a block's processing time,
// which is its propagation time. The key is the transaction's hash, which
// commits to every signed field (the sender included) and to the
// signature: a hit means these exact bytes verified before.
//
// It is kept per chain, not per process, so that nodes sharing a process
// (`pycotr up`, the tests, the benchmark) each verify for themselves.
type sigCache struct {
	mu       sync.Mutex
	cur, old map[Hash]struct{} // two generations: a full one becomes old
}

// sigCacheGeneration bounds each generation: at most twice this many
// entries (about 100 bytes each) are held.
const sigCacheGeneration = 1 << 16

func (s *sigCache) has(h Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[h]; ok {
		return true
	}
	_, ok := s.old[h]
	return ok
}

func (s *sigCache) add(h Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cur) >= sigCacheGeneration || s.cur == nil {
		s.old, s.cur = s.cur, make(map[Hash]struct{})
	}
	s.cur[h] = struct{}{}
}
