package chain

import "github.com/pycotr/pycotr/chain/internal/generations"

// sigCache remembers signature verdicts by transaction hash, which commits
// to every signed field (the sender included) and to the signature: the
// verdict on these exact bytes cannot change.
//
// Good ones are those a chain verified when they entered its mempool. A
// block's transactions were nearly all verified then, and verifying them
// again when the block arrives (or when the node mines its own block)
// would double a block's processing time, which is its propagation time.
//
// Bad ones are the failures, so that a replayed bad transaction (or a
// block carrying one) costs a look-up instead of an RSA verification.
//
// It is kept per chain, not per process, so that nodes sharing a process
// (`pycotr up`, the tests, the benchmark) each verify for themselves.
type sigCache struct {
	good generations.Map[Hash, struct{}]
	bad  generations.Map[Hash, error]
}

// sigCacheGeneration bounds each generation of good verdicts: at most
// twice this many entries (about 100 bytes each) are held; badSigGeneration
// bounds the failures likewise.
const (
	sigCacheGeneration = 1 << 16
	badSigGeneration   = 1 << 14
)

func (s *sigCache) has(h Hash) bool {
	_, ok := s.good.Get(h, sigCacheGeneration)
	return ok
}

func (s *sigCache) add(h Hash) { s.good.Put(h, struct{}{}, sigCacheGeneration) }

// failed returns the error a transaction with hash h failed with before.
func (s *sigCache) failed(h Hash) (error, bool) { return s.bad.Get(h, badSigGeneration) }

func (s *sigCache) fail(h Hash, err error) { s.bad.Put(h, err, badSigGeneration) }
