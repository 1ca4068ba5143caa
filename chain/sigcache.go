package chain

import "github.com/pycotr/pycotr/chain/internal/generations"

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
	g generations.Map[Hash, struct{}]
}

// sigCacheGeneration bounds each generation: at most twice this many
// entries (about 100 bytes each) are held.
const sigCacheGeneration = 1 << 16

func (s *sigCache) has(h Hash) bool {
	_, ok := s.g.Get(h, sigCacheGeneration)
	return ok
}

func (s *sigCache) add(h Hash) { s.g.Put(h, struct{}{}, sigCacheGeneration) }
